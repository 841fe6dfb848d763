package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.Bytes;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.ReadIndexResponse;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A follower's linearizable read whose read index the leader confirmed, but whose entries up to that
 * index the follower has not received, must not wait for ever once the follower is cut off from its
 * leader: the read fails ({@link NotLeaderException}, retry elsewhere) within a few election
 * timeouts. It used to wait on the apply thread until the partition healed, however long that took.
 */
class FollowerReadCutOffTest {
    private static final int TICK_MILLIS = 10;
    private static final int ELECTION_TICKS = LocalCluster.STEADY_LEADER_ELECTION_TICKS;

    @Test
    void aConfirmedReadOnAFollowerCutOffBeforeItHasTheEntriesFailsInBoundedTime() throws Exception {
        InMemoryTransport network = new InMemoryTransport(7);
        String[] ids = {"n1", "n2", "n3"};
        Map<String, RaftNode<String>> nodes = new ConcurrentHashMap<>();
        Map<String, String> starved = new ConcurrentHashMap<>();
        AtomicBoolean cutOffAfterAnswer = new AtomicBoolean();
        AtomicInteger answersDelivered = new AtomicInteger();
        ForwardingTransport transport = new ForwardingTransport(network) {
            @Override
            public void send(RaftMessage m) {
                if (starved.containsKey(m.to()) && m instanceof AppendEntries ae && !ae.entries().isEmpty()) {
                    return; // heartbeats pass (it keeps its leader and answers), entries do not
                }
                super.send(m);
                if (m instanceof ReadIndexResponse && starved.containsKey(m.to())) {
                    answersDelivered.incrementAndGet();
                    if (cutOffAfterAnswer.get()) {
                        network.isolate(m.to()); // right behind the answer: nothing more reaches it
                    }
                }
            }
        };
        try {
            for (String id : ids) {
                RaftConfig config = RaftConfig.builder(id).initialMembers(ids).electionTimeoutTicks(ELECTION_TICKS).build();
                RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                        .transport(transport).storage(new InMemoryLogStorage()).tickMillis(TICK_MILLIS).build();
                nodes.put(id, node);
                node.start();
            }
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(new ArrayList<>(nodes.values()));
            RaftNode<String> follower = nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
            assertEquals("applied:a", leader.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(5), () -> follower.status().commitIndex() == leader.status().commitIndex());

            // "b" commits on the leader and the third node; the follower hears heartbeats, not "b".
            starved.put(follower.id(), "");
            assertEquals("applied:b", leader.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS));
            cutOffAfterAnswer.set(true);
            CompletableFuture<String> read = follower.query(Bytes.EMPTY);
            LocalCluster.await(Duration.ofSeconds(5), () -> answersDelivered.get() == 1);

            // Its read index covers "b", which can no longer reach it: the read must give up.
            long bound = 10L * ELECTION_TICKS * TICK_MILLIS;
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> read.get(bound, TimeUnit.MILLISECONDS));
            assertInstanceOf(NotLeaderException.class, failure.getCause());
        } finally {
            nodes.values().forEach(RaftNode::close);
            network.close();
        }
    }
}

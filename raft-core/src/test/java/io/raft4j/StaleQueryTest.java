package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.Bytes;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.ReadIndexResponse;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A stale query answers from what the node has applied, at once: it does not wait in line behind a
 * linearizable query that waits for entries this node has not received yet. It did: a follower
 * whose log lagged (catching up, or cut off from the leader's appends) answered no stale read until
 * it had caught up with the read index of the linearizable read asked before it.
 */
class StaleQueryTest {
    @ParameterizedTest(name = "applyOnLoop {0}")
    @ValueSource(booleans = {false, true})
    void aStaleQueryDoesNotWaitBehindALinearizableOneWaitingForEntries(boolean applyOnLoop) throws Exception {
        InMemoryTransport network = new InMemoryTransport(7);
        String[] ids = {"n1", "n2", "n3"};
        Map<String, String> starved = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicInteger readAnswersToStarved = new AtomicInteger();
        ForwardingTransport transport = new ForwardingTransport(network) {
            @Override
            public void send(RaftMessage m) {
                if (starved.containsKey(m.to()) && m instanceof AppendEntries ae && !ae.entries().isEmpty()) {
                    return; // heartbeats pass (it keeps its leader), entries do not
                }
                super.send(m); // delivered into the receiver's loop before this returns
                if (starved.containsKey(m.to()) && m instanceof ReadIndexResponse) {
                    readAnswersToStarved.incrementAndGet();
                }
            }
        };
        Map<String, LocalCluster.RecordingStateMachine> machines = new LinkedHashMap<>();
        List<RaftNode<String>> nodes = new ArrayList<>();
        try {
            for (String id : ids) {
                RaftConfig config = RaftConfig.builder(id).initialMembers(ids)
                        .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS).build();
                LocalCluster.RecordingStateMachine sm = new LocalCluster.RecordingStateMachine();
                machines.put(id, sm);
                RaftNode<String> node = RaftNode.builder(config, sm).transport(transport)
                        .storage(new WriterThreadStorage(new InMemoryLogStorage())).tickMillis(10)
                        .applyOnLoop(applyOnLoop).build();
                nodes.add(node);
                node.start();
            }
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(nodes);
            RaftNode<String> follower = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            assertEquals("applied:a", leader.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(5), () -> machines.get(follower.id()).applied.size() == 1
                    && leader.id().equals(follower.status().leaderId()));

            starved.put(follower.id(), "");
            assertEquals("applied:b", leader.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS));
            // Confirmed by the leader at an index the follower never receives: it waits.
            CompletableFuture<String> linearizable = follower.query(Bytes.EMPTY);
            LocalCluster.await(Duration.ofSeconds(5), () -> readAnswersToStarved.get() > 0);
            // A task on the follower's loop after the answer: by the time it ran, the loop had
            // handed the confirmed read to the applier.
            follower.followers().get(5, TimeUnit.SECONDS);

            assertEquals("1", follower.query(Bytes.EMPTY, ReadConsistency.STALE).get(5, TimeUnit.SECONDS));
            assertFalse(linearizable.isDone());

            starved.clear();
            assertEquals("2", linearizable.get(10, TimeUnit.SECONDS));
        } finally {
            nodes.forEach(RaftNode::close);
        }
    }
}

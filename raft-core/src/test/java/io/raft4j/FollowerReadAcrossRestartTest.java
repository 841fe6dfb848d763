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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A follower restarted in the same term asks for read indexes under request ids of its own, which
 * must not be those of its former run: a late answer to a read asked before the restart (its read
 * index taken back then) was taken for the answer to a new read under the same id, and the new
 * read missed a write acknowledged before it began. Every run numbered its reads from 1.
 */
class FollowerReadAcrossRestartTest {
    @Test
    void aLateAnswerToAReadOfTheFormerRunDoesNotServeANewRead() throws Exception {
        InMemoryTransport network = new InMemoryTransport(11);
        String[] ids = {"n1", "n2", "n3"};
        Map<String, InMemoryLogStorage> storages = new LinkedHashMap<>();
        Map<String, LocalCluster.RecordingStateMachine> machines = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, RaftNode<String>> nodes = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, String> starved = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicBoolean holdAnswers = new AtomicBoolean();
        List<ReadIndexResponse> held = new CopyOnWriteArrayList<>();
        ForwardingTransport transport = new ForwardingTransport(network) {
            @Override
            public void send(RaftMessage m) {
                if (starved.containsKey(m.to()) && m instanceof AppendEntries ae && !ae.entries().isEmpty()) {
                    return; // heartbeats pass (it keeps its leader), entries do not
                }
                if (holdAnswers.get() && starved.containsKey(m.to()) && m instanceof ReadIndexResponse r) {
                    held.add(r);
                    return;
                }
                super.send(m);
            }
        };
        java.util.function.Consumer<String> start = id -> {
            RaftConfig config = RaftConfig.builder(id).initialMembers(ids)
                    .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS).build();
            LocalCluster.RecordingStateMachine sm = new LocalCluster.RecordingStateMachine();
            machines.put(id, sm);
            RaftNode<String> node = RaftNode.builder(config, sm).transport(transport)
                    .storage(new WriterThreadStorage(storages.get(id))).tickMillis(10).build();
            nodes.put(id, node);
            node.start();
        };
        try {
            for (String id : ids) {
                storages.put(id, new InMemoryLogStorage());
                start.accept(id);
            }
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(new ArrayList<>(nodes.values()));
            String f = nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            assertEquals("applied:a", leader.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(5), () -> machines.get(f).applied.size() == 1
                    && leader.id().equals(nodes.get(f).status().leaderId()));

            // A read of the first run, whose answer (read index: "a" applied) is held up in the network.
            starved.put(f, "");
            holdAnswers.set(true);
            CompletableFuture<String> before = nodes.get(f).query(Bytes.EMPTY);
            LocalCluster.await(Duration.ofSeconds(5), () -> held.size() == 1);
            ReadIndexResponse late = held.remove(0);
            nodes.remove(f).close();
            assertEquals(true, before.isCompletedExceptionally());

            // Restarted in the same term; it applies "a" again but never receives "b".
            start.accept(f);
            LocalCluster.await(Duration.ofSeconds(5), () -> machines.get(f).applied.size() == 1
                    && leader.id().equals(nodes.get(f).status().leaderId()));
            assertEquals("applied:b", leader.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS));

            CompletableFuture<String> after = nodes.get(f).query(Bytes.EMPTY);
            LocalCluster.await(Duration.ofSeconds(5), () -> held.size() == 1);
            network.send(late); // the first run's answer arrives now
            nodes.get(f).followers().get(5, TimeUnit.SECONDS); // the loop has handled it
            holdAnswers.set(false);
            network.send(held.remove(0));
            starved.clear();
            // "b" was acknowledged before this read began: it must see it.
            assertEquals("2", after.get(10, TimeUnit.SECONDS));
        } finally {
            nodes.values().forEach(RaftNode::close);
        }
    }
}

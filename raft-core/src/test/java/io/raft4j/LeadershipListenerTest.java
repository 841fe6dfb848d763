package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LeadershipListener} on real nodes: with an apply thread and writer threads, and on lent
 * event loops that apply inline ({@code lentLoops}).
 */
class LeadershipListenerTest {

    @ParameterizedTest(name = "lentLoops={0}")
    @ValueSource(booleans = {false, true})
    void aNewLeaderStartsOnlyOnceEverythingCommittedBeforeItsTermIsApplied(boolean lentLoops) throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, b -> b, lentLoops)) {
            RaftNode<String> first = cluster.awaitLeader();
            long firstTerm = first.status().term();
            LocalCluster.await(Duration.ofSeconds(5),
                    () -> cluster.listeners.get(first.id()).notices.contains("started " + firstTerm + " at 0"));
            for (int i = 0; i < 20; i++) {
                first.propose(Bytes.ofUtf8("c" + i)).get(5, TimeUnit.SECONDS);
            }
            String target = cluster.nodes.keySet().stream().filter(id -> !id.equals(first.id())).findFirst().orElseThrow();
            LocalCluster.transferLeadership(first, target);
            RaftNode<String> second = cluster.nodes.get(target);
            LocalCluster.await(Duration.ofSeconds(5), second::isLeader);
            long secondTerm = second.status().term();

            // Its state machine had applied all 20 when it was told, though nothing was proposed since.
            LocalCluster.await(Duration.ofSeconds(5),
                    () -> cluster.listeners.get(target).notices.contains("started " + secondTerm + " at 20"));
            LocalCluster.await(Duration.ofSeconds(5),
                    () -> cluster.listeners.get(first.id()).notices.contains("stopped " + firstTerm + " at 20"));
            for (String id : cluster.nodes.keySet()) {
                LocalCluster.await(Duration.ofSeconds(5), () -> cluster.listeners.get(id).notices.stream()
                        .anyMatch(n -> n.startsWith("leader " + target + " " + secondTerm + " ")));
                assertPaired(cluster.listeners.get(id).notices);
            }
            assertEquals("applied:after", second.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest(name = "lentLoops={0}")
    @ValueSource(booleans = {false, true})
    void aLeaderThatStopsStopsItsLeadership(boolean lentLoops) throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, b -> b, lentLoops)) {
            RaftNode<String> leader = cluster.awaitLeader();
            long term = leader.status().term();
            leader.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS);
            LocalCluster.RecordingListener listener = cluster.listeners.get(leader.id());
            cluster.stop(leader.id());
            List<String> notices = listener.notices;
            assertEquals("stopped " + term + " at 1", notices.get(notices.size() - 1));
            assertPaired(notices);
        }
    }

    @ParameterizedTest(name = "lentLoops={0}")
    @ValueSource(booleans = {false, true})
    void aListenerThatThrowsIsLoggedAndTheNodeGoesOn(boolean lentLoops) throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, b -> b, lentLoops)) {
            RaftNode<String> first = cluster.awaitLeader();
            first.propose(Bytes.ofUtf8("before")).get(5, TimeUnit.SECONDS);
            cluster.listeners.values().forEach(l -> l.throwing = true);
            String target = cluster.nodes.keySet().stream().filter(id -> !id.equals(first.id())).findFirst().orElseThrow();
            LocalCluster.transferLeadership(first, target);
            RaftNode<String> second = cluster.nodes.get(target);
            LocalCluster.await(Duration.ofSeconds(5), second::isLeader); // its status() may lag the old leader's news
            long term = second.status().term();
            LocalCluster.await(Duration.ofSeconds(5),
                    () -> cluster.listeners.get(target).notices.contains("started " + term + " at 1"));
            assertEquals("applied:after", second.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(5), () -> cluster.stateMachines.values().stream()
                    .allMatch(sm -> sm.applied.equals(List.of("before", "after"))));
            for (RaftNode<String> node : cluster.nodes.values()) {
                assertEquals(null, node.failure());
            }
        }
    }

    /**
     * A listener may look at the node it is told about (a guard such as "stop the leader's scheduler
     * unless isLeader()"). The node updated its status only at the end of the batch whose role change
     * it announced: with the notices on the loop, leaderStopped found isLeader() still true, and
     * leaderChanged named a new leader while status() still said candidate, or the old leader; with an
     * apply thread the same, whenever it was quicker than the loop. The last leaderStopped, on close,
     * came before the stopped status too.
     */
    @ParameterizedTest(name = "lentLoops={0}")
    @ValueSource(booleans = {false, true})
    void aListenerFindsTheNodesStatusSayingWhatItIsTold(boolean lentLoops) throws Exception {
        List<String> contradictions = new CopyOnWriteArrayList<>();
        List<String> stopped = new CopyOnWriteArrayList<>();
        Map<String, RaftNode<String>> nodes = new ConcurrentHashMap<>();
        List<String> ids = List.of("n1", "n2", "n3");
        try (InMemoryTransport network = new InMemoryTransport();
             LoopLendingTransport lending = new LoopLendingTransport(network)) {
            for (String id : ids) {
                LeadershipListener checking = new LeadershipListener() {
                    @Override
                    public void leaderStopped(long term) {
                        NodeStatus status = nodes.get(id).status();
                        stopped.add(id + " " + term);
                        if (nodes.get(id).isLeader() && status.term() == term) {
                            contradictions.add(id + ": leaderStopped(" + term + ") but " + status);
                        }
                    }

                    @Override
                    public void leaderChanged(String leaderId, long term) {
                        NodeStatus status = nodes.get(id).status();
                        if (leaderId != null && status.term() == term && !leaderId.equals(status.leaderId())) {
                            contradictions.add(id + ": leaderChanged(" + leaderId + ", " + term + ") but " + status);
                        }
                    }
                };
                RaftConfig config = RaftConfig.builder(id).initialMembers(ids.toArray(String[]::new))
                        .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS).build();
                nodes.put(id, RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                        .transport(lentLoops ? lending : network).storage(new InMemoryLogStorage())
                        .applyOnLoop(lentLoops).leadershipListener(checking).tickMillis(10).build());
            }
            nodes.values().forEach(RaftNode::start);
            try {
                RaftNode<String> first = LocalCluster.awaitSettledLeader(nodes.values());
                first.propose(Bytes.ofUtf8("x")).get(10, TimeUnit.SECONDS);
                String target = ids.stream().filter(id -> !id.equals(first.id())).findFirst().orElseThrow();
                LocalCluster.transferLeadership(first, target);
                LocalCluster.await(Duration.ofSeconds(10),
                        () -> stopped.stream().anyMatch(s -> s.startsWith(first.id() + " ")));
                RaftNode<String> second = LocalCluster.awaitSettledLeader(nodes.values());
                LocalCluster.retryingNotLeader(() -> second.propose(Bytes.ofUtf8("y"))); // its leadership started
            } finally {
                nodes.values().forEach(RaftNode::close);
            }
            assertTrue(stopped.size() >= 2, "each leadership stopped: " + stopped);
            assertEquals(List.of(), contradictions);
        }
    }

    /**
     * With applyOnLoop, the last leaderStopped comes on the thread closing the node, from within that
     * close(). A listener that closed the node there too (as it might on any loss of leadership) made
     * the stop count as finished: whenStopped() completed before the close it was part of had waited
     * for the snapshot being written, or failed what still waited; a process exiting on it cut that short.
     */
    @Test
    void aListenerClosingTheNodeDuringItsCloseDoesNotCompleteWhenStoppedEarly() throws Exception {
        GatedStateMachine sm = new GatedStateMachine();
        AtomicReference<RaftNode<String>> self = new AtomicReference<>();
        LeadershipListener closingOnStop = new LeadershipListener() {
            @Override
            public void leaderStopped(long term) {
                self.get().close();
                sm.release(); // only now may the snapshot the stop waits for be written
            }
        };
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                    .applyOnLoop(true).leadershipListener(closingOnStop).tickMillis(10).build();
            self.set(node);
            node.start();
            LocalCluster.retryingNotLeader(() -> node.propose(Bytes.ofUtf8("a")));
            CompletableFuture<SnapshotMeta> snapshot = node.takeSnapshot();
            LocalCluster.await(Duration.ofSeconds(10), () -> sm.views.get() == 1); // being written, at the gate
            CompletableFuture<Boolean> snapshotDoneAtStop = node.whenStopped().thenApply(stopped -> snapshot.isDone());

            node.close();

            assertTrue(snapshotDoneAtStop.get(10, TimeUnit.SECONDS), "whenStopped() completed before the stop did");
        }
    }

    /** Started and stopped alternate, for the same term, starting with a start. */
    private static void assertPaired(List<String> notices) {
        String open = null;
        for (String notice : notices) {
            String[] words = notice.split(" ");
            if (words[0].equals("started")) {
                assertEquals(null, open, "started while " + open + " was not stopped: " + notices);
                open = words[1];
            } else if (words[0].equals("stopped")) {
                assertTrue(words[1].equals(open), "stopped " + words[1] + " while started was " + open + ": " + notices);
                open = null;
            }
        }
    }
}

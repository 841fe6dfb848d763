package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.Role;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node closed from a callback its own loop runs (a LeadershipListener with applyOnLoop, or a future
 * the loop completes) cannot wait for its loop to stop: the rest of the batch the loop was handling
 * used to run on, and its status update wrote the core's role back over the stopped status, so the
 * stopped node said it led, for ever (found by a second reader).
 */
class StopFromTheLoopTest {

    @Test
    void aNodeClosedFromItsLeaderStartedNoticeOnTheLoopDoesNotSayItLeads() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        AtomicReference<RaftNode<String>> self = new AtomicReference<>();
        StateMachine<String> sm = (index, command) -> "ok";
        LeadershipListener closeOnLeading = new LeadershipListener() {
            @Override
            public void leaderStarted(long term) {
                self.get().close(); // e.g. "this process must never lead": hand off by stopping
            }
        };
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                .leadershipListener(closeOnLeading).applyOnLoop(true).runOnTransportLoop(false).tickMillis(10).build();
        self.set(node);
        node.start();
        try {
            node.whenStopped().get(10, TimeUnit.SECONDS);
            // Wait for the loop thread to end: whatever it still did after the stop is then done.
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("raft-loop-") && t.getName().contains("solo")) {
                    t.join(10_000);
                }
            }
            assertFalse(node.isLeader(), "a stopped node leads nothing");
            assertEquals(Role.FOLLOWER, node.status().role());
        } finally {
            node.close();
            network.close();
        }
    }

    /**
     * The loop runs the actions of every wait that became due together (here two membership changes
     * that waited for the new leader's first commit) one after the other. One failed, and its
     * caller's callback closed the node, which failed every wait still registered; the next action
     * ran all the same, on the stopped node: it proposed its change and registered for its apply,
     * which never came, so its future never completed.
     */
    @Test
    void aWaitDueTogetherWithOneWhoseCallbackClosedTheNodeFailsInsteadOfRunningOnTheStoppedNode()
            throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        ApplierFailureTest.NoopGatedStorage storage = new ApplierFailureTest.NoopGatedStorage(new InMemoryLogStorage());
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                .storage(storage).runOnTransportLoop(false).tickMillis(10).build();
        node.start();
        try {
            assertTrue(storage.blocked.await(10, TimeUnit.SECONDS), "elected, its no-op being written");
            // Both wait for the leader's first commit, in this order; the first is refused then.
            CompletableFuture<ClusterConfig> refused = node.changeMembership(ClusterConfig.EMPTY);
            refused.whenComplete((c, e) -> node.close());
            CompletableFuture<ClusterConfig> added = node.addLearner("n2", "");
            CompletableFuture<String> known = node.whenLeaderKnown();
            known.get(10, TimeUnit.SECONDS); // both calls have run on the loop and wait
            assertFalse(refused.isDone());

            storage.gate.countDown();

            // Not refused.get() first: a thread waiting in get() may run the callback itself, off the loop.
            node.whenStopped().get(10, TimeUnit.SECONDS);
            ExecutionException e = assertThrows(ExecutionException.class, () -> added.get(10, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, e.getCause());
            e = assertThrows(ExecutionException.class, () -> refused.get(10, TimeUnit.SECONDS));
            assertInstanceOf(MembershipChangeException.class, e.getCause());
        } finally {
            storage.gate.countDown();
            node.close();
            network.close();
        }
    }
}

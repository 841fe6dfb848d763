package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proposals and reads a caller fires without waiting for them, while the node's loop is held up (a
 * slow sync on the loop, a GC pause, a slow callback), are bounded where they are made: beyond the
 * bound they fail at once with {@link OverloadedException}. Checked only when the loop stepped them,
 * they queued for the loop without end, each proposal's bytes held.
 */
class QueuedCallsBoundTest {
    private final CountDownLatch stalled = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean armed;
    private final InMemoryTransport network = new InMemoryTransport();
    private RaftNode<String> node;

    /** Storage written on the loop that, once armed, holds the loop in its next write until released. */
    private final ForwardingStorage stallingStorage = new ForwardingStorage(new InMemoryLogStorage()) {
        @Override
        public boolean writesWithoutBlocking() {
            return true;
        }

        @Override
        public void append(List<LogEntry> entries, HardState hs) {
            if (armed && !entries.isEmpty()) {
                stalled.countDown();
                LocalCluster.holdUntil(release);
            }
            super.append(entries, hs);
        }
    };

    @AfterEach
    void tearDown() {
        release.countDown();
        if (node != null) {
            node.close();
        }
        network.close();
    }

    /** Starts a single-node group and holds its loop in the write of one proposal. */
    private void startLeaderAndStallIt(RaftConfig config) throws Exception {
        node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                .storage(stallingStorage).runOnTransportLoop(false).tickMillis(10).build();
        node.start();
        node.whenLeaderKnown().get(10, TimeUnit.SECONDS);
        assertEquals("applied:first", node.propose(Bytes.ofUtf8("first")).get(10, TimeUnit.SECONDS));
        armed = true;
        node.propose(Bytes.ofUtf8("stall"));
        assertTrue(stalled.await(10, TimeUnit.SECONDS), "the loop never wrote the proposal");
    }

    private static boolean refusedAsOverloaded(CompletableFuture<?> f) {
        if (!f.isCompletedExceptionally()) {
            return false;
        }
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(OverloadedException.class, e.getCause());
        return true;
    }

    @Test
    void proposalsFiredAtAStalledLoopAreRefusedBeyondTheUncommittedBudget() throws Exception {
        long budget = 16 << 10;
        startLeaderAndStallIt(RaftConfig.builder("a").initialMembers("a").maxEntryBytes(1024)
                .maxUncommittedBytes(budget).build());
        Bytes command = Bytes.wrap(new byte[1000]);
        int fired = 1000;
        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < fired; i++) {
            futures.add(node.propose(command));
        }
        long queued = node.queuedLoopTasks();
        long mostThatFit = budget / (command.length() + 128);
        // A few tasks besides the proposals may wait too (the apply thread waking the loop).
        assertTrue(queued <= mostThatFit + 4, "tasks waiting for the stalled loop: " + queued + " after " + fired
                + " proposals, at most " + mostThatFit + " fit in maxUncommittedBytes " + budget);
        long refused = futures.stream().filter(QueuedCallsBoundTest::refusedAsOverloaded).count();
        assertEquals(mostThatFit, fired - refused, "proposals let through to the loop; the others failed at once");
        assertEquals((fired - refused) * (command.length() + 128), node.queuedProposalBytes());
        assertEquals(refused, node.stats().proposalsRefusedOverloaded());

        release.countDown();
        for (CompletableFuture<String> f : futures) {
            if (!f.isCompletedExceptionally()) {
                assertTrue(f.get(10, TimeUnit.SECONDS).startsWith("applied:"));
            }
        }
        assertEquals(0, node.queuedProposalBytes());
        assertEquals("applied:after", node.propose(Bytes.ofUtf8("after")).get(10, TimeUnit.SECONDS),
                "the room of the proposals stepped is free again");
    }

    @Test
    void readsFiredAtAStalledLoopAreRefusedBeyondTheirBound() throws Exception {
        RaftConfig config = RaftConfig.builder("a").initialMembers("a").build();
        int bound = config.maxQueuedReads();
        startLeaderAndStallIt(config);
        int fired = bound + 10_000;
        List<CompletableFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < fired; i++) {
            futures.add(node.query(Bytes.EMPTY, i % 2 == 0 ? ReadConsistency.LINEARIZABLE : ReadConsistency.STALE));
        }
        long queued = node.queuedLoopTasks();
        assertTrue(queued <= bound + 4, "tasks waiting for the stalled loop: " + queued + " after " + fired
                + " reads, bound " + bound);
        long refused = futures.stream().filter(QueuedCallsBoundTest::refusedAsOverloaded).count();
        assertEquals(bound, fired - refused, "reads let through to the loop; the others failed at once");
        assertEquals(bound, node.queuedReads());
        assertEquals(refused, node.stats().readsRefusedOverloaded(), "reads refused as overloaded, counted");

        release.countDown();
        for (CompletableFuture<String> f : futures) {
            if (!f.isCompletedExceptionally()) {
                f.get(10, TimeUnit.SECONDS);
            }
        }
        assertEquals(0, node.queuedReads(), "the room of the reads stepped is free again");
        assertEquals("2", node.query(Bytes.EMPTY).get(10, TimeUnit.SECONDS));
    }

    @Test
    void adminCallsFiredAtAStalledLoopAreRefusedBeyondTheirBound() throws Exception {
        startLeaderAndStallIt(RaftConfig.builder("a").initialMembers("a").build());
        int bound = RaftNode.MAX_QUEUED_ADMIN_CALLS;
        int fired = bound + 1000;
        List<CompletableFuture<?>> futures = new ArrayList<>();
        for (int i = 0; i < fired; i++) {
            futures.add(switch (i % 10) {
                case 0 -> node.whenLeaderKnown();
                case 1 -> node.followers();
                case 2 -> node.takeSnapshot();
                case 3 -> node.transferLeadership();
                case 4 -> node.transferLeadership("b");
                case 5 -> node.addLearner("b", "");
                case 6 -> node.addVoter("b", "");
                case 7 -> node.promote("b");
                case 8 -> node.removeMember("b");
                default -> node.changeMembership(node.status().config());
            });
        }
        long queued = node.queuedLoopTasks();
        List<CompletableFuture<?>> refusedAtOnce = futures.stream().filter(QueuedCallsBoundTest::refusedAsOverloaded).toList();
        long refused = refusedAtOnce.size();
        assertTrue(queued <= bound + 4, "tasks waiting for the stalled loop: " + queued + " after " + fired
                + " admin calls (" + refused + " refused), bound " + bound);
        assertEquals(bound, fired - refused, "admin calls let through to the loop; the others failed at once");
        assertEquals(refused, node.stats().adminCallsRefusedOverloaded(), "each refusal counted");
        ExecutionException last = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                futures.get(fired - 1)::get);
        assertTrue(last.getCause().getMessage().contains(bound + " admin calls"), last.getCause().getMessage());

        release.countDown();
        for (int i = 0; i < fired; i++) {
            CompletableFuture<?> f = futures.get(i);
            if (refusedAtOnce.contains(f)) {
                continue;
            }
            if (i % 10 == 6) {
                // addVoter waits for its learner, which never answers: given up on here.
                f.cancel(false);
            }
            // Each call let through is answered, one way or another (b is no member, or no other
            // voter answers): none refused as overloaded once it was taken.
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertFalse(e.getCause() instanceof OverloadedException, "refused once taken: " + e.getCause());
            } catch (java.util.concurrent.CancellationException e) {
                assertEquals(6, i % 10, "call cancelled");
            }
        }
        assertEquals(0, node.queuedAdminCalls(), "the room of the calls taken up is free again");
        assertEquals("a", node.whenLeaderKnown().get(10, TimeUnit.SECONDS));
    }

    @Test
    void aNodeStoppedWithItsBoundsFullSaysItStoppedNotThatItIsOverloaded() throws Exception {
        startLeaderAndStallIt(RaftConfig.builder("a").initialMembers("a").maxEntryBytes(1024)
                .maxUncommittedBytes(16 << 10).build());
        Bytes command = Bytes.wrap(new byte[1000]);
        while (!node.propose(command).isCompletedExceptionally()) {
            // fills the proposals' room
        }
        while (!node.query(Bytes.EMPTY).isCompletedExceptionally()) {
            // fills the reads' room
        }
        Thread closer = new Thread(node::close, "closer");
        closer.start();
        try {
            // Once an admin call fails at once as stopped, the node refuses every call (those made
            // before that may fill the admin calls' room: refused as overloaded, they are ignored).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(node.followers().handle((v, e) -> e instanceof RaftStoppedException).getNow(false))) {
                assertTrue(System.nanoTime() < deadline, "the node never began to stop");
                Thread.onSpinWait();
            }
            assertTrue(stoppedAtOnce(node.propose(command)), "a proposal on the stopped node");
            assertTrue(stoppedAtOnce(node.query(Bytes.EMPTY)), "a read on the stopped node");
        } finally {
            release.countDown();
            closer.join(30_000);
        }
    }

    private static boolean stoppedAtOnce(CompletableFuture<?> f) {
        if (!f.isCompletedExceptionally()) {
            return false;
        }
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        assertInstanceOf(RaftStoppedException.class, e.getCause());
        return true;
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Futures of the apply path that must complete when a user state machine throws. */
class ApplierFailureTest {

    /** A state machine whose snapshot() throws (a bug in the user's code, or an I/O error surfacing unchecked). */
    static final class SnapshotThrowing implements StateMachine<String> {
        @Override
        public String apply(long index, Bytes command) {
            return "ok";
        }

        @Override
        public Snapshot snapshot() {
            throw new IllegalStateException("user snapshot() bug");
        }
    }

    @Test
    void takeSnapshotFutureCompletesWhenStateMachineSnapshotThrows() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        RaftNode<String> node = RaftNode.builder(config, new SnapshotThrowing()).transport(network)
                .storage(new InMemoryLogStorage()).tickMillis(10).build();   // default: own apply thread
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            node.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS);
            CompletableFuture<SnapshotMeta> snap = node.takeSnapshot();
            LocalCluster.await(Duration.ofSeconds(10), snap::isDone);
            assertTrue(snap.isCompletedExceptionally());
            // The node goes on (every replica would reach the same bug at about the same entry).
            assertEquals("ok", node.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS));
            assertEquals(null, node.failure());
            assertEquals(1, node.stats().snapshotsFailed());
        } finally {
            node.close();
            network.close();
        }
    }

    /** Blocks appends carrying a NOOP (a new leader's first entry) while armed. */
    static final class NoopGatedStorage extends ForwardingStorage {
        final CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch blocked = new CountDownLatch(1);

        NoopGatedStorage(LogStorage delegate) {
            super(delegate);
        }

        @Override
        public void append(List<LogEntry> entries, HardState hardState) {
            if (entries.stream().anyMatch(e -> e.type() == EntryType.NOOP)) {
                blocked.countDown();
                try {
                    gate.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            super.append(entries, hardState);
        }

        @Override public boolean writesWithoutBlocking() { return false; }
    }

    /**
     * A snapshot whose writing fails (the state machine's {@code writeTo} throws, or the store fails)
     * fails the caller's request and is counted, and the node goes on with its log uncompacted; the
     * next snapshot succeeds. The node used to stop, so a bug in {@code writeTo} stopped every replica
     * at about the same entry, automatic snapshots being taken at the same interval everywhere.
     */
    @Test
    void aSnapshotWhoseWritingFailsDoesNotStopTheNode() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failWrites = new java.util.concurrent.atomic.AtomicBoolean(true);
        StateMachine<String> sm = new StateMachine<>() {
            @Override
            public String apply(long index, Bytes command) {
                return "ok";
            }

            @Override
            public Snapshot snapshot() {
                return out -> {
                    if (failWrites.get()) {
                        throw new java.io.IOException("disk gone");
                    }
                    out.write(1);
                };
            }
        };
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").snapshotEveryEntries(5).build();
        RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                .tickMillis(10).build();
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            for (int i = 0; i < 12; i++) {
                assertEquals("ok", node.propose(Bytes.ofUtf8("a" + i)).get(5, TimeUnit.SECONDS));
            }
            java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> node.takeSnapshot().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("failed"), e.getCause().toString());
            assertTrue(node.stats().snapshotsFailed() >= 2, "automatic ones and the request: " + node.stats());
            assertEquals(null, node.failure());
            failWrites.set(false);
            SnapshotMeta meta = node.takeSnapshot().get(5, TimeUnit.SECONDS);
            assertTrue(meta.lastIndex() >= 13);
            assertEquals("ok", node.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS));
        } finally {
            node.close();
            network.close();
        }
    }

    /** Throws on every apply: a state machine bug that only shows after a restart (e.g. a new version). */
    static final class ApplyThrowing implements StateMachine<String> {
        @Override
        public String apply(long index, Bytes command) {
            throw new IllegalStateException("user apply() bug at " + index);
        }

        @Override
        public String query(Bytes query) {
            return "q";
        }
    }

    /**
     * A leader whose state machine throws stops: its listener is told its leadership stopped (started
     * and stopped pair up, whatever stops the node), and it no longer says it leads. The notice used
     * to go to the apply thread the failure had ended, and never arrive; and {@code isLeader()} and
     * {@code status()} kept the last role seen before the stop, for ever.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "applyOnLoop={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aLeaderStoppedByAFailingApplyIsToldItsLeadershipStoppedAndNoLongerSaysItLeads(boolean applyOnLoop)
            throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        LocalCluster.StartStopNotices listener = new LocalCluster.StartStopNotices();
        List<String> notices = listener.notices;
        StateMachine<String> failsOnBoom = new StateMachine<>() {
            @Override
            public String apply(long index, Bytes command) {
                if (command.toUtf8().equals("boom")) {
                    throw new IllegalStateException("user apply() bug at " + index);
                }
                return "ok";
            }

            @Override
            public String query(Bytes query) {
                return "q";
            }
        };
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        RaftNode<String> node = RaftNode.builder(config, failsOnBoom).transport(network).storage(new InMemoryLogStorage())
                .leadershipListener(listener).applyOnLoop(applyOnLoop).tickMillis(10).build();
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), () -> notices.size() == 1);
            long term = node.status().term();
            assertEquals(List.of("started " + term), notices);
            node.propose(Bytes.ofUtf8("boom"));
            node.whenStopped().get(10, TimeUnit.SECONDS);
            assertTrue(node.failure() != null);
            assertEquals(List.of("started " + term, "stopped " + term), notices);
            assertTrue(!node.isLeader(), "a stopped node leads nothing");
            assertEquals(io.raft4j.core.Role.FOLLOWER, node.status().role());
            assertEquals(null, node.status().leaderId());
        } finally {
            node.close();
            network.close();
        }
    }

    /**
     * A linearizable read confirmed in the same batch as committed entries whose apply throws: the
     * node stops, but the read's future must still fail (RaftNode's contract: every pending future
     * fails with RaftStoppedException).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "applyOnLoop={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void readConfirmedWithEntriesWhoseApplyThrowsStillCompletes(boolean applyOnLoop) throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        InMemoryLogStorage log = new InMemoryLogStorage();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        RaftNode<String> first = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                .storage(log).tickMillis(10).build();
        first.start();
        LocalCluster.await(Duration.ofSeconds(5), first::isLeader);
        first.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS);
        first.close();

        NoopGatedStorage gated = new NoopGatedStorage(log.reopen());
        RaftNode<String> node = RaftNode.builder(config, new ApplyThrowing()).transport(network)
                .storage(gated).applyOnLoop(applyOnLoop).tickMillis(10).build();
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            assertTrue(gated.blocked.await(5, TimeUnit.SECONDS));
            // The new leader has not committed in its term: the read waits for its no-op and is
            // confirmed together with the commit of everything before it, "x" included.
            CompletableFuture<String> read = node.query(Bytes.ofUtf8("q"));
            node.followers().get(5, TimeUnit.SECONDS); // a barrier: the loop has run the read's task
            assertTrue(!read.isDone(), "the read waits for the no-op");
            gated.gate.countDown();
            LocalCluster.await(Duration.ofSeconds(5), () -> node.failure() != null);
            LocalCluster.await(Duration.ofSeconds(10), read::isDone);
            assertTrue(read.isCompletedExceptionally());
        } finally {
            gated.gate.countDown();
            node.close();
            network.close();
        }
    }

    /**
     * close() lets the apply thread finish the applies handed to it. One of them that threw was
     * dropped without a word: the node was stopping, so its failure was neither logged nor kept, and
     * failure() said the close was clean. A bug in the state machine went unseen.
     */
    @Test
    void anApplyThatThrowsWhileTheNodeClosesIsTheNodesFailure() throws Exception {
        CountDownLatch applying = new CountDownLatch(1);
        CountDownLatch closing = new CountDownLatch(1);
        IllegalStateException bug = new IllegalStateException("a bug in apply");
        StateMachine<String> sm = (index, command) -> {
            if (command.toUtf8().equals("boom")) {
                applying.countDown();
                try {
                    closing.await(20, TimeUnit.SECONDS); // until close() has begun
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw bug;
            }
            return "ok";
        };
        try (InMemoryTransport network = new InMemoryTransport()) {
            io.raft4j.spi.Transport watched = new ForwardingTransport(network) {
                @Override
                public void unregister(String groupId, String localId) {
                    super.unregister(groupId, localId);
                    closing.countDown(); // the first thing close() does
                }
            };
            RaftNode<String> node = RaftNode.builder(RaftConfig.builder("solo").initialMembers("solo").build(), sm)
                    .transport(watched).storage(new InMemoryLogStorage()).tickMillis(10).build();
            node.start();
            LocalCluster.retryingNotLeader(() -> node.propose(Bytes.ofUtf8("a")));
            node.propose(Bytes.ofUtf8("boom"));
            assertTrue(applying.await(10, TimeUnit.SECONDS));

            node.close();

            assertSame(bug, node.failure());
        }
    }

    /** Runs {@code test} on a started one-node group of {@code stateMachine} that has applied one command. */
    private static void withLeaderOf(StateMachine<String> stateMachine, NodeTest test) throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        RaftNode<String> node = RaftNode.builder(config, stateMachine).transport(network)
                .storage(new InMemoryLogStorage()).tickMillis(10).build();
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            node.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS);
            test.run(node);
        } finally {
            node.close();
            network.close();
        }
    }

    interface NodeTest {
        void run(RaftNode<String> node) throws Exception;
    }

    /**
     * Found probing with a query that threw StackOverflowError: the node stopped, as for any Error,
     * but the query's future, already taken off the waiting list, never completed.
     */
    @Test
    void aQueryThatThrowsAnErrorFailsItsFutureAsTheNodeStops() throws Exception {
        withLeaderOf(new StateMachine<>() {
            @Override
            public String apply(long index, Bytes command) {
                return "ok";
            }

            @Override
            public String query(Bytes query) {
                throw new StackOverflowError("a query recursing without end");
            }
        }, node -> {
            CompletableFuture<String> read = node.query(Bytes.ofUtf8("q"));
            LocalCluster.await(Duration.ofSeconds(5), read::isDone);
            assertTrue(read.isCompletedExceptionally());
            node.whenStopped().get(5, TimeUnit.SECONDS);
            assertTrue(node.failure() instanceof StackOverflowError, String.valueOf(node.failure()));
        });
    }

    /**
     * Found probing with a snapshot view whose release() threw: it skipped the rest of the writer's
     * task, so takeSnapshot() never completed and no snapshot was taken again (the log never compacted).
     */
    @Test
    void aViewWhoseReleaseThrowsStillCompletesTheSnapshotAndLetsTheNextOneBeTaken() throws Exception {
        withLeaderOf(new StateMachine<>() {
            @Override
            public String apply(long index, Bytes command) {
                return "ok";
            }

            @Override
            public Snapshot snapshot() {
                return new Snapshot() {
                    @Override
                    public void writeTo(java.io.OutputStream out) throws java.io.IOException {
                        out.write(1);
                    }

                    @Override
                    public void release() {
                        throw new IllegalStateException("a release bug");
                    }
                };
            }
        }, node -> {
            SnapshotMeta first = node.takeSnapshot().get(5, TimeUnit.SECONDS);
            node.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS);
            SnapshotMeta second = node.takeSnapshot().get(5, TimeUnit.SECONDS);
            assertTrue(second.lastIndex() > first.lastIndex());
            assertEquals(null, node.failure());
        });
    }
}

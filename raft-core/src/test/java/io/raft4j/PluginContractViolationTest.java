package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An embedder's plug-in (transport, log storage) that breaks its contract stops its own node with a
 * clear error, or is worked around: it never leaves the node half stopped or a caller waiting.
 */
class PluginContractViolationTest {

    /**
     * Found by probing close() with a transport whose unregister threw: close() threw it on, and
     * the node's loop and apply threads ran on, so a query waiting for them never completed.
     */
    @Test
    void aTransportThatThrowsOnUnregisterStillLetsTheNodeStop() throws Exception {
        try (InMemoryTransport network = new InMemoryTransport()) {
            Transport throwing = new Transport() {
                @Override
                public void register(String groupId, String localId, Inbound inbound) {
                    network.register(groupId, localId, inbound);
                }

                @Override
                public void unregister(String groupId, String localId) {
                    throw new IllegalStateException("a transport bug");
                }

                @Override
                public void send(RaftMessage message) {
                    network.send(message);
                }
            };
            // Two voters, one never started: no leader, so a linearizable read waits for ever.
            RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2").build();
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                    .transport(throwing).storage(new InMemoryLogStorage()).tickMillis(10).build();
            node.start();
            CompletableFuture<String> waiting = node.whenLeaderKnown();

            node.close();

            assertTrue(node.whenStopped().isDone());
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, e.getCause());
            assertFalse(Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("raft-loop-default-n1") && t.isAlive()), "the loop thread ended");
            assertThrows(ExecutionException.class, () -> node.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS));
        }
    }

    /**
     * A task the loop ran for a call completed the call's future when it threw a RuntimeException,
     * not when it threw an Error (here from a transport whose address check failed to initialise):
     * the Error stopped the node, as it should, but the task had been taken off the queue, so the
     * stop did not fail its future either. It never completed.
     */
    @Test
    void aCallWhoseTaskThrowsAnErrorFailsAsTheNodeStops() throws Exception {
        try (InMemoryTransport network = new InMemoryTransport()) {
            Transport broken = new ForwardingTransport(network) {
                @Override
                public java.util.Optional<String> problemWithAddress(String address) {
                    throw new ExceptionInInitializerError("the transport's address parser failed to load");
                }
            };
            RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                    .transport(broken).storage(new InMemoryLogStorage()).tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                CompletableFuture<ClusterConfig> added = node.addLearner("n2", "somewhere:7002");
                ExecutionException e = assertThrows(ExecutionException.class, () -> added.get(5, TimeUnit.SECONDS));
                assertInstanceOf(ExceptionInInitializerError.class, e.getCause());
                node.whenStopped().get(5, TimeUnit.SECONDS);
                assertInstanceOf(ExceptionInInitializerError.class, node.failure());
            } finally {
                node.close();
            }
        }
    }

    /**
     * The same from the action of a wait: a change asked of a leader that has not committed yet
     * waits, and asks the transport about its addresses again when it goes on. The action that threw
     * had been taken off the waits, and the change due with it was never run: the stop failed
     * neither, and both waited for ever.
     */
    @Test
    void waitsDueWithOneWhoseActionThrowsAnErrorFailAsTheNodeStops() throws Exception {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        try (InMemoryTransport network = new InMemoryTransport()) {
            Transport broken = new ForwardingTransport(network) {
                @Override
                public java.util.Optional<String> problemWithAddress(String address) {
                    if (asked.incrementAndGet() > 1) {
                        throw new ExceptionInInitializerError("the transport's address parser failed to load");
                    }
                    return java.util.Optional.empty();
                }
            };
            ApplierFailureTest.NoopGatedStorage storage = new ApplierFailureTest.NoopGatedStorage(new InMemoryLogStorage());
            RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                    .transport(broken).storage(storage).tickMillis(10).build();
            node.start();
            try {
                assertTrue(storage.blocked.await(10, TimeUnit.SECONDS), "elected, its no-op being written");
                CompletableFuture<ClusterConfig> withAddress = node.addLearner("n2", "somewhere:7002");
                CompletableFuture<ClusterConfig> without = node.addLearner("n3", "");
                node.whenLeaderKnown().get(10, TimeUnit.SECONDS); // both wait for the first commit now
                assertEquals(1, asked.get());
                storage.gate.countDown();

                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> withAddress.get(5, TimeUnit.SECONDS));
                assertInstanceOf(ExceptionInInitializerError.class, e.getCause());
                e = assertThrows(ExecutionException.class, () -> without.get(5, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
                assertInstanceOf(ExceptionInInitializerError.class, node.failure());
            } finally {
                storage.gate.countDown();
                node.close();
            }
        }
    }

    /**
     * With applyOnLoop the node's last leaderStopped is told on the thread closing it, in the middle
     * of the close. A listener that threw an Error there (a test's assertion, a class that failed to
     * load) cut the close short: the applier was never stopped, and nothing still waiting was failed.
     * Here an addVoter waiting for a learner that never answers waited for ever.
     */
    @Test
    void aListenerThatThrowsAnErrorWhileTheNodeClosesDoesNotLeaveCallsWaiting() throws Exception {
        LeadershipListener throwing = new LeadershipListener() {
            @Override
            public void leaderStopped(long term) {
                throw new AssertionError("a listener's assertion");
            }
        };
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                    .storage(new InMemoryLogStorage()).leadershipListener(throwing).applyOnLoop(true)
                    .runOnTransportLoop(false).tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                CompletableFuture<ClusterConfig> added = node.addVoter("n2", "");
                // n2 is a learner once that is applied; then addVoter waits, on the loop, for it to catch up.
                LocalCluster.await(Duration.ofSeconds(10), () -> node.status().config().learners().contains("n2")
                        && node.status().appliedIndex() == node.status().lastIndex());
                node.followers().get(5, TimeUnit.SECONDS); // the loop has run what the apply queued before this
                assertFalse(added.isDone());

                try {
                    node.close();
                } catch (AssertionError e) {
                    // the listener's: a close that says what went wrong is fine; one that leaves calls waiting is not
                }

                ExecutionException e = assertThrows(ExecutionException.class, () -> added.get(5, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
                assertTrue(node.whenStopped().isDone());
            } finally {
                try {
                    node.close();
                } catch (AssertionError ignored) {
                    // as above
                }
            }
        }
    }

    /**
     * The same on the apply thread's behalf: once a failure ended it, the notices it had not taken
     * are told on the thread stopping the node, and a listener's Error there cut the stop short. The
     * proposal whose apply failed was never failed.
     */
    @Test
    void aListenerThatThrowsAnErrorWhileAFailedNodeStopsDoesNotLeaveCallsWaiting() throws Exception {
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        LeadershipListener throwing = new LeadershipListener() {
            @Override
            public void leaderStarted(long term) {
                started.countDown();
            }

            @Override
            public void leaderStopped(long term) {
                throw new AssertionError("a listener's assertion");
            }
        };
        io.raft4j.spi.StateMachine<String> sm = (index, command) -> {
            if (command.toUtf8().equals("boom")) {
                throw new IllegalStateException("a state machine bug");
            }
            return "ok";
        };
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                    .leadershipListener(throwing).tickMillis(10).build();
            node.start();
            try {
                assertTrue(started.await(10, TimeUnit.SECONDS));
                CompletableFuture<String> boom = node.propose(Bytes.ofUtf8("boom"));
                ExecutionException e = assertThrows(ExecutionException.class, () -> boom.get(5, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
                node.whenStopped().get(5, TimeUnit.SECONDS);
                assertInstanceOf(IllegalStateException.class, node.failure());
            } finally {
                node.close();
            }
        }
    }

    /**
     * The same with a snapshot store whose sink threw when abandoned: a follower closed in the middle
     * of receiving a snapshot abandons it while it stops, and the throw cut the stop short. Its apply
     * thread ran on for good, and its read waiting for entries it never received waited for ever.
     */
    @Test
    void aSnapshotSinkThatThrowsWhenAbandonedDoesNotLeaveTheStopHalfDone() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        String[] ids = {"n1", "n2", "n3"};
        java.util.function.Function<String, RaftConfig> configOf = id -> RaftConfig.builder(id).initialMembers(ids)
                .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS)
                .snapshotTrailingEntries(0).snapshotChunkBytes(64).snapshotChunksInFlight(1).build();
        java.util.Map<String, RaftNode<String>> nodes = new java.util.LinkedHashMap<>();
        for (String id : ids) {
            nodes.put(id, RaftNode.builder(configOf.apply(id), new LocalCluster.RecordingStateMachine())
                    .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build());
        }
        nodes.values().forEach(RaftNode::start);
        try {
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(nodes.values());
            String fid = nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            nodes.remove(fid).close();
            java.util.concurrent.CountDownLatch receiving = new java.util.concurrent.CountDownLatch(1);
            io.raft4j.spi.SnapshotStore store = new ForwardingSnapshotStore(new io.raft4j.memory.InMemorySnapshotStore()) {
                @Override
                public Sink begin(io.raft4j.message.SnapshotMeta meta) throws java.io.IOException {
                    Sink sink = super.begin(meta);
                    receiving.countDown();
                    return new ForwardingSink(sink) {
                        private boolean published;

                        @Override
                        public SnapshotInfo publish(Long expectedChecksum) throws java.io.IOException {
                            SnapshotInfo info = super.publish(expectedChecksum);
                            published = true;
                            return info;
                        }

                        @Override
                        public void close() {
                            super.close();
                            if (!published) {
                                throw new java.io.UncheckedIOException(new java.io.IOException("cannot delete tmp-1"));
                            }
                        }
                    };
                }
            };
            AbandonedSnapshotTransferTest.FilteringTransport ft = new AbandonedSnapshotTransferTest.FilteringTransport(network);
            RaftNode<String> follower = RaftNode.builder(configOf.apply(fid), new LocalCluster.RecordingStateMachine())
                    .transport(ft).storage(new InMemoryLogStorage()).snapshots(store).tickMillis(10).build();
            nodes.put(fid, follower);
            network.isolate(fid);
            follower.start();
            for (int i = 0; i < 20; i++) {
                leader.propose(Bytes.ofUtf8("value-" + i + "-".repeat(100))).get(5, TimeUnit.SECONDS);
            }
            leader.takeSnapshot().get(5, TimeUnit.SECONDS); // the leader compacts: the follower needs the snapshot
            ft.drop = m -> m instanceof io.raft4j.message.InstallSnapshotResponse; // stuck at its first chunk
            network.heal();
            assertTrue(receiving.await(10, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(10), () -> leader.id().equals(follower.status().leaderId()));
            // Confirmed by the leader, it waits for entries the follower will not have.
            CompletableFuture<String> read = follower.query(Bytes.EMPTY);

            try {
                nodes.remove(fid).close();
            } catch (java.io.UncheckedIOException thrown) {
                // the sink's: a close that says what went wrong is fine; one that leaves calls waiting is not
            }

            ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(5, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, e.getCause());
            LocalCluster.await(Duration.ofSeconds(5), () -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().equals("raft-apply-default-" + fid) && t.isAlive()));
        } finally {
            nodes.values().forEach(RaftNode::close);
            network.close();
        }
    }

    /** Forwards to another snapshot store; a test overrides what it breaks. */
    static class ForwardingSnapshotStore implements io.raft4j.spi.SnapshotStore {
        final io.raft4j.spi.SnapshotStore delegate;

        ForwardingSnapshotStore(io.raft4j.spi.SnapshotStore delegate) {
            this.delegate = delegate;
        }

        @Override public java.util.Optional<SnapshotInfo> latest() { return delegate.latest(); }
        @Override public Bytes read(long i, long o, int m) { return delegate.read(i, o, m); }
        @Override public java.io.InputStream open(long i) throws java.io.IOException { return delegate.open(i); }
        @Override public Sink begin(io.raft4j.message.SnapshotMeta m) throws java.io.IOException { return delegate.begin(m); }
        @Override public void close() { delegate.close(); }
    }

    /** Forwards to another sink. */
    static class ForwardingSink implements io.raft4j.spi.SnapshotStore.Sink {
        final io.raft4j.spi.SnapshotStore.Sink delegate;

        ForwardingSink(io.raft4j.spi.SnapshotStore.Sink delegate) {
            this.delegate = delegate;
        }

        @Override public java.io.OutputStream out() { return delegate.out(); }
        @Override public long written() { return delegate.written(); }
        @Override public io.raft4j.spi.SnapshotStore.SnapshotInfo publish(Long c) throws java.io.IOException {
            return delegate.publish(c);
        }
        @Override public void close() { delegate.close(); }
    }

    /** A storage that answers every read of entries with none, against its contract. */
    static final class NoEntries extends ForwardingStorage {
        NoEntries(LogStorage delegate) {
            super(delegate);
        }

        @Override
        public List<LogEntry> entries(long fromIndex, long toIndex, long maxBytes) {
            return List.of();
        }
    }

    /** Found probing with a storage that returned no entries: building a node on its log looped for ever. */
    @Test
    void aStorageThatReturnsNoEntriesIsRefusedAtBuildInsteadOfLoopingForEver() {
        InMemoryLogStorage written = new InMemoryLogStorage();
        written.append(List.of(new LogEntry(1, 1, EntryType.CONFIG, ClusterConfig.ofVoters(Set.of("n1")).encode())),
                new HardState(1, null));
        RaftConfig config = RaftConfig.builder("n1").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            StorageException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                    StorageException.class, () -> RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                            .transport(network).storage(new NoEntries(written)).build()));
            assertEquals("the log storage the test's storage returned no entries for 1..1, which it holds (at least"
                    + " one must be returned)", e.getMessage());
        }
    }

    /** ... and a running node waited for ever for the commands it had committed. */
    @Test
    void aStorageThatReturnsNoEntriesStopsItsNodeWithAClearFailure() throws Exception {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                    .storage(new NoEntries(new InMemoryLogStorage())).tickMillis(10).build();
            node.start();
            try {
                CompletableFuture<String> proposed = node.whenLeaderKnown().thenCompose(l -> node.propose(Bytes.ofUtf8("x")));
                ExecutionException e = assertThrows(ExecutionException.class, () -> proposed.get(5, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
                assertInstanceOf(StorageException.class, node.failure());
                assertTrue(node.failure().getMessage().startsWith("the log storage the test's storage returned no entries"),
                        node.failure().getMessage());
            } finally {
                node.close();
            }
        }
    }

    /** A negative last index was taken as it was: the node never elected itself, nor said why. */
    @Test
    void aStorageWhoseIndexesContradictEachOtherIsRefusedAtBuild() {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            StorageException e = assertThrows(StorageException.class, () -> RaftNode.builder(config,
                    new LocalCluster.RecordingStateMachine()).transport(network).storage(
                            new ForwardingStorage(new InMemoryLogStorage()) {
                                @Override
                                public long lastIndex() {
                                    return -5;
                                }
                            }).build());
            assertTrue(e.getMessage().contains("says its entries run from 1 to -5"), e.getMessage());
        }
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.EventLoop;
import io.raft4j.spi.StateMachine;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mistakes an embedder made in a review, each refused with a clear error instead of harming the
 * running nodes: starting a second node with a live node's id, and giving a restarted node its
 * predecessor's state machine.
 */
class EmbedderMistakesTest {

    /**
     * The second node's start used to mark it running before the transport refused it: its calls
     * then waited for ever, and its close() unregistered the live node's id, which heard nothing
     * again and lost its leadership.
     */
    @Test
    void aSecondNodeWithALiveNodesIdIsRefusedAndItsCloseLeavesTheLiveNodeAlone() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            RaftNode<String> leader = cluster.awaitLeader();
            RaftConfig sameId = RaftConfig.builder(leader.id()).initialMembers("n1", "n2", "n3").build();
            RaftNode<String> second = RaftNode.builder(sameId, new LocalCluster.RecordingStateMachine())
                    .transport(cluster.transport).storage(new InMemoryLogStorage()).tickMillis(10).build();

            IllegalStateException refused = assertThrows(IllegalStateException.class, second::start);
            assertTrue(second.whenStopped().isDone(), "a node the transport refused is stopped");
            assertEquals(refused, second.failure());
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> second.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, e.getCause(), "failed at once, not left waiting");
            second.close();

            // The live node still hears its peers: it leads on through several election timeouts.
            for (int i = 0; i < 20; i++) {
                assertEquals("applied:w" + i, leader.propose(Bytes.ofUtf8("w" + i)).get(5, TimeUnit.SECONDS));
            }
            LocalCluster.await(Duration.ofSeconds(5), () -> cluster.stateMachines.values().stream()
                    .allMatch(sm -> sm.applied.size() == 20));
            assertTrue(leader.isLeader());
        }
    }

    /**
     * A call made while the transport was refusing the start found the node running and queued its
     * task for a loop that then never started: its future never completed.
     */
    @Test
    void aCallMadeWhileTheTransportRefusesTheStartFailsInsteadOfWaiting() throws Exception {
        CountDownLatch registering = new CountDownLatch(1);
        CountDownLatch called = new CountDownLatch(1);
        Transport refusing = new ForwardingTransport(new InMemoryTransport()) {
            @Override
            public void register(String groupId, String localId, Inbound inbound) {
                registering.countDown();
                try {
                    called.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IllegalStateException(localId + " is already registered in group " + groupId);
            }
        };
        RaftNode<String> node = RaftNode.builder(RaftConfig.builder("n1").initialMembers("n1").build(),
                new LocalCluster.RecordingStateMachine()).transport(refusing).storage(new InMemoryLogStorage()).build();
        CompletableFuture<Void> start = CompletableFuture.runAsync(node::start);
        assertTrue(registering.await(5, TimeUnit.SECONDS));
        CompletableFuture<String> proposed = node.propose(Bytes.ofUtf8("x"));
        called.countDown();
        ExecutionException refused = assertThrows(ExecutionException.class, () -> start.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, refused.getCause());
        ExecutionException e = assertThrows(ExecutionException.class, () -> proposed.get(5, TimeUnit.SECONDS));
        assertInstanceOf(RaftStoppedException.class, e.getCause());
        node.close();
    }

    /**
     * A transport closed before its node (the wrong order) shuts down the event loop it lent the
     * node. The node's next call threw the loop's RejectedExecutionException at its caller, and
     * every call after it was queued for a drain that never ran: its future never completed, and the
     * node, which no longer ticked, never said it had stopped.
     */
    @Test
    void aNodeWhoseLentLoopIsShutDownStopsAndFailsItsCalls() throws Exception {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "lent-loop-solo");
            t.setDaemon(true);
            return t;
        });
        try (InMemoryTransport network = new InMemoryTransport()) {
            Transport lending = new ForwardingTransport(network) {
                @Override
                public EventLoop eventLoopFor(String groupId, String localId) {
                    return new EventLoop() {
                        @Override
                        public boolean inLoop() {
                            return Thread.currentThread().getName().equals("lent-loop-solo");
                        }

                        @Override
                        public void execute(Runnable task) {
                            executor.execute(task);
                        }

                        @Override
                        public AutoCloseable scheduleWithFixedDelay(Runnable task, long delayNanos) {
                            ScheduledFuture<?> f = executor.scheduleWithFixedDelay(task, delayNanos, delayNanos,
                                    TimeUnit.NANOSECONDS);
                            return () -> f.cancel(false);
                        }
                    };
                }
            };
            RaftNode<String> node = RaftNode.builder(RaftConfig.builder("solo").initialMembers("solo").build(),
                    new LocalCluster.RecordingStateMachine()).transport(lending).storage(new InMemoryLogStorage())
                    .applyOnLoop(true).tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                assertEquals("applied:a", node.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS));

                // As the transport's close() does: what was queued runs, then the loop refuses work.
                executor.shutdown();
                assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));

                CompletableFuture<String> first = node.propose(Bytes.ofUtf8("b"));
                ExecutionException e = assertThrows(ExecutionException.class, () -> first.get(5, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
                node.whenStopped().get(5, TimeUnit.SECONDS);
                assertTrue(node.failure().getMessage().contains("event loop"), node.failure().getMessage());
                e = assertThrows(ExecutionException.class,
                        () -> node.query(Bytes.EMPTY, ReadConsistency.STALE).get(5, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
            } finally {
                node.close();
            }
        }
    }

    /** A reused state machine used to apply the whole log again on top of its state (21 where peers held 11). */
    @Test
    void aStateMachineIsGivenToOneNodeOnly() {
        LocalCluster.RecordingStateMachine sm = new LocalCluster.RecordingStateMachine();
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        InMemoryLogStorage storage = new InMemoryLogStorage();
        try (io.raft4j.memory.InMemoryTransport network = new io.raft4j.memory.InMemoryTransport()) {
            RaftNode.builder(config, sm).transport(network).storage(storage).build().close();
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> RaftNode.builder(config, sm).transport(network).storage(storage).build());
            assertTrue(refused.getMessage().contains("already given to node default/n1"), refused.getMessage());
            RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network).storage(storage)
                    .build().close();
        }
    }

    /**
     * With applyOnLoop, build() restores the latest local snapshot itself, and it did so before it
     * looked whether the state machine was another node's: the refused build had already replaced
     * the running node's state with the snapshot's, under its feet, and that node went on from a
     * state its peers never had.
     */
    @Test
    void aRefusedBuildLeavesTheStateOfTheNodeOwningTheStateMachineAlone() throws Exception {
        LocalCluster.RecordingStateMachine sm = new LocalCluster.RecordingStateMachine();
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        InMemoryLogStorage storage = new InMemoryLogStorage();
        io.raft4j.memory.InMemorySnapshotStore snapshots = new io.raft4j.memory.InMemorySnapshotStore();
        try (InMemoryTransport network = new InMemoryTransport();
             RaftNode<String> running = RaftNode.builder(config, sm).transport(network).storage(storage)
                     .snapshots(snapshots).tickMillis(10).build()) {
            running.start();
            running.whenLeaderKnown().get(10, TimeUnit.SECONDS);
            running.propose(Bytes.ofUtf8("a")).get(10, TimeUnit.SECONDS);
            running.takeSnapshot().get(10, TimeUnit.SECONDS);
            running.propose(Bytes.ofUtf8("b")).get(10, TimeUnit.SECONDS);

            // Its successor, built by mistake with its state machine (and before it was closed).
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> RaftNode.builder(config, sm)
                    .transport(network).storage(storage).snapshots(snapshots).applyOnLoop(true).build());
            assertTrue(refused.getMessage().contains("already given to node default/n1"), refused.getMessage());
            assertEquals(java.util.List.of("a", "b"), sm.applied);
        }
    }

    /** The claim is made before the node is built: a build that fails for another reason withdraws it. */
    @Test
    void aStateMachineWhoseBuildFailedMayBeGivenToTheNextTry() {
        LocalCluster.RecordingStateMachine sm = new LocalCluster.RecordingStateMachine();
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            assertThrows(NullPointerException.class, () -> RaftNode.builder(config, sm).transport(network).build());
            RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage()).build().close();
        }
    }

    /** A state machine that is a map: equal to any other with the same state, its hash changing as it applies. */
    static final class MapMachine extends HashMap<Long, String> implements StateMachine<String> {
        @Override
        public String apply(long index, Bytes command) {
            put(index, command.toUtf8());
            return "ok";
        }
    }

    /**
     * The claims were kept by equals() and hashCode(), not by instance: a state machine whose hash
     * follows its state (a map, a record of collections) was not found once it had applied a
     * command, so the restarted node got its predecessor's state machine after all and applied the
     * log on top of it; and of two distinct but equal ones, the second replaced the first's claim,
     * which could then be given to another node.
     */
    @Test
    void aStateMachineIsGivenToOneNodeOnlyWhateverItsEqualsAndHashCode() {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        InMemoryLogStorage storage = new InMemoryLogStorage();
        try (InMemoryTransport network = new InMemoryTransport()) {
            MapMachine sm = new MapMachine();
            RaftNode.builder(config, sm).transport(network).storage(storage).build().close();
            sm.apply(1, Bytes.ofUtf8("x")); // as the node would have: its hash is another now
            assertThrows(IllegalStateException.class,
                    () -> RaftNode.builder(config, sm).transport(network).storage(storage).build());

            MapMachine first = new MapMachine();
            MapMachine second = new MapMachine(); // equal to the first, another instance: a node of its own
            RaftNode.builder(config, first).transport(network).storage(storage).build().close();
            RaftNode.builder(config, second).transport(network).storage(storage).build().close();
            assertThrows(IllegalStateException.class,
                    () -> RaftNode.builder(config, first).transport(network).storage(storage).build());
        }
    }

    /**
     * Found probing the builder with Long.MAX_VALUE: the tick in nanoseconds wrapped, and a one-node
     * group elected itself within a second under a tick of 292 million years.
     */
    @Test
    void aTickTooLongForTheLoopsClockIsRefused() {
        RaftNode.Builder<String> b = RaftNode.builder(RaftConfig.builder("n1").build(),
                new LocalCluster.RecordingStateMachine());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.tickMillis(Long.MAX_VALUE));
        assertEquals("tickMillis must be within 1..60000, was 9223372036854775807", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.tickMillis(0));
        b.tickMillis(RaftNode.Builder.MAX_TICK_MILLIS);
    }

    /**
     * maxEntryBytes near Long.MAX_VALUE made the room needed wrap negative, so a node was built on a
     * transport of 64 MiB frames, to stop replicating at the first larger entry.
     */
    @Test
    void entriesLargerThanTheTransportCarriesAreRefusedWhateverTheirSize() {
        Transport limited = new ForwardingTransport(new InMemoryTransport()) {
            @Override
            public long maxMessageBytes() {
                return 64 << 20;
            }
        };
        RaftConfig huge = RaftConfig.builder("n1").initialMembers("n1").maxEntryBytes(Long.MAX_VALUE)
                .maxUncommittedBytes(Long.MAX_VALUE).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RaftNode.builder(huge,
                new LocalCluster.RecordingStateMachine()).transport(limited).storage(new InMemoryLogStorage()).build());
        assertTrue(e.getMessage().startsWith("the transport carries messages of at most 67108864 bytes"), e.getMessage());
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node closed from a callback on one of its own threads other than the loop (a future the apply
 * thread or the snapshot thread completes): it cannot wait for the thread it runs on, and that
 * thread goes on with the work it was doing when the callback ran.
 */
class CloseFromNodeThreadsTest {

    /**
     * The apply thread went on with the batch whose proposal's callback closed the node, and took
     * the snapshot that batch made due: close() had shut the snapshot writer down, so handing it the
     * view threw. The view was never released (a RocksDB snapshot handle held for ever), and the
     * throw ended the apply thread before it took the notice that the leadership ended: the listener
     * heard leaderStarted and never leaderStopped.
     */
    @Test
    void aSnapshotFallingDueAfterACallbackOnTheApplyThreadClosedTheNodeIsReleasedAndTheLeadershipStops()
            throws Exception {
        CountDownLatch callbackAttached = new CountDownLatch(1);
        AtomicInteger views = new AtomicInteger();
        AtomicInteger released = new AtomicInteger();
        StateMachine<String> sm = new StateMachine<>() {
            @Override
            public String apply(long index, Bytes command) {
                if (command.length() > 1000) {
                    await(callbackAttached); // so that the callback runs here, on the apply thread
                }
                return "ok";
            }

            @Override
            public Snapshot snapshot() {
                views.incrementAndGet();
                return new Snapshot() {
                    @Override
                    public void writeTo(OutputStream out) throws java.io.IOException {
                        out.write(1);
                    }

                    @Override
                    public void release() {
                        released.incrementAndGet();
                    }
                };
            }
        };
        LocalCluster.StartStopNotices listener = new LocalCluster.StartStopNotices();
        List<String> notices = listener.notices;
        // Only the large command makes a snapshot due: the configuration and the no-op are tiny.
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").snapshotEveryBytes(10_000).build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                    .leadershipListener(listener).tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), () -> !notices.isEmpty());
                long term = node.status().term();
                assertEquals(List.of("started " + term), notices);

                CompletableFuture<Void> closed = node.propose(Bytes.wrap(new byte[20_000])).thenRun(node::close);
                callbackAttached.countDown();
                closed.get(10, TimeUnit.SECONDS);

                LocalCluster.await(Duration.ofSeconds(10), () -> notices.size() == 2,
                        () -> "notices " + notices);
                assertEquals(List.of("started " + term, "stopped " + term), notices);
                LocalCluster.await(Duration.ofSeconds(10), () -> released.get() == views.get(),
                        () -> views.get() + " views taken, " + released.get() + " released");
                assertEquals(1, views.get(), "the snapshot fell due in the large command's batch");
            } finally {
                node.close();
            }
        }
    }

    /**
     * close() from a callback of takeSnapshot(), which completes on the snapshot thread, waited for
     * that very thread to end: 30 seconds, holding the node, before it stopped anything else.
     */
    @Test
    void aTakeSnapshotCallbackMayCloseTheNode() throws Exception {
        GatedStateMachine sm = new GatedStateMachine();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                    .tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                node.propose(Bytes.ofUtf8("a")).get(10, TimeUnit.SECONDS);
                // The snapshot waits at the gate until the callback is attached: it then runs on the snapshot thread.
                CompletableFuture<Void> closed = node.takeSnapshot().thenRun(node::close);
                sm.release();
                closed.get(10, TimeUnit.SECONDS);
                assertTrue(node.whenStopped().isDone());
            } finally {
                node.close();
            }
        }
    }

    /**
     * close() on the caller's thread holds the node while it waits for the apply thread to finish
     * its work. A callback there that closed the node too waited for the node, so the caller waited
     * for it in vain until its 10-second bound ran out, and returned with the apply thread still
     * blocked: the notice that the leadership ended came after close() had returned, if at all.
     */
    @Test
    void aCallbackOnTheApplyThreadClosingTheNodeDoesNotHoldUpACloseInProgress() throws Exception {
        CountDownLatch closing = new CountDownLatch(1);
        CountDownLatch applying = new CountDownLatch(1);
        StateMachine<String> sm = (index, command) -> {
            if (command.toUtf8().equals("x")) {
                applying.countDown();
                await(closing); // until close() on the test's thread holds the node
            }
            return "ok";
        };
        LocalCluster.StartStopNotices listener = new LocalCluster.StartStopNotices();
        List<String> notices = listener.notices;
        try (InMemoryTransport network = new InMemoryTransport()) {
            Transport watched = new ForwardingTransport(network) {
                @Override
                public void unregister(String groupId, String localId) {
                    super.unregister(groupId, localId);
                    closing.countDown(); // the first thing close() does, holding the node
                }
            };
            RaftNode<String> node = RaftNode.builder(RaftConfig.builder("solo").initialMembers("solo").build(), sm)
                    .transport(watched).storage(new InMemoryLogStorage()).leadershipListener(listener).tickMillis(10)
                    .build();
            node.start();
            LocalCluster.await(Duration.ofSeconds(10), () -> !notices.isEmpty());
            CompletableFuture<String> proposed = node.propose(Bytes.ofUtf8("x"));
            proposed.thenRun(node::close);
            assertTrue(applying.await(10, TimeUnit.SECONDS));

            long start = System.nanoTime();
            node.close();
            long closeMillis = (System.nanoTime() - start) / 1_000_000;

            assertTrue(closeMillis < 5_000, "close() took " + closeMillis + " ms");
            LocalCluster.await(Duration.ofSeconds(5), () -> notices.size() == 2);
            assertEquals(List.of("started " + node.status().term(), "stopped " + node.status().term()), notices);
        }
    }

    /**
     * A callback on the apply thread that waits for an answer of the event loop (here whenLeaderKnown()
     * on a node that knows no leader) is released by close(), which fails that call. close() failed it
     * only after waiting for the apply thread to end, the very thread the call held: close() took the
     * 10 seconds of that wait (30 more for a callback on the snapshot thread) before it failed the call.
     */
    @Test
    void aCallbackOnTheApplyThreadWaitingForTheLoopDoesNotHoldUpClose() throws Exception {
        // One of three members running: it never learns of a leader.
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").build();
        CountDownLatch attached = new CountDownLatch(1);
        StateMachine<String> sm = new StateMachine<>() {
            @Override
            public String apply(long index, Bytes command) {
                return "ok";
            }

            @Override
            public String query(Bytes query) {
                await(attached); // so that the read's future completes here, on the apply thread, with its callback
                return "answer";
            }
        };
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, sm)
                    .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
            node.start();
            CountDownLatch waiting = new CountDownLatch(1);
            CompletableFuture<String> leaderKnown = new CompletableFuture<>();
            // A stale read is answered on the apply thread, which then runs this callback.
            node.query(Bytes.ofUtf8("q"), ReadConsistency.STALE).thenRun(() -> {
                CompletableFuture<String> call = node.whenLeaderKnown();
                waiting.countDown();
                try {
                    leaderKnown.complete(call.get());
                } catch (Exception e) {
                    leaderKnown.completeExceptionally(e.getCause() != null ? e.getCause() : e);
                }
            });
            attached.countDown();
            assertTrue(waiting.await(10, TimeUnit.SECONDS));

            long start = System.nanoTime();
            node.close();
            long closeMillis = (System.nanoTime() - start) / 1_000_000;

            assertTrue(closeMillis < 5_000, "close() took " + closeMillis + " ms");
            ExecutionException failed = assertThrows(ExecutionException.class, () -> leaderKnown.get(5, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, failed.getCause());
        }
    }

    /**
     * Two closes at once, one from the apply thread (a callback there) and one from the caller's
     * thread. Whether the apply thread's close was one to return at once was decided by a flag read
     * and then set, and who stopped the node by who got the node's lock first: the apply thread
     * could read the flag unset, and then lose the lock to the caller's close, which waited its full
     * 10 seconds for the apply thread, itself waiting for the lock. Here the test holds the node's
     * lock so that the apply thread's close is first and stays in progress: the second close must
     * wait for the first to complete, not contend for the node.
     */
    @Test
    void aCloseRacingOneInProgressWaitsForItsCompletion() throws Exception {
        CountDownLatch applying = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<RaftNode<String>> self = new AtomicReference<>();
        AtomicReference<Thread> applyThread = new AtomicReference<>();
        StateMachine<String> sm = (index, command) -> {
            if (command.toUtf8().equals("x")) {
                applyThread.set(Thread.currentThread());
                applying.countDown();
                await(go);
                self.get().close();
            }
            return "ok";
        };
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(RaftConfig.builder("solo").initialMembers("solo").build(), sm)
                    .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
            self.set(node);
            node.start();
            Thread second = new Thread(node::close, "second-close");
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                node.propose(Bytes.ofUtf8("x"));
                assertTrue(applying.await(10, TimeUnit.SECONDS));
                synchronized (node) {
                    go.countDown();
                    LocalCluster.await(Duration.ofSeconds(10), () -> applyThread.get().getState() == Thread.State.BLOCKED,
                            () -> "the apply thread's close is " + applyThread.get().getState());
                    second.start();
                    LocalCluster.await(Duration.ofSeconds(10), () -> second.getState() == Thread.State.WAITING,
                            () -> "the second close is " + second.getState() + ", not waiting for the first");
                }
                second.join(5_000);
                assertFalse(second.isAlive(), "the second close still waits after the first completed");
                assertTrue(node.whenStopped().isDone());
            } finally {
                node.close();
                second.join(20_000);
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("the test never opened the latch");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

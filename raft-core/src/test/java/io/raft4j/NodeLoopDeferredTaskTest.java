package io.raft4j;

import io.raft4j.memory.InMemoryTransport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A task deferred on a node's loop ({@link NodeLoop#executeAfter}) runs on the loop once its delay
 * has passed, not a tick later, and not at all if cancelled first: on the node's own thread, and on
 * a loop lent by a transport whose {@code EventLoop} keeps the default one-shot schedule.
 */
class NodeLoopDeferredTaskTest {
    /** Longer than any test waits: a deferred task that waited for the next tick would time out. */
    private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    @Test
    void onItsOwnThreadADeferredTaskRunsOnceItsDelayPassed() {
        runsAfterItsDelay(body -> NodeLoop.ownThread("deferred-own", body, TICK_NANOS));
    }

    @Test
    void onALentLoopADeferredTaskRunsOnceItsDelayPassed() {
        try (LoopLendingTransport lending = new LoopLendingTransport(new InMemoryTransport(1))) {
            runsAfterItsDelay(body -> NodeLoop.shared(lending.eventLoopFor("g", "n1"), body, TICK_NANOS));
        }
    }

    @Test
    void onItsOwnThreadACancelledTaskNeverRuns() {
        cancelledNeverRuns(body -> NodeLoop.ownThread("deferred-own-cancel", body, TICK_NANOS));
    }

    @Test
    void onALentLoopACancelledTaskNeverRuns() {
        try (LoopLendingTransport lending = new LoopLendingTransport(new InMemoryTransport(1))) {
            cancelledNeverRuns(body -> NodeLoop.shared(lending.eventLoopFor("g", "n1"), body, TICK_NANOS));
        }
    }

    private static void runsAfterItsDelay(Function<NodeLoop.Body, NodeLoop> make) {
        TickRecordingBody body = new TickRecordingBody();
        NodeLoop loop = make.apply(body);
        loop.start();
        try {
            AtomicLong deferredAt = new AtomicLong();
            AtomicLong ranAt = new AtomicLong();
            AtomicBoolean ranOnLoop = new AtomicBoolean();
            loop.execute(() -> {
                deferredAt.set(System.nanoTime());
                loop.executeAfter(() -> {
                    ranOnLoop.set(loop.onLoopThread());
                    ranAt.set(System.nanoTime());
                }, DELAY_NANOS);
            });
            LocalCluster.await(Duration.ofSeconds(10), () -> ranAt.get() != 0);
            long waited = ranAt.get() - deferredAt.get();
            assertTrue(waited >= DELAY_NANOS, () -> "ran " + waited + " ns after it was deferred by " + DELAY_NANOS);
            assertTrue(ranOnLoop.get(), "ran off the loop");
            assertTrue(body.failure == null, () -> "the loop failed: " + body.failure);
        } finally {
            loop.stop();
        }
    }

    private static void cancelledNeverRuns(Function<NodeLoop.Body, NodeLoop> make) {
        TickRecordingBody body = new TickRecordingBody();
        NodeLoop loop = make.apply(body);
        loop.start();
        try {
            AtomicBoolean cancelledRan = new AtomicBoolean();
            AtomicBoolean laterRan = new AtomicBoolean();
            loop.execute(() -> {
                AutoCloseable cancelled = loop.executeAfter(() -> cancelledRan.set(true), DELAY_NANOS);
                loop.executeAfter(() -> laterRan.set(true), 4 * DELAY_NANOS);
                try {
                    cancelled.close();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            LocalCluster.await(Duration.ofSeconds(10), laterRan::get);
            assertFalse(cancelledRan.get(), "a task cancelled before its time ran");
            assertTrue(body.failure == null, () -> "the loop failed: " + body.failure);
        } finally {
            loop.stop();
        }
    }
}

package io.raft4j.spi;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One thread that runs submitted tasks in order, lent by a {@link Transport} so that a node can run
 * its protocol logic on the thread that already does its network I/O (see
 * {@link Transport#eventLoopFor}). Messages the node then sends and receives on that thread pass
 * between the network and the protocol without waking another thread, which on a machine with
 * few cores is a large part of the cost of every commit.
 *
 * <p>Everything run on the loop must return promptly: it shares the thread with the transport.
 */
public interface EventLoop extends Executor {

    /** Whether the calling thread is this loop's thread. */
    boolean inLoop();

    /**
     * Runs {@code task} on the loop every {@code delayNanos}, measured from the end of one run to the
     * start of the next (so that a stalled loop does not catch up in a burst), until the returned
     * handle is closed.
     */
    AutoCloseable scheduleWithFixedDelay(Runnable task, long delayNanos);

    /**
     * Runs {@code task} once on the loop, {@code delayNanos} from now, unless the returned handle is
     * closed before. The node uses it for deadlines shorter than a tick (the proposal batch window of
     * {@code RaftNode.Builder.proposalBatchWindow}); a loop whose timer is finer than the default's
     * should override it.
     *
     * <p>The default runs {@code task} through {@link #scheduleWithFixedDelay} and closes that
     * schedule at its first run, so it runs once whatever the timing of the close.
     */
    default AutoCloseable schedule(Runnable task, long delayNanos) {
        AtomicBoolean ran = new AtomicBoolean();
        AtomicReference<AutoCloseable> repeating = new AtomicReference<>();
        repeating.set(scheduleWithFixedDelay(() -> {
            if (ran.compareAndSet(false, true)) {
                closeQuietly(repeating.get()); // null if it ran before the schedule was handed back
                task.run();
            }
        }, delayNanos));
        if (ran.get()) {
            closeQuietly(repeating.get()); // it ran before its handle was set: close it now
        }
        return () -> {
            ran.set(true);
            closeQuietly(repeating.get());
        };
    }

    private static void closeQuietly(AutoCloseable handle) {
        if (handle == null) {
            return;
        }
        try {
            handle.close();
        } catch (Exception ignored) {
            // a schedule that cannot be cancelled runs its task no more: ran is set
        }
    }
}

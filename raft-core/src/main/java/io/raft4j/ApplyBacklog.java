package io.raft4j;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of committed entries handed to the apply thread and not applied yet, against a bound.
 * Without one, a node whose state machine is slower than its commits (a follower catching up on a
 * long log, a restart replaying one) would read its whole committed log into the apply queue at
 * once. While the backlog is at the bound, the event loop holds committed entries back (they stay
 * in the log: {@code RaftCore.pauseApplies}); the apply thread wakes the loop once it has applied
 * its way back under, and only then, so an unpaced node costs no extra hand-off.
 *
 * <p>Thread-safe: the loop queues and checks, the apply thread releases.
 */
final class ApplyBacklog {
    /** Apply batches that may wait for the apply thread at once. */
    static final int BATCHES = 4;

    private final long limit;
    private final Runnable wakeLoop;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicBoolean loopWaiting = new AtomicBoolean();

    /**
     * @param limit    bytes queued at which the loop stops handing out entries
     * @param wakeLoop makes the loop hand out entries again (schedules a pass over its ready output)
     */
    ApplyBacklog(long limit, Runnable wakeLoop) {
        this.limit = limit;
        this.wakeLoop = wakeLoop;
    }

    /** A backlog of {@link #BATCHES} apply batches of {@code batchBytes} (saturating: any value is valid config). */
    static ApplyBacklog ofBatches(long batchBytes, Runnable wakeLoop) {
        return new ApplyBacklog(batchBytes > Long.MAX_VALUE / BATCHES ? Long.MAX_VALUE : BATCHES * batchBytes, wakeLoop);
    }

    /** The loop queued entries of {@code n} bytes for the apply thread. */
    void queued(long n) {
        bytes.addAndGet(n);
    }

    /** The apply thread applied entries of {@code n} bytes; wakes the loop if it waits for that. */
    void applied(long n) {
        if (bytes.addAndGet(-n) < limit && loopWaiting.compareAndSet(true, false)) {
            wakeLoop.run();
        }
    }

    /**
     * Whether the loop must hold committed entries back now. If so, the apply thread wakes it once
     * the backlog falls under the bound; checked again after saying so, so a fall in between is not
     * missed.
     */
    boolean full() {
        if (bytes.get() < limit) {
            return false;
        }
        loopWaiting.set(true);
        if (bytes.get() < limit) {
            loopWaiting.set(false);
            return false;
        }
        return true;
    }

    long bytes() {
        return bytes.get();
    }
}

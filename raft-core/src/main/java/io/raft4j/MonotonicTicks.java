package io.raft4j;

/**
 * How many ticks' worth of time have passed since the node began ticking, by the JVM's monotonic
 * clock: what the runtime tells {@link io.raft4j.core.RaftCore#observeTime}. The loop's own ticks
 * fall behind this whenever it stalls (a GC pause, a stopped process, a busy loop), and a lease
 * counted in ticks alone would outlive the real time it may last. The core's lease clock takes the
 * larger of this and the ticks delivered, and no more: started before the loop, this is never behind
 * the ticks (the loop's n-th tick comes n tick periods after its start at the earliest), so the lease
 * clock never runs ahead of real time and a lease never outlives it.
 */
final class MonotonicTicks {
    private final long tickNanos;
    /** Set by {@link #start} before the loop runs; read on the loop. */
    private volatile long originNanos;

    MonotonicTicks(long tickNanos) {
        this.tickNanos = tickNanos;
    }

    void start() {
        originNanos = System.nanoTime();
    }

    long elapsed() {
        return (System.nanoTime() - originNanos) / tickNanos;
    }
}

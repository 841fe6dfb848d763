package io.raft4j;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;

import java.io.UncheckedIOException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A log whose writes a test can hold, as a stalled disk holds a sync: while {@link #stall()} is in
 * force every {@code append} (and compaction) waits until {@link #release()} lets it through, or
 * {@link #failStalled} makes it throw, as a sync that ends in an I/O error; {@link #slowEachWrite}
 * makes every write slow. Presents itself as
 * blocking storage, so the runtime writes it on its storage thread as it writes a durable log.
 */
final class StallableStorage extends ForwardingStorage {
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile String failure;
    /** How long every write takes, in nanoseconds, as on a slow disk. */
    private volatile long slowNanos;
    /** Writes that have come to the gate (held or not). */
    final AtomicInteger arrived = new AtomicInteger();
    /** Writes waiting at the gate now. */
    final AtomicInteger waiting = new AtomicInteger();

    StallableStorage(LogStorage delegate) {
        super(delegate);
    }

    /** Holds every write from now on until {@link #release()}. */
    void stall() {
        gate = new CountDownLatch(1);
    }

    /** Makes every write from now on take {@code millis} more, as a persistently slow disk does. */
    void slowEachWrite(long millis) {
        slowNanos = millis * 1_000_000L;
    }

    /** Lets the held writes, and every later one, through. */
    void release() {
        gate.countDown();
    }

    /** Lets the writes held now through, and holds every later one until {@link #release()}. */
    void releaseHeldOnly() {
        CountDownLatch held = gate;
        gate = new CountDownLatch(1);
        held.countDown();
    }

    /** Ends the stall with the held write (and every later one) failing with {@code message}. */
    void failStalled(String message) {
        failure = message;
        gate.countDown();
    }

    private void pass() {
        long slowUntil = System.nanoTime() + slowNanos;
        while (System.nanoTime() < slowUntil) {
            LockSupport.parkNanos(slowUntil - System.nanoTime());
        }
        arrived.incrementAndGet();
        waiting.incrementAndGet();
        CountDownLatch held = gate;
        try {
            if (!held.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the stalled write");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            waiting.decrementAndGet();
        }
        if (failure != null) {
            throw new UncheckedIOException(new IOException(failure));
        }
    }

    @Override
    public void append(List<LogEntry> entries, HardState hs) {
        pass();
        super.append(entries, hs);
    }

    @Override
    public void compact(long index, long term) {
        pass();
        super.compact(index, term);
    }

    @Override
    public boolean writesWithoutBlocking() {
        return false;
    }
}

package io.raft4j.examples.kv.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The measured window of a run ({@code ../shared/BENCHMARK.md}): the acknowledgements and errors
 * that come inside it are counted, and the latency of each acknowledgement, submit to
 * acknowledgement in microseconds, goes to an HdrHistogram (3 significant digits, auto-resizing).
 * Told by the clients' completion threads while the issuing thread opens it, so every
 * acknowledgement it counts is one its histogram holds.
 */
final class MeasuredWindow {
    private final Recorder recorder = new Recorder(3);
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile long start = Long.MAX_VALUE;
    private volatile long end = Long.MAX_VALUE;

    /** Opens the window over [startNanos, endNanos] ({@code System.nanoTime()}). */
    void open(long startNanos, long endNanos) {
        // Reset first: a completion records only once it sees the window open, so from then on into
        // the fresh histogram. Reset after, it dropped what completed in between, still counted.
        recorder.reset();
        end = endNanos;
        start = startNanos;
    }

    boolean isOpen() {
        return start != Long.MAX_VALUE;
    }

    /** Where the window ends; {@code Long.MAX_VALUE} until it is open. */
    long end() {
        return end;
    }

    boolean contains(long nanos) {
        return nanos >= start && nanos <= end;
    }

    /** A request submitted at {@code submittedNanos} was acknowledged at {@code doneNanos}. */
    void acknowledged(long submittedNanos, long doneNanos) {
        if (contains(doneNanos)) {
            acknowledged.incrementAndGet();
            recorder.recordValue(Math.max(1, (doneNanos - submittedNanos) / 1000));
        }
    }

    /** A request failed, or was given up on, at {@code doneNanos}. */
    void failed(long doneNanos) {
        if (contains(doneNanos)) {
            errors.incrementAndGet();
        }
    }

    long acknowledgedCount() {
        return acknowledged.get();
    }

    long errorCount() {
        return errors.get();
    }

    /** The latencies recorded since the window opened; call once, when no request is outstanding. */
    Histogram latencies() {
        return recorder.getIntervalHistogram();
    }
}

package io.raft4j.sim;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Linearizability of the simulation's client history, for its model: the state is the committed log
 * prefix, a write is the command a client proposed (it takes effect at the log index it is committed
 * at), and a read returns how far its node has applied. The order of the writes is therefore fixed by
 * their indexes, and the history is linearizable when that order, and the place of each read in it
 * (after exactly the writes at or below the index it returned), agree with real time:
 * <ul>
 *   <li>a write acknowledged before another was invoked has the lower index;</li>
 *   <li>a read sees every write acknowledged before it began;</li>
 *   <li>a read sees no write invoked after it ended;</li>
 *   <li>a read returns no less than a read that ended before it began.</li>
 * </ul>
 * Kept apart from the simulation so that its verdict on known histories can be tested on its own.
 */
final class LinearizabilityChecker {
    /** {@link Write#ackAt()} of a write no client heard back about. */
    static final long NOT_ACKNOWLEDGED = -1;

    /** A committed write: invoked at {@code invokeAt}, at log {@code index}, acknowledged at {@code ackAt}. */
    record Write(long invokeAt, long ackAt, long index) {
        boolean acknowledged() {
            return ackAt != NOT_ACKNOWLEDGED;
        }
    }

    /** A read invoked at {@code invokeAt} that returned {@code value} at {@code completeAt}. */
    record Read(long invokeAt, long completeAt, long value) {
    }

    private LinearizabilityChecker() {
    }

    /**
     * @param committed every write known committed, acknowledged or not
     * @param reads     every read that returned
     * @throws AssertionError naming the first real-time order the history breaks
     */
    static void check(List<Write> committed, List<Read> reads) {
        List<Write> acks = committed.stream().filter(Write::acknowledged)
                .sorted(Comparator.comparingLong(Write::ackAt)).toList();
        List<Write> byInvoke = committed.stream().sorted(Comparator.comparingLong(Write::invokeAt)).toList();
        checkWritesInRealTimeOrder(acks, byInvoke);
        List<Read> byEnd = new ArrayList<>(reads);
        byEnd.sort(Comparator.comparingLong(Read::completeAt));
        for (Read r : reads) {
            long maxAckedBefore = highestIndexAcknowledgedBefore(acks, r.invokeAt());
            if (r.value() < maxAckedBefore) {
                throw new AssertionError("linearizability: read invoked at " + r.invokeAt() + " returned " + r.value()
                        + " but a write acknowledged before it is at index " + maxAckedBefore);
            }
            for (Write w : byInvoke) {
                if (w.invokeAt() > r.completeAt() && w.index() <= r.value()) {
                    throw new AssertionError("linearizability: read completed at " + r.completeAt() + " returned "
                            + r.value() + " which includes a write invoked later at " + w.invokeAt());
                }
            }
            for (Read earlier : byEnd) {
                if (earlier.completeAt() >= r.invokeAt()) {
                    break;
                }
                if (earlier.value() > r.value()) {
                    throw new AssertionError("linearizability: read invoked at " + r.invokeAt() + " returned "
                            + r.value() + " after a read that ended earlier returned " + earlier.value());
                }
            }
        }
    }

    /** A write invoked after another was acknowledged must come after it in the log. */
    private static void checkWritesInRealTimeOrder(List<Write> acks, List<Write> byInvoke) {
        int next = 0;
        long maxAcked = 0;
        for (Write w : byInvoke) {
            while (next < acks.size() && acks.get(next).ackAt() < w.invokeAt()) {
                maxAcked = Math.max(maxAcked, acks.get(next++).index());
            }
            if (w.index() <= maxAcked) {
                throw new AssertionError("linearizability: write invoked at " + w.invokeAt() + " is at index " + w.index()
                        + ", not after index " + maxAcked + " of a write acknowledged before it");
            }
        }
    }

    private static long highestIndexAcknowledgedBefore(List<Write> acks, long time) {
        long max = 0;
        for (Write a : acks) {
            if (a.ackAt() >= time) {
                break;
            }
            max = Math.max(max, a.index());
        }
        return max;
    }
}

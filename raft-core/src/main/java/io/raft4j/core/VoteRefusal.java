package io.raft4j.core;

/**
 * How long a voter refuses to vote for another candidate after an append from its leader (leader
 * stickiness, thesis §9.6), in real time, and how much of such a window a leader's read lease may
 * count (thesis §6.4.1).
 *
 * <p>A lease holds while a quorum of voters still refuses votes: no other leader can be elected
 * until then. Each voter refuses for its own election timeout, in its own ticks, and only with
 * check-quorum on; nodes may run different settings (a rolling change of them), so each tells its
 * leader its window in microseconds of real time with every append answer ({@link #windowMicros})
 * and the leader converts it into its own ticks ({@link #leaseTicksOf}).
 *
 * @param settings   this node's settings
 * @param tickMicros the real length of one of this node's ticks, in microseconds
 */
record VoteRefusal(RaftConfig settings, long tickMicros) {
    /** Windows beyond this are taken as this much: far beyond any lease, and no overflow below. */
    static final long MAX_WINDOW_MICROS = Long.MAX_VALUE / 100;

    VoteRefusal {
        if (tickMicros <= 0) {
            throw new IllegalArgumentException("the tick length must be positive, was " + tickMicros + " µs");
        }
    }

    /**
     * This node's window, which it tells its leader: its election timeout less one tick, times its
     * tick, or 0 without check-quorum (it then votes whenever asked, however recently it heard from
     * its leader). Less one tick since its first tick may come right after the append: it refuses
     * for its election timeout in ticks, which is that much real time at least. Only the node knows
     * its tick, so it takes it off itself: a leader taking one of its own ticks off instead counted
     * too long a window from followers with longer ticks than its own.
     */
    long windowMicros() {
        if (!settings.checkQuorum()) {
            return 0;
        }
        return Math.min(MAX_WINDOW_MICROS / tickMicros, settings.electionTimeoutTicks() - 1L) * tickMicros;
    }

    /**
     * The ticks of this (leading) node a voter's window lets its lease run after the start of a round
     * the voter acknowledged: the window (its first tick already taken off by the voter) less the
     * allowed clock drift, in whole ticks, and never more than this node's own
     * {@link RaftConfig#leaseTicks()}. For a voter with this node's settings that is exactly
     * {@code leaseTicks()}.
     */
    long leaseTicksOf(long windowMicros) {
        long window = Math.min(Math.max(windowMicros, 0), MAX_WINDOW_MICROS);
        long ticks = window * (100 - settings.leaseClockDriftPercent()) / 100 / tickMicros;
        return Math.max(0, Math.min(settings.leaseTicks(), ticks));
    }
}

package io.raft4j.core;

/**
 * Keeps a node's promise to refuse votes across its restarts (thesis §6.4.1: a read lease rests on
 * it).
 *
 * <p>A follower tells its leader, in every append answer, the window it refuses votes for after
 * that append ({@link VoteRefusal#windowMicros}), and the leader's lease counts on it. A restarted
 * node refuses votes for its own election timeout from its start, which keeps that promise only
 * while its settings stay as they were: restarted with a shorter timeout (a rolling change of
 * settings), it could vote a new leader in while the old one still served reads from its lease.
 * So the longest window it may have announced is stored with its term and vote
 * ({@link io.raft4j.message.HardState#voteRefusalMicros()}), and for that long after a restart it
 * refuses votes and does not campaign; once that has run out, the stored window drops to the one it
 * announces now.
 */
final class RestartRefusal {
    private final long windowMicros;
    private final long startupTicks;
    private long durableMicros;
    private long ticks;

    /**
     * @param storedMicros the window the node's storage holds from before its start
     * @param windowMicros the window it announces now
     * @param tickMicros   the real length of one of its ticks
     */
    RestartRefusal(long storedMicros, long windowMicros, long tickMicros) {
        this.windowMicros = windowMicros;
        // No node announces more (a store may hold any value): counted in ticks of 1 µs, plus one,
        // Long.MAX_VALUE overflowed to a negative count, and the node refused nothing at all.
        long stored = Math.min(storedMicros, VoteRefusal.MAX_WINDOW_MICROS);
        // One tick more: the first may come right after the start, and the whole window must pass.
        this.startupTicks = stored <= 0 ? 0 : ceilDiv(stored, tickMicros) + 1;
        this.durableMicros = Math.max(stored, windowMicros);
    }

    private static long ceilDiv(long a, long b) {
        return a / b + (a % b == 0 ? 0 : 1);
    }

    /** The window to keep durable now: the longest one whose leases may still run. */
    long durableMicros() {
        return durableMicros;
    }

    /** Ticks after the start during which this node refuses votes and does not campaign. */
    long startupTicks() {
        return startupTicks;
    }

    /** Whether the window stored before the start still runs: no votes, no campaign. */
    boolean refusing() {
        return ticks < startupTicks;
    }

    /**
     * Counts one tick of this node, in any role.
     *
     * @return whether {@link #durableMicros} just changed and must be stored: the stored window ran
     *         out, and the one announced now is shorter
     */
    boolean tick() {
        if (ticks >= startupTicks) {
            return false;
        }
        ticks++;
        if (ticks == startupTicks && durableMicros != windowMicros) {
            durableMicros = windowMicros;
            return true;
        }
        return false;
    }
}

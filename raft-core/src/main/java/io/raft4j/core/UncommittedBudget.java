package io.raft4j.core;

/**
 * The bytes of commands a leader accepted in its term that are not committed and handed to its
 * state machine yet (payload plus {@link #PER_COMMAND_BYTES} each), against
 * {@link RaftConfig#maxUncommittedBytes()}. Without a bound, a leader cut off from its majority (or
 * with followers that cannot keep up) accepts proposals without end: its log, its pending futures
 * and its disk grow until the process fails. With one, it refuses new commands until commits catch
 * up, and the caller backs off.
 *
 * <p>A command is released when its entry is handed out for apply, not when it commits: a leader
 * whose state machine is slower than its commits holds committed entries back in its log (the
 * runtime's apply backlog is full, {@link RaftCore#pauseApplies}), and each still has its caller's
 * future waiting. Released at commit, those grew without bound under a steady load (etcd's server
 * refuses proposals for the same reason once its applied index lags its commit index).
 *
 * <p>Kept as a queue of (index, bytes proposed up to it) so that a release frees its bytes in
 * O(1) per entry without reading the log. Only this term's commands count (as in etcd's raft); the
 * entries of earlier terms a new leader inherits are few and already on its disk.
 */
final class UncommittedBudget {
    /**
     * What a pending command holds beyond its payload (its entry, its caller's future, their
     * bookkeeping), counted with it: empty or tiny commands are bounded too, not only their bytes.
     */
    static final int PER_COMMAND_BYTES = 128;

    private final long limit;
    private long[] indexes = new long[64];
    private long[] cumulative = new long[64];
    private int head;
    private int size;
    private long proposed;
    private long released;

    UncommittedBudget(long limit) {
        this.limit = limit;
    }

    /**
     * Whether a command of {@code bytes} fits: always when nothing is uncommitted, so that a command
     * up to {@link RaftConfig#maxEntryBytes()} is never refused for good.
     */
    boolean admits(long bytes) {
        long held = held();
        return held == 0 || held + bytes + PER_COMMAND_BYTES <= limit;
    }

    /** Bytes of this term's commands not handed to apply yet, {@link #PER_COMMAND_BYTES} each included. */
    long held() {
        return proposed - released;
    }

    /** Counts a command of {@code bytes} appended at {@code index}. */
    void proposed(long index, long bytes) {
        if (size == indexes.length) {
            grow();
        }
        int at = (head + size) % indexes.length;
        proposed += bytes + PER_COMMAND_BYTES;
        indexes[at] = index;
        cumulative[at] = proposed;
        size++;
    }

    /** Releases every command at or below {@code index}, committed and handed out for apply. */
    void handedToApplyThrough(long index) {
        while (size > 0 && indexes[head] <= index) {
            released = cumulative[head];
            head = (head + 1) % indexes.length;
            size--;
        }
    }

    private void grow() {
        long[] newIndexes = new long[indexes.length * 2];
        long[] newCumulative = new long[indexes.length * 2];
        for (int i = 0; i < size; i++) {
            newIndexes[i] = indexes[(head + i) % indexes.length];
            newCumulative[i] = cumulative[(head + i) % indexes.length];
        }
        indexes = newIndexes;
        cumulative = newCumulative;
        head = 0;
    }

    @Override
    public String toString() {
        return "UncommittedBudget[" + held() + " of " + limit + " bytes in " + size + " commands]";
    }
}

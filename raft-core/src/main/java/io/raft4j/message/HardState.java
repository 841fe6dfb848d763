package io.raft4j.message;

/**
 * The state a node must make durable before it answers a vote request (Raft Figure 2,
 * "Persistent state on all servers"): the current term and the vote cast in it; and, for read
 * leases, the longest vote-refusal window the node may have promised a leader whose lease may
 * still run.
 *
 * <p>A follower tells its leader, with every answer to an append, how long it will refuse votes
 * (its election timeout, in real time). The leader's read lease counts on that promise, and a
 * restart must not break it: a node restarted with a shorter election timeout (a rolling change of
 * settings) first refuses votes, and holds back its own campaign, for the window stored here.
 *
 * @param term              the latest term this node has seen, 0 initially
 * @param votedFor          the candidate voted for in {@code term}, or {@code null}
 * @param voteRefusalMicros the longest vote-refusal window, in microseconds of real time, this
 *                          node may have announced to a leader whose lease may still run; 0 for
 *                          none (a node without check-quorum, or one that never ran)
 */
public record HardState(long term, String votedFor, long voteRefusalMicros) {
    /** The state of a node that has never run. */
    public static final HardState INITIAL = new HardState(0, null, 0);

    /** Rejects a negative term or window. */
    public HardState {
        if (term < 0) {
            throw new IllegalArgumentException("term must be >= 0: " + term);
        }
        if (voteRefusalMicros < 0) {
            throw new IllegalArgumentException("the vote refusal window must be >= 0: " + voteRefusalMicros);
        }
    }

    /**
     * A term and vote with no vote-refusal window: what a store written before windows were stored
     * recovers.
     */
    public HardState(long term, String votedFor) {
        this(term, votedFor, 0);
    }
}

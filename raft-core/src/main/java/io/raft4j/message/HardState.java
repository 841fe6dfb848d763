package io.raft4j.message;

/**
 * The state a node must make durable before it answers a vote request (Raft Figure 2,
 * "Persistent state on all servers"): the current term and the vote cast in it; for read leases,
 * the longest vote-refusal window the node may have promised a leader whose lease may still run;
 * and which bootstrap of its group the node belongs to.
 *
 * <p>A follower tells its leader, with every answer to an append, how long it will refuse votes
 * (its election timeout, in real time). The leader's read lease counts on that promise, and a
 * restart must not break it: a node restarted with a shorter election timeout (a rolling change of
 * settings) first refuses votes, and holds back its own campaign, for the window stored here.
 *
 * <p>Nodes started on the same group with different initial members each write a first
 * configuration of their own, at the same index and term: Raft's log matching then no longer holds
 * between them, and each side counts majorities of its own list. The bootstrap fingerprint tells
 * them apart: a hash of the group id and the voters it was bootstrapped with, carried by every vote
 * request, append and snapshot chunk; a node drops those of another bootstrap, and says so.
 *
 * @param term                 the latest term this node has seen, 0 initially
 * @param votedFor             the candidate voted for in {@code term}, or {@code null}
 * @param voteRefusalMicros    the longest vote-refusal window, in microseconds of real time, this
 *                             node may have announced to a leader whose lease may still run; 0 for
 *                             none (a node without check-quorum, or one that never ran)
 * @param bootstrapFingerprint the fingerprint of the bootstrap this node's group comes from (never
 *                             0 once known); 0 while unknown: a node that joined and has not heard
 *                             from a leader, or a store written before fingerprints were kept
 */
public record HardState(long term, String votedFor, long voteRefusalMicros, long bootstrapFingerprint) {
    /** The state of a node that has never run. */
    public static final HardState INITIAL = new HardState(0, null, 0, 0);

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
     * A term and vote with no vote-refusal window and no bootstrap fingerprint: what a store
     * written before those were stored recovers.
     */
    public HardState(long term, String votedFor) {
        this(term, votedFor, 0, 0);
    }
}

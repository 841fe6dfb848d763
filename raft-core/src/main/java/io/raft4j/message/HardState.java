package io.raft4j.message;

/**
 * The state a node must make durable before it answers a vote request (Raft Figure 2,
 * "Persistent state on all servers"): the current term and the vote cast in it.
 *
 * @param term     the latest term this node has seen, 0 initially
 * @param votedFor the candidate voted for in {@code term}, or {@code null}
 */
public record HardState(long term, String votedFor) {
    /** The state of a node that has never run. */
    public static final HardState INITIAL = new HardState(0, null);

    /** Rejects a negative term. */
    public HardState {
        if (term < 0) {
            throw new IllegalArgumentException("term must be >= 0: " + term);
        }
    }
}

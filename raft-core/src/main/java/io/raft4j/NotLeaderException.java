package io.raft4j;

/**
 * This node is not the leader (or, for a read, no leader confirmed it in time, or a follower did not
 * receive the entries up to the read index it was given in time), so it did not carry out the
 * request; nothing was changed. Safe to retry on the leader named by {@link #leaderId()} (if
 * known).
 */
public class NotLeaderException extends RaftException {
    private static final long serialVersionUID = 1L;
    private final String leaderId;

    public NotLeaderException(String nodeId, String leaderId) {
        super("node " + nodeId + " is not the leader" + (leaderId == null ? "; leader unknown" : "; leader is " + leaderId));
        this.leaderId = leaderId;
    }

    /** The leader this node knows of, or {@code null}. */
    public String leaderId() {
        return leaderId;
    }
}

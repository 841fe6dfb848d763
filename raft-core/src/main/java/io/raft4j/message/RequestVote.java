package io.raft4j.message;

/**
 * RequestVote RPC (Raft Figure 2), also used for PreVote (thesis §9.6).
 *
 * @param lastLogIndex        index of the candidate's last entry
 * @param lastLogTerm         term of the candidate's last entry
 * @param preVote             a pre-vote: asks whether the receiver would vote, changes no state
 * @param leadershipTransfer  sent after {@link TimeoutNow}: the receiver may disregard leader
 *                            stickiness because the current leader asked for this election
 * @param bootstrapFingerprint the sender's {@link HardState#bootstrapFingerprint()}: which bootstrap of the
 *                            group it belongs to; 0 if it does not know (an older sender, or a node that
 *                            joined and has heard from no leader yet). A receiver that knows another one
 *                            drops the message
 */
public record RequestVote(String groupId, String from, String to, long term, long lastLogIndex,
                          long lastLogTerm, boolean preVote, boolean leadershipTransfer, long bootstrapFingerprint)
        implements RaftMessage {

    /** Without a bootstrap fingerprint (0: not known). */
    public RequestVote(String groupId, String from, String to, long term, long lastLogIndex, long lastLogTerm,
                       boolean preVote, boolean leadershipTransfer) {
        this(groupId, from, to, term, lastLogIndex, lastLogTerm, preVote, leadershipTransfer, 0);
    }
}

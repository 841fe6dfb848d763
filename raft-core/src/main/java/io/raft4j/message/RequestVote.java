package io.raft4j.message;

/**
 * RequestVote RPC (Raft Figure 2), also used for PreVote (thesis §9.6).
 *
 * @param lastLogIndex        index of the candidate's last entry
 * @param lastLogTerm         term of the candidate's last entry
 * @param preVote             a pre-vote: asks whether the receiver would vote, changes no state
 * @param leadershipTransfer  sent after {@link TimeoutNow}: the receiver may disregard leader
 *                            stickiness because the current leader asked for this election
 */
public record RequestVote(String groupId, String from, String to, long term, long lastLogIndex,
                          long lastLogTerm, boolean preVote, boolean leadershipTransfer)
        implements RaftMessage {
}

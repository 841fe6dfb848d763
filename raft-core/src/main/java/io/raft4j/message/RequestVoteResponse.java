package io.raft4j.message;

/**
 * Answer to {@link RequestVote}.
 *
 * @param granted whether the vote (or pre-vote) is granted
 * @param preVote whether this answers a pre-vote
 */
public record RequestVoteResponse(String groupId, String from, String to, long term, boolean granted,
                                  boolean preVote) implements RaftMessage {
}

package io.raft4j.core;

/**
 * A leader's view of one follower, for monitoring: how far its log is known to match and whether it
 * answers. {@code leaderLastIndex - matchIndex} is how far it lags.
 *
 * @param nodeId         the follower
 * @param voter          whether it votes (else a learner)
 * @param matchIndex     highest index known to be in its log (Raft's matchIndex); 0 until it answers
 * @param nextIndex      next index the leader sends it (Raft's nextIndex)
 * @param state          how the leader replicates to it now
 * @param recentlyActive whether it answered within the last one to two election timeouts (the
 *                       leader counts answers per election timeout, as CheckQuorum does)
 */
public record FollowerProgress(String nodeId, boolean voter, long matchIndex, long nextIndex,
                               ReplicationState state, boolean recentlyActive) {
}

package io.raft4j.message;

/**
 * Answer to {@link AppendEntries}.
 *
 * <p>On success {@code index} is the last index known to match the leader's log. On rejection
 * {@code index} is the rejected request's {@code prevLogIndex} (so the leader can tell a stale
 * rejection from a current one) and the hint lets the leader skip a whole divergent term per round
 * trip: {@code hintTerm} is the follower's term at {@code prevLogIndex} (0 if its log is shorter)
 * and {@code hintIndex} the first index the follower holds with that term (or its last index + 1
 * if its log is shorter).
 *
 * @param success   whether the entries were accepted
 * @param index     last matching index (success) or the rejected {@code prevLogIndex}
 * @param hintIndex on rejection, where the leader should look next
 * @param hintTerm  on rejection, the conflicting term, or 0
 * @param round     the heartbeat round of the request being answered
 * @param voteRefusalMicros how long, in microseconds of real time, the sender refuses to vote for
 *                  another candidate after taking an append from its leader (its election timeout
 *                  less one tick, times its tick: its first tick may come at once; 0 without
 *                  check-quorum). The leader counts its read lease by the windows of the voters
 *                  that acknowledged it, as nodes need not share settings
 */
public record AppendEntriesResponse(String groupId, String from, String to, long term, boolean success,
                                    long index, long hintIndex, long hintTerm, long round, long voteRefusalMicros)
        implements RaftMessage {
}

package io.raft4j.message;

/**
 * Answer to {@link ReadIndexRequest}.
 *
 * @param requestId the follower's id for the read
 * @param readIndex the leader's commit index once its leadership was confirmed, which the follower
 *                  must apply before serving the read; 0 when refused
 * @param refused   whether the receiver does not lead (the read fails and is retried elsewhere)
 */
public record ReadIndexResponse(String groupId, String from, String to, long term, long requestId,
                                long readIndex, boolean refused) implements RaftMessage {

    /** A refusal: the receiver does not lead in {@code term}. */
    public static ReadIndexResponse refusal(String groupId, String from, String to, long term, long requestId) {
        return new ReadIndexResponse(groupId, from, to, term, requestId, 0, true);
    }
}

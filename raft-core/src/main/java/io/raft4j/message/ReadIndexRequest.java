package io.raft4j.message;

/**
 * Sent by a follower to its leader for a linearizable read it serves itself (Raft thesis §6.4): the
 * leader confirms it still leads and answers with its commit index as the read index.
 *
 * @param requestId the follower's id for the read, echoed in the answer
 * @param lease     whether the leader may answer from its lease instead of a heartbeat round
 */
public record ReadIndexRequest(String groupId, String from, String to, long term, long requestId,
                               boolean lease) implements RaftMessage {
}

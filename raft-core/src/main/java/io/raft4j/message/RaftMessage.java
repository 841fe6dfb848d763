package io.raft4j.message;

/**
 * A message between members of one Raft group. Every message names its group, so one process (and
 * one transport) can host many groups, and carries the sender's term (Raft §5.1).
 *
 * <p>The set of messages is closed; transports map each of them to their wire format.
 */
public sealed interface RaftMessage
        permits AppendEntries, AppendEntriesResponse, RequestVote, RequestVoteResponse, TimeoutNow,
        InstallSnapshot, InstallSnapshotResponse, ReadIndexRequest, ReadIndexResponse {

    /** The Raft group this message belongs to. */
    String groupId();

    /** The sending member's id. */
    String from();

    /** The receiving member's id. */
    String to();

    /** The sender's current term (for a pre-vote request: the term it would campaign in). */
    long term();

    /** Approximate encoded size, for transport limits and flow control. */
    default long sizeBytes() {
        return 64;
    }
}

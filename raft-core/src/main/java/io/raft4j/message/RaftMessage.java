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

    /**
     * The largest term or log index a message may carry: 2<sup>62</sup>, far beyond what any cluster
     * reaches, and far enough below {@code Long.MAX_VALUE} that the next term or the next index never
     * overflows. The core drops a message carrying a larger one (or a negative one), whichever
     * transport delivered it; transports may refuse such messages earlier.
     */
    long MAX_TERM_OR_INDEX = 1L << 62;

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

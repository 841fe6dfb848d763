package io.raft4j;

/**
 * Counters of what a node has done since it started, for monitoring: poll {@link RaftNode#stats()}
 * and export the differences between two polls as rates (writes per second, mean write time over
 * the interval, elections per hour). Each counter only grows; a restarted node starts from zero.
 *
 * @param electionsStarted   elections this node started as a candidate (pre-votes that did not lead
 *                           to one are not counted); a steady rise on every node means the election
 *                           timeout is too short for the network, disk or GC pauses
 * @param termsLed           terms in which this node became leader
 * @param proposalsAccepted  commands this node accepted for replication as leader
 * @param commandsApplied    committed commands applied to the state machine here
 * @param logWrites          writes to the log storage, each one group of appends (and the term and
 *                           vote) made durable together
 * @param entriesWritten     entries those writes held
 * @param bytesWritten       payload bytes of those entries
 * @param logWriteNanos      time spent in those writes, syncs included
 * @param maxLogWriteNanos   the longest of them
 * @param readsServed        queries answered here, at any consistency (linearizable and lease ones
 *                           on the leader, or on a follower with the leader's read index)
 * @param readsGivenUp       linearizable and lease queries failed because they could not be
 *                           confirmed (leadership changed, or no confirmation within an election
 *                           timeout); callers retry
 * @param snapshotsTaken     snapshots of the state machine taken here
 * @param snapshotsFailed    snapshots that failed to be taken (the state machine's {@code snapshot()} or
 *                           {@code writeTo} threw, or the snapshot store failed); the node goes on with
 *                           its log uncompacted and tries again at the next interval; should stay 0
 * @param snapshotsInstalled snapshots received from a leader and installed, replacing the state
 * @param followerLogLosses  times this node, leading, found that a follower had lost entries it
 *                           acknowledged (a damaged or replaced disk: see docs/operations.md) and
 *                           sent them again; should stay 0
 * @param proposalsRefusedOverloaded proposals this node refused with
 *                           {@link OverloadedException} because its uncommitted commands, with the
 *                           proposals waiting for its event loop, were at
 *                           {@code RaftConfig.maxUncommittedBytes}; a rise means a majority is
 *                           unreachable, the followers' disks cannot keep up, or this node's event
 *                           loop is held up
 * @param readsRefusedOverloaded queries this node refused with {@link OverloadedException} because
 *                           {@code RaftConfig.maxQueuedReads} reads waited for its event loop already;
 *                           a rise means its event loop is held up, or reads come faster than it
 *                           takes them up
 * @param inboundMessagesDropped messages from other members dropped on arrival because too many
 *                           waited already for this node's event loop (at most 65,536, and some
 *                           tens of MiB of appends and snapshot chunks: see docs/configuration.md);
 *                           Raft sends again what matters. Members that follow the protocol stay far
 *                           below that bound: a rise means a member floods this node, or its loop
 *                           stood still for long (a stalled disk with writes on the loop)
 * @param membershipChangesRefused membership changes ({@code changeMembership}, {@code addVoter},
 *                           {@code addLearner}, {@code promote}, {@code removeMember}) this node refused
 *                           because of the group's state: it does not lead
 *                           ({@link NotLeaderException}), or the change was refused
 *                           ({@link MembershipChangeException}: another change or a leadership transfer
 *                           under way, the strict check finding the new voters silent, no quorum left).
 *                           Not counted: a caller's bad input ({@link IllegalArgumentException}), and a
 *                           change that fails after it was proposed (leadership lost) or an
 *                           {@code addVoter} whose learner never catches up.
 *                           A steady rise means a tool keeps retrying what the group will not do, or
 *                           keeps sending it to a follower
 * @param leadershipTransfersRefused leadership transfers this node refused at once because of the
 *                           group's state: it does not lead, the target is itself or no voter, a
 *                           transfer is under way, or no other voter answers; not counted: bad input,
 *                           and a transfer that starts and then times out or ends with another leader
 * @param adminCallsRefusedOverloaded admin calls (the two kinds above, {@code takeSnapshot},
 *                           {@code followers}, {@code whenLeaderKnown}) refused with
 *                           {@link OverloadedException} because {@code RaftNode.MAX_QUEUED_ADMIN_CALLS}
 *                           waited for its event loop already; a rise means a tool floods the node, or
 *                           its event loop is held up
 * @param leaseReadsFromLease lease reads ({@code ReadConsistency.LEASE}, asked here or relayed by a
 *                           follower) this node, leading, answered from its lease, without a heartbeat round
 * @param leaseReadsByRound  lease reads this node, leading, confirmed with a heartbeat round instead: it
 *                           held no lease then (before its term's first commit, after it tried a
 *                           leadership transfer, or with too few voters whose announced vote-refusal
 *                           windows still ran: followers without check-quorum, members of an older
 *                           release), or the lease ran out before the read was handed out. A high share
 *                           means lease reads cost a round trip, as linearizable ones do
 * @param proposalBatchesFull batches of proposals this node, leading with a proposal batch window
 *                           ({@code RaftNode.Builder.proposalBatchWindow}), held until as many had come
 *                           as its last commit completed, then stepped together
 * @param proposalBatchesAtWindowEnd batches it held that the end of the window stepped before that
 *                           many came; a high share of these means the window mostly delays proposals
 *                           (callers do not come back together), and is better set to zero
 */
public record NodeStats(long electionsStarted, long termsLed, long proposalsAccepted, long commandsApplied,
                        long logWrites, long entriesWritten, long bytesWritten, long logWriteNanos,
                        long maxLogWriteNanos, long readsServed, long readsGivenUp, long snapshotsTaken,
                        long snapshotsFailed, long snapshotsInstalled, long followerLogLosses, long proposalsRefusedOverloaded,
                        long readsRefusedOverloaded, long inboundMessagesDropped, long membershipChangesRefused,
                        long leadershipTransfersRefused, long adminCallsRefusedOverloaded, long leaseReadsFromLease,
                        long leaseReadsByRound, long proposalBatchesFull, long proposalBatchesAtWindowEnd) {

    /** Mean time of one log write in microseconds since the start, or 0 before the first. */
    public double meanLogWriteMicros() {
        return logWrites == 0 ? 0 : logWriteNanos / 1_000.0 / logWrites;
    }
}

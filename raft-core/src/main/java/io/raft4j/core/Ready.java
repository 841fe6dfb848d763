package io.raft4j.core;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.SnapshotMeta;

import java.util.List;

/**
 * One batch of effects the core asks its driver to carry out, in this order:
 * <ol>
 *   <li>persist {@code hardState} (if not {@code null}) and {@code entriesToPersist} in one durable
 *       write, then report it with {@link RaftCore#persisted(long, long)};</li>
 *   <li>send {@code messages} at once: they do not depend on that write (the leader replicates in
 *       parallel with its own write, thesis §10.2.1);</li>
 *   <li>send {@code messagesAfterPersist} only once that write and every earlier one are durable:
 *       vote grants and append acknowledgements promise durable state (thesis §3.8). Messages
 *       addressed to this node itself must be given back to {@link RaftCore#step};</li>
 *   <li>apply {@code committedEntries} in order;</li>
 *   <li>answer the read requests in {@code readStates} once the state machine has applied up to
 *       each one's index, and fail those in {@code abandonedReads} (the caller may retry them).</li>
 * </ol>
 *
 * @param hardState            term and vote to persist, or {@code null} if unchanged
 * @param entriesToPersist     entries to append durably (may replace a suffix of the stored log)
 * @param messages             messages to send now
 * @param messagesAfterPersist messages to send after the write is durable
 * @param committedEntries     committed, locally durable entries to apply, in order
 * @param readStates           confirmed read-index requests
 * @param abandonedReads       ids of read requests that will never be confirmed (the leadership that
 *                             took them ended, the follower's term moved on, or its leader did not
 *                             answer within an election timeout)
 * @param roleChanged          whether role, term or leader changed since the last batch
 * @param abandonSnapshotReceiving whether to drop the snapshot being received (its transfer was
 *                             given up) before storing {@code snapshotChunks}
 * @param snapshotChunks       snapshot chunks received from the leader, to store in order with the
 *                             write (their acknowledgements are among {@code messagesAfterPersist})
 * @param snapshotToInstall    a received, published snapshot the state machine must be restored
 *                             from before applying {@code committedEntries}, or {@code null}
 * @param compaction           a change to the start of the stored log, or {@code null}: a compaction is
 *                             made after {@code entriesToPersist} are written (a snapshot from the
 *                             leader may cover some of them), a reset before (they follow it)
 */
public record Ready(HardState hardState, List<LogEntry> entriesToPersist, List<RaftMessage> messages,
                    List<RaftMessage> messagesAfterPersist, List<LogEntry> committedEntries,
                    List<ReadState> readStates, List<Long> abandonedReads, boolean roleChanged,
                    boolean abandonSnapshotReceiving, List<SnapshotChunk> snapshotChunks,
                    SnapshotMeta snapshotToInstall, LogCompaction compaction) {

    /** Whether there is anything to write (log, hard state, snapshot chunks or compaction). */
    public boolean mustPersist() {
        return hardState != null || !entriesToPersist.isEmpty() || abandonSnapshotReceiving || !snapshotChunks.isEmpty()
                || compaction != null;
    }

}

package io.raft4j.message;

import java.util.List;

/**
 * AppendEntries RPC (Raft Figure 2): replicates entries and, with no entries, serves as heartbeat.
 *
 * @param prevLogIndex index of the entry just before {@code entries}
 * @param prevLogTerm  term of that entry
 * @param entries      entries to store, contiguous from {@code prevLogIndex + 1}; empty for heartbeats
 * @param leaderCommit the leader's commit index
 * @param round        the leader's heartbeat round, echoed in the response; lets the leader confirm
 *                     it still leads for read-index reads (Raft thesis §6.4)
 * @param recipientRemoved whether the leader's configuration no longer lists the recipient: only
 *                     such a message makes a node whose log says it was removed stop (a node added
 *                     back under a removed one's id replays that old removal while it catches up)
 * @param bootstrapFingerprint the sender's {@link HardState#bootstrapFingerprint()}: which bootstrap of the
 *                     group it belongs to; 0 if it does not know (an older sender, or a node that
 *                     joined and has heard from no leader yet). A receiver that knows another one
 *                     drops the message
 */
public record AppendEntries(String groupId, String from, String to, long term, long prevLogIndex,
                            long prevLogTerm, List<LogEntry> entries, long leaderCommit, long round,
                            boolean recipientRemoved, long bootstrapFingerprint)
        implements RaftMessage {
    /** Copies {@code entries}: the message is immutable. */
    public AppendEntries {
        entries = List.copyOf(entries);
        if (!entries.isEmpty() && entries.get(0).index() != prevLogIndex + 1) {
            throw new IllegalArgumentException("entries must start at prevLogIndex + 1");
        }
    }

    /** Without a bootstrap fingerprint (0: not known). */
    public AppendEntries(String groupId, String from, String to, long term, long prevLogIndex, long prevLogTerm,
                         List<LogEntry> entries, long leaderCommit, long round, boolean recipientRemoved) {
        this(groupId, from, to, term, prevLogIndex, prevLogTerm, entries, leaderCommit, round, recipientRemoved, 0);
    }

    /** To a member of the leader's configuration, without a bootstrap fingerprint. */
    public AppendEntries(String groupId, String from, String to, long term, long prevLogIndex, long prevLogTerm,
                         List<LogEntry> entries, long leaderCommit, long round) {
        this(groupId, from, to, term, prevLogIndex, prevLogTerm, entries, leaderCommit, round, false, 0);
    }

    /** Index of the last entry carried, or {@code prevLogIndex} for a heartbeat. */
    public long lastIndex() {
        return prevLogIndex + entries.size();
    }

    @Override
    public long sizeBytes() {
        long size = 64;
        for (LogEntry e : entries) {
            size += e.sizeBytes();
        }
        return size;
    }
}

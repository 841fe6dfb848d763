package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The follower side of replication: takes the leader's appends into the log (Figure 2,
 * AppendEntries receiver) and hands its snapshot chunks to the {@link SnapshotInstaller}, answering
 * the leader either way.
 */
final class FollowerReplication {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerReplication.class);

    /** What the follower side of replication needs of the node it runs on. */
    interface Node {
        long term();

        Role role();

        /**
         * {@code leader} sent a message of the current term: this node follows it (a candidate steps
         * down) and restarts its election timer.
         */
        void follow(String leader);

        /** Entries just appended hold a configuration that lists this node ({@code listed}) or not. */
        void noteListed(boolean listed);

        void send(RaftMessage m);
    }

    private final String id;
    private final String groupId;
    private final RaftLog log;
    private final ConfigHistory configs;
    private final SnapshotInstaller installer;
    private final Node node;
    /** Told the leader with every answer: what its lease may count on this node (see {@link VoteRefusal}). */
    private final long voteRefusalMicros;

    /** What the leader's last append said: its configuration no longer lists this node. */
    private boolean leaderSaysRemoved;
    /** Appends and snapshot chunks of another leader of this leader's own term, ignored. */
    private long otherLeaderMessagesIgnored;

    FollowerReplication(RaftConfig settings, long voteRefusalMicros, RaftLog log, ConfigHistory configs,
            SnapshotInstaller installer, Node node) {
        this.id = settings.nodeId();
        this.voteRefusalMicros = voteRefusalMicros;
        this.groupId = settings.groupId();
        this.log = log;
        this.configs = configs;
        this.installer = installer;
        this.node = node;
    }

    /** See {@link RaftCore#isRemoved()}. */
    boolean leaderSaysRemoved() {
        return leaderSaysRemoved;
    }

    void onAppendEntries(AppendEntries m) {
        if (node.role() == Role.LEADER) {
            ignoreOtherLeader(m, "append");
            return;
        }
        node.follow(m.from());
        leaderSaysRemoved = m.recipientRemoved();

        long prevIndex = m.prevLogIndex();
        List<LogEntry> entries = m.entries();
        long committed = log.committed();
        if (prevIndex < committed) {
            // Entries up to our commit index are known to match: skip them (never truncate them).
            checkCommittedPrefixMatches(m, committed);
            int skip = (int) Math.min(entries.size(), committed - prevIndex);
            entries = entries.subList(skip, entries.size());
            prevIndex = committed;
            if (entries.isEmpty() && m.lastIndex() <= committed) {
                sendAppendAnswer(m, true, committed, 0, 0);
                return;
            }
        } else if (!log.matchTerm(prevIndex, m.prevLogTerm())) {
            rejectAppend(m);
            return;
        }
        long lastNew = entries.isEmpty() ? prevIndex : appendFromLeader(entries);
        log.commitTo(Math.min(m.leaderCommit(), lastNew));
        sendAppendAnswer(m, true, lastNew, 0, 0);
    }

    /**
     * Every leader holds the entries a follower knows committed, with the same terms (Leader
     * Completeness), so a leader disagreeing about one proves this log is of another history: the
     * data directory of another cluster, or damaged storage. Acknowledging would let the leader count
     * entries this node does not hold toward its commits, and applying on would serve another
     * history, so the node stops, saying why. Checked where it costs one lookup each: the entry
     * before the append, and the last of its entries skipped as already committed.
     */
    private void checkCommittedPrefixMatches(AppendEntries m, long committed) {
        checkCommittedEntry(m, m.prevLogIndex(), m.prevLogTerm());
        long lastSkipped = Math.min(committed, m.lastIndex());
        if (lastSkipped > m.prevLogIndex()) {
            LogEntry e = m.entries().get((int) (lastSkipped - m.prevLogIndex() - 1));
            checkCommittedEntry(m, e.index(), e.term());
        }
    }

    private void checkCommittedEntry(AppendEntries m, long index, long leadersTerm) {
        long ours = log.term(index);
        if (index > 0 && ours != RaftLog.UNKNOWN_TERM && ours != leadersTerm) {
            throw new IllegalStateException(id + ": leader " + m.from() + " of term " + m.term() + " holds entry " + index
                    + " with term " + leadersTerm + " where this node's log, committed up to " + log.committed()
                    + ", has term " + ours + ": this log is not of this group's history (a data directory of another"
                    + " cluster, or damaged storage). Stopping; start this node on an empty data directory");
        }
    }

    private long appendFromLeader(List<LogEntry> entries) {
        long firstNew = firstConflictOrNew(entries);
        if (firstNew < 0) {
            return entries.get(entries.size() - 1).index();
        }
        List<LogEntry> toAppend = entries.subList((int) (firstNew - entries.get(0).index()), entries.size());
        long last = log.appendFollowing(toAppend);
        configs.onAppended(toAppend);
        node.noteListed(configs.listsSince(firstNew, id));
        return last;
    }

    /** Index of the first entry not already in our log with the same term, or -1 if all are present. */
    private long firstConflictOrNew(List<LogEntry> entries) {
        for (LogEntry e : entries) {
            if (e.index() > log.lastIndex() || log.term(e.index()) != e.term()) {
                return e.index();
            }
        }
        return -1;
    }

    private void rejectAppend(AppendEntries m) {
        long prev = m.prevLogIndex();
        if (prev > log.lastIndex()) {
            sendAppendAnswer(m, false, prev, log.lastIndex() + 1, 0);
            return;
        }
        long conflictTerm = log.term(prev);
        long floor = Math.max(log.committed() + 1, log.firstIndex());
        long firstOfTerm = log.firstIndexWithTermAtLeast(conflictTerm, floor, prev);
        sendAppendAnswer(m, false, prev, firstOfTerm, conflictTerm);
    }

    private void sendAppendAnswer(AppendEntries m, boolean success, long index, long hintIndex, long hintTerm) {
        node.send(new AppendEntriesResponse(groupId, id, m.from(), node.term(), success, index, hintIndex, hintTerm,
                m.round(), voteRefusalMicros));
    }

    void onInstallSnapshot(InstallSnapshot m) {
        if (node.role() == Role.LEADER) {
            ignoreOtherLeader(m, "snapshot");
            return;
        }
        node.follow(m.from());
        installer.onChunk(m);
    }

    /**
     * Two leaders of one term: election safety is broken, by a mistake no single node can see. The
     * other leader sends with every heartbeat, so only the first and then every time the count
     * doubles are errors (one a heartbeat made the log grow by ten lines a second, for ever); the
     * rest are logged at debug level.
     */
    private void ignoreOtherLeader(RaftMessage m, String what) {
        otherLeaderMessagesIgnored++;
        boolean error = (otherLeaderMessagesIgnored & (otherLeaderMessagesIgnored - 1)) == 0;
        if (error || LOG.isDebugEnabled()) {
            String line = "{}: another leader {} in my term {}: ignoring its {} ({} ignored so far). Two leaders of"
                    + " one term break Raft's guarantees; the usual causes: nodes bootstrapped with different initial"
                    + " members (compare each node's first 'bootstrapped group ... with voters' line), one node id"
                    + " running in two processes, or a voter restarted on a lost, older or other node's data"
                    + " directory. Stop the nodes of the side that should not exist";
            Object[] args = {id, m.from(), node.term(), what, otherLeaderMessagesIgnored};
            if (error) {
                LOG.error(line, args);
            } else {
                LOG.debug(line, args);
            }
        }
    }
}

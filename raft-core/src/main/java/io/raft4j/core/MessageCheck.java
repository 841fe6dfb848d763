package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.ReadIndexResponse;
import io.raft4j.message.RequestVote;

import java.util.List;

/**
 * Recognizes messages no correct member sends, which the core must not act on: whatever the
 * transport (an embedder's own, or the in-memory one), a broken or confused peer could otherwise
 * hand it a term it can never move past (the next term overflowing to a negative one), or a batch of
 * entries that breaks what the log relies on (terms never decrease along the log, and no entry is of
 * a term later than the leader's). The messages' records check only what any use of them needs.
 *
 * <p>Cheap on the hot path: one pass over an append's entries, no allocation.
 */
final class MessageCheck {

    private MessageCheck() {
    }

    /** What makes {@code m} impossible from a correct member, or {@code null} if nothing does. */
    static String problemWith(RaftMessage m) {
        long term = m.term();
        if (!isTermOrIndex(term)) {
            return "term out of range";
        }
        if (m instanceof AppendEntries a) {
            return problemWithAppend(a);
        }
        if (m instanceof InstallSnapshot s) {
            if (!isTermOrIndex(s.meta().lastIndex()) || !isTermOrIndex(s.meta().lastTerm())) {
                return "snapshot index or term out of range";
            }
            return s.meta().lastTerm() > term ? "snapshot of a term later than the message's" : null;
        }
        if (m instanceof RequestVote v) {
            if (!isTermOrIndex(v.lastLogIndex()) || !isTermOrIndex(v.lastLogTerm())) {
                return "last log index or term out of range";
            }
            return v.lastLogTerm() > term ? "last log term later than the message's term" : null;
        }
        if (m instanceof AppendEntriesResponse r) {
            boolean inRange = isTermOrIndex(r.index()) && isTermOrIndex(r.hintIndex()) && isTermOrIndex(r.hintTerm());
            if (!inRange) {
                return "index or hint out of range";
            }
            return r.voteRefusalMicros() < 0 ? "negative vote refusal window" : null;
        }
        if (m instanceof InstallSnapshotResponse r) {
            return isTermOrIndex(r.snapshotIndex()) ? null : "snapshot index out of range";
        }
        if (m instanceof ReadIndexResponse r) {
            return isTermOrIndex(r.readIndex()) ? null : "read index out of range";
        }
        return null; // RequestVoteResponse, TimeoutNow, ReadIndexRequest: nothing beyond the term
    }

    /**
     * The entries must continue the log at {@code prevLogIndex + 1} one index after the other, with
     * terms from {@code prevLogTerm} up to the message's term, never decreasing: the shape of every
     * leader's log (Raft §5.3), which the follower's log takes on.
     */
    private static String problemWithAppend(AppendEntries a) {
        if (!isTermOrIndex(a.prevLogIndex()) || !isTermOrIndex(a.prevLogTerm()) || !isTermOrIndex(a.leaderCommit())) {
            return "previous index or term, or commit index, out of range";
        }
        if (a.prevLogTerm() > a.term()) {
            return "previous log term later than the message's term";
        }
        List<LogEntry> entries = a.entries();
        if (a.prevLogIndex() + entries.size() > RaftMessage.MAX_TERM_OR_INDEX) {
            return "entry index out of range";
        }
        long expectedIndex = a.prevLogIndex() + 1;
        long previousTerm = a.prevLogTerm();
        for (int i = 0; i < entries.size(); i++) { // indexed: no iterator on the hot path
            LogEntry e = entries.get(i);
            if (e.index() != expectedIndex) {
                return "entries not contiguous";
            }
            if (e.term() < previousTerm) {
                return "entry terms decrease";
            }
            if (e.term() > a.term()) {
                return "entry of a term later than the message's";
            }
            expectedIndex++;
            previousTerm = e.term();
        }
        return null;
    }

    private static boolean isTermOrIndex(long value) {
        return value >= 0 && value <= RaftMessage.MAX_TERM_OR_INDEX;
    }
}

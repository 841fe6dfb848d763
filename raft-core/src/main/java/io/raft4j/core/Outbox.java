package io.raft4j.core;

import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * Messages produced by the core, split by whether they may leave before the pending write is durable.
 *
 * <p>Thesis §3.8: a server must not acknowledge what it has not made durable. Append answers, vote
 * answers and snapshot-chunk answers therefore wait for the write of the batch they were produced
 * in; so does a candidate's vote for itself, delivered back to itself.
 *
 * <p>So do a candidate's vote requests: it must not win a term it could forget. Counting its own
 * vote only once durable is not enough, since the other voters' votes alone can elect it; if it then
 * crashed before its new term reached the disk, it would restart in the term before, campaign for
 * the same term again, be granted it again by the voters who already voted for it, and lead one term
 * twice with two different logs (two entries with the same index and term, breaking log matching).
 * A pre-vote request changes no state and goes at once. Everything else goes at once too: the
 * leader's appends, in parallel with its own write (thesis §10.2.1), since its own entries count
 * towards a commit only once durable.
 */
final class Outbox {
    private final String selfId;
    private List<RaftMessage> now = new ArrayList<>();
    private List<RaftMessage> afterPersist = new ArrayList<>();

    Outbox(String selfId) {
        this.selfId = selfId;
    }

    void send(RaftMessage m) {
        if (mustWaitForPersist(m)) {
            afterPersist.add(m);
        } else {
            now.add(m);
        }
    }

    private boolean mustWaitForPersist(RaftMessage m) {
        if (m.to().equals(selfId)) {
            return true;
        }
        if (m instanceof AppendEntriesResponse || m instanceof InstallSnapshotResponse) {
            return true;
        }
        if (m instanceof RequestVote v) {
            return !v.preVote();
        }
        return m instanceof RequestVoteResponse r && !r.preVote();
    }

    boolean isEmpty() {
        return now.isEmpty() && afterPersist.isEmpty();
    }

    List<RaftMessage> takeNow() {
        List<RaftMessage> taken = now;
        now = new ArrayList<>();
        return taken;
    }

    List<RaftMessage> takeAfterPersist() {
        List<RaftMessage> taken = afterPersist;
        afterPersist = new ArrayList<>();
        return taken;
    }
}

package io.raft4j.core;

import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.SnapshotMeta;

/**
 * The follower's side of one snapshot transfer: which transfer is in progress (leader, term,
 * snapshot) and the next offset it expects. Chunks are accepted strictly in order; a duplicate is
 * answered without being written, a gap or a chunk of an unknown transfer asks the leader to resend
 * from the expected offset (0 restarts the transfer, e.g. after this node restarted).
 */
final class SnapshotReceiver {
    /** What to do with an arriving chunk. */
    enum Verdict { WRITE, DUPLICATE, RESEND }

    private String leader;
    private long term;
    private long snapshotIndex = -1;
    private long expectedOffset;
    private boolean awaitingPublish;
    private SnapshotMeta meta;

    private long resendFrom;

    Verdict offer(InstallSnapshot m) {
        boolean sameTransfer = m.from().equals(leader) && m.term() == term && m.meta().lastIndex() == snapshotIndex;
        if (!sameTransfer) {
            if (m.offset() != 0) {
                resendFrom = 0; // a transfer we know nothing of (we restarted, or it is stale): start over
                return Verdict.RESEND;
            }
            leader = m.from();
            term = m.term();
            snapshotIndex = m.meta().lastIndex();
            meta = m.meta();
            expectedOffset = 0;
            awaitingPublish = false;
        }
        if (awaitingPublish || m.offset() < expectedOffset) {
            return Verdict.DUPLICATE;
        }
        if (m.offset() > expectedOffset) {
            resendFrom = expectedOffset; // a chunk was lost
            return Verdict.RESEND;
        }
        expectedOffset += m.chunk().length();
        awaitingPublish = m.done();
        return Verdict.WRITE;
    }

    long expectedOffset() {
        return expectedOffset;
    }

    /** After {@link Verdict#RESEND}: the offset the leader should resend from. */
    long resendFrom() {
        return resendFrom;
    }

    /** Whether {@code meta} is the transfer whose last chunk was handed out for publishing. */
    boolean isAwaiting(SnapshotMeta candidate) {
        return awaitingPublish && meta != null && meta.equals(candidate);
    }

    String leader() {
        return leader;
    }

    /**
     * Gives up a transfer of an earlier term (its leader is gone: a new one starts its own from
     * offset 0, or catches this node up by appends). Not one whose last chunk is being published.
     *
     * @return whether a transfer was given up
     */
    boolean abandonIfOlderThan(long currentTerm) {
        if (leader == null || awaitingPublish || term >= currentTerm) {
            return false;
        }
        reset();
        return true;
    }

    void reset() {
        leader = null;
        snapshotIndex = -1;
        expectedOffset = 0;
        awaitingPublish = false;
        meta = null;
    }
}

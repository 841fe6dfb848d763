package io.raft4j.core;

import io.raft4j.spi.SnapshotStore;

/**
 * The leader's view of one follower (Raft Figure 2 nextIndex/matchIndex) and the flow control of
 * replication to it. All state transitions live here.
 *
 * <ul>
 *   <li>{@link ReplicationState#PROBE}: the leader does not know where the follower's log matches; it sends one
 *       append at a time and waits for the answer (or the next heartbeat) before sending another.</li>
 *   <li>{@link ReplicationState#REPLICATE}: the logs match up to {@code match}; appends are pipelined,
 *       {@code next} advances optimistically as they are sent, bounded by {@link Inflights}.</li>
 *   <li>{@link ReplicationState#SNAPSHOT}: the follower needs a snapshot; appends wait until it is installed.</li>
 * </ul>
 * Invariant: {@code match < next}.
 */
final class Progress {
    private long match;
    private long next;
    private ReplicationState state = ReplicationState.PROBE;
    /** In PROBE: an append was sent and is unanswered; no further one until a reply or heartbeat. */
    private boolean probeSent;
    /** Heard from since the last check-quorum round. */
    private boolean recentActive;
    /** Heard from in the round before that (for reporting: a reading just after a round ends). */
    private boolean activeRoundBefore;
    /** The leader's tick count when the follower last answered; -1 if never. */
    private long lastHeardTick = -1;
    /** Highest heartbeat round the follower acknowledged (read-index confirmation). */
    private long ackedRound;
    /**
     * Until when, on the leader's lease clock, the follower refuses votes for other candidates: the
     * start of a round it acknowledged plus what the lease may count of its window (see {@link VoteRefusal}).
     */
    private long refusesVotesUntil;
    /** Highest commit index sent to the follower. */
    private long sentCommit;
    private long removalNoticeRound;
    private long pendingSnapshotIndex;
    private OutgoingSnapshot outgoing;
    private final Inflights inflights;
    /**
     * The leader's read round when {@code match} last rose: an append of a later round was sent
     * knowing that the follower had made {@code match} durable.
     */
    private long matchRound;
    /** Match index seen at the previous heartbeat, and heartbeats since it last moved. */
    private long matchAtLastHeartbeat;
    private int heartbeatsWithoutProgress;

    Progress(long next, int maxInflightMessages, long maxInflightBytes) {
        this.next = next;
        this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
    }

    long match() {
        return match;
    }

    long next() {
        return next;
    }

    ReplicationState state() {
        return state;
    }

    Inflights inflights() {
        return inflights;
    }

    boolean recentActive() {
        return recentActive;
    }

    /** The follower answered at tick {@code now}: it counts as active in this check-quorum round. */
    void markActive(long now) {
        recentActive = true;
        lastHeardTick = now;
    }

    /** Whether the follower answered at most {@code ticks} ticks before {@code now}. */
    boolean heardWithin(long now, long ticks) {
        return lastHeardTick >= 0 && now - lastHeardTick <= ticks;
    }

    /** Ends a check-quorum round: the follower must be heard from again to count as active. */
    void endActivityRound() {
        activeRoundBefore = recentActive;
        recentActive = false;
    }

    /** Heard from in this round or the one before: within the last one to two election timeouts. */
    boolean answeredLately() {
        return recentActive || activeRoundBefore;
    }

    long ackedRound() {
        return ackedRound;
    }

    void ackRound(long round) {
        ackedRound = Math.max(ackedRound, round);
    }

    long refusesVotesUntil() {
        return refusesVotesUntil;
    }

    /** The follower acknowledged a round and will refuse votes until {@code leaseTime} at least. */
    void refusesVotesUntil(long leaseTime) {
        refusesVotesUntil = Math.max(refusesVotesUntil, leaseTime);
    }

    long sentCommit() {
        return sentCommit;
    }

    /**
     * For a member being removed: the leader's read round in which it was first seen to hold the
     * removing entry while that was committed; 0 until then. Every message of a later round carries
     * a commit index of at least min(commit, match), which covers the removal, so an acknowledged
     * later round means the member knows it was removed.
     */
    long removalNoticeRound() {
        return removalNoticeRound;
    }

    void markRemovalHeldIn(long round) {
        removalNoticeRound = round;
    }

    void commitSent(long commit) {
        sentCommit = Math.max(sentCommit, commit);
    }

    /** Whether the leader must hold back appends to this follower for now. */
    boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflights.isFull();
            case SNAPSHOT -> true;
        };
    }

    /**
     * A heartbeat is due. In PROBE, allow one more append in case the last one was lost. In
     * REPLICATE, appends in flight that have gone unanswered for two heartbeats were most likely
     * lost; with the window full nothing else would ever be sent, so fall back to probing from
     * {@code match + 1}.
     */
    void onHeartbeat() {
        probeSent = false;
        if (outgoing != null) {
            outgoing.onHeartbeat();
        }
        if (match != matchAtLastHeartbeat || inflights.count() == 0) {
            matchAtLastHeartbeat = match;
            heartbeatsWithoutProgress = 0;
            return;
        }
        if (state == ReplicationState.REPLICATE && ++heartbeatsWithoutProgress >= 2) {
            becomeProbe();
        }
    }

    void becomeProbe() {
        if (state == ReplicationState.SNAPSHOT) {
            next = Math.max(match + 1, pendingSnapshotIndex + 1);
        } else {
            next = match + 1;
        }
        resetState(ReplicationState.PROBE);
    }

    void becomeReplicate() {
        next = match + 1;
        resetState(ReplicationState.REPLICATE);
    }

    void becomeSnapshot(SnapshotStore.SnapshotInfo snapshot, int chunkBytes) {
        resetState(ReplicationState.SNAPSHOT);
        pendingSnapshotIndex = snapshot.meta().lastIndex();
        outgoing = new OutgoingSnapshot(snapshot, chunkBytes);
    }

    /** The snapshot being streamed to this follower (in SNAPSHOT state), else {@code null}. */
    OutgoingSnapshot outgoing() {
        return outgoing;
    }

    /**
     * The follower installed (or already had) the snapshot at {@code snapshotIndex}: its log now
     * matches up to there; resume with appends.
     */
    void onSnapshotInstalled(long snapshotIndex, long round) {
        if (snapshotIndex > match) {
            match = snapshotIndex;
            matchRound = round;
        }
        next = match + 1;
        resetState(ReplicationState.PROBE);
    }

    /**
     * Flow control of one snapshot transfer: chunks from {@code acked} to {@code sent} are in flight.
     */
    static final class OutgoingSnapshot {
        final SnapshotStore.SnapshotInfo info;
        /** Bytes of snapshot per chunk (see {@link RaftConfig#snapshotChunkBytesBeside}). */
        final int chunkBytes;
        long acked;
        long sent;
        private long ackedAtLastHeartbeat = -1;
        private boolean started;
        /** Whether a failure to read the snapshot was logged (once per transfer). */
        boolean unreadableReported;

        OutgoingSnapshot(SnapshotStore.SnapshotInfo info, int chunkBytes) {
            this.info = info;
            this.chunkBytes = chunkBytes;
        }

        boolean allSent() {
            return started && sent >= info.sizeBytes();
        }

        void markSent(long upTo) {
            started = true;
            sent = upTo;
        }

        /** Resend from {@code offset} (a chunk was lost, or the follower starts over). */
        void rewindTo(long offset) {
            acked = offset;
            sent = offset;
            started = false;
        }

        /** Heartbeats in a row at which nothing had been acknowledged since the one before. */
        int stalledHeartbeats;

        /** Heartbeat: if nothing was acknowledged since the last one, assume chunks were lost. */
        void onHeartbeat() {
            if (acked == ackedAtLastHeartbeat && (sent > acked || allSent())) {
                rewindTo(acked);
                stalledHeartbeats++;
            } else {
                stalledHeartbeats = 0;
            }
            ackedAtLastHeartbeat = acked;
        }
    }

    private void resetState(ReplicationState newState) {
        state = newState;
        heartbeatsWithoutProgress = 0;
        outgoing = null;
        probeSent = false;
        pendingSnapshotIndex = 0;
        inflights.clear();
    }

    /** An append carrying entries up to {@code lastIndex} (size {@code bytes}) was sent. */
    void onAppendSent(long lastIndex, long bytes, boolean carriedEntries) {
        switch (state) {
            case REPLICATE -> {
                if (carriedEntries) {
                    next = lastIndex + 1;
                    inflights.add(lastIndex, bytes);
                }
            }
            case PROBE -> probeSent = true;
            case SNAPSHOT -> throw new IllegalStateException("append sent while in snapshot state");
        }
    }

    /**
     * The follower's log matches up to {@code index}.
     *
     * @return whether this told the leader something new
     */
    boolean maybeUpdate(long index, long round) {
        boolean updated = false;
        if (index > match) {
            match = index;
            matchRound = round;
            updated = true;
            probeSent = false;
        }
        next = Math.max(next, index + 1);
        return updated;
    }

    /**
     * The follower rejected an append whose previous index was {@code rejected}; {@code hintNext} is
     * where the follower's answer suggests trying next.
     *
     * <p>A follower that rejects an append sent after it acknowledged {@code match} (of a later
     * {@code round}) because it lacks an entry up to {@code match} has lost entries: its storage was
     * damaged, or replaced by an older copy. (A sound follower cannot: it answered only once they were
     * durable, and only a leader of a later term may truncate them.) Left alone it would be probed at
     * {@code match} for ever and never catch up, so {@code match} is dropped (nothing is known to be
     * on the follower any more) and probing resumes where the follower says its log ends. Lowering
     * {@code match} is always safe: the commit index never goes back.
     *
     * @return false if the rejection is stale (answers an older request) and was ignored
     */
    boolean maybeDecreaseTo(long rejected, long hintNext, long round) {
        // hintNext 0: the answer to an append of an earlier term (its round is of another leadership),
        // which says nothing about the follower's log. Heartbeats carry prevLogIndex = match: this is
        // how a loss shows, whatever the state.
        if (state != ReplicationState.SNAPSHOT && rejected <= match && round > matchRound
                && hintNext >= 1 && hintNext <= match) {
            resetState(ReplicationState.PROBE);
            match = 0;
            next = Math.max(1, hintNext);
            return true;
        }
        switch (state) {
            case REPLICATE -> {
                if (rejected <= match) {
                    return false;
                }
                long newNext = Math.max(match + 1, Math.min(rejected, hintNext));
                resetState(ReplicationState.PROBE);
                next = newNext;
                return true;
            }
            case PROBE -> {
                if (next - 1 != rejected) {
                    return false;
                }
                next = Math.max(match + 1, Math.min(rejected, hintNext));
                probeSent = false;
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    @Override
    public String toString() {
        return state + "[match=" + match + " next=" + next + " inflight=" + inflights.count() + "]";
    }
}

package io.raft4j.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A leader's read-index confirmation (Raft thesis §6.4) and its lease (§6.4.1), for one leadership.
 *
 * <p>Every append the leader sends carries the current heartbeat round; followers echo it. A read
 * records the commit index when it arrives and waits for a round started after it: once a quorum has
 * acknowledged that round, no other leader can have committed anything the read would miss. Reads
 * waiting at the same time share one round. With leases, a quorum's acknowledgement of a round also
 * lets reads be answered without a round until the lease, counted from the round's start, runs out.
 *
 * <p>The leader feeds in what only it knows (its commit index, whether it committed in its term, the
 * round a quorum acknowledged, the tick); this class decides which reads are answered and when.
 * Leases are counted on the lease clock ({@link RaftCore#observeTime}), which unlike ticks also
 * counts the time a stalled node did not tick.
 */
final class LeaderReads {
    /** A read not yet confirmed; {@code askedAt} is the tick it arrived at. */
    private interface WaitingRead {
        long requestId();

        long askedAt();
    }

    /** A read waiting for a heartbeat round of at least {@code round} to confirm it. */
    private record PendingRead(long requestId, long readIndex, long round, long askedAt) implements WaitingRead {
    }

    /**
     * A read the lease answers, once a reading of the clock taken after its read index shows the
     * lease still ran then ({@link #confirmLeaseReads}).
     */
    private record LeaseRead(long requestId, long readIndex, boolean aloneQuorum, long askedAt) {
    }

    /** A read that arrived before this leader committed an entry of its own term (§6.4 step 1). */
    private record EarlyRead(long requestId, long askedAt) implements WaitingRead {
    }

    /** When a recent round started, on the lease clock. */
    private record RoundStart(long round, long leaseTime) {
    }

    private static final int MAX_TRACKED_ROUND_STARTS = 64;

    private final int leaseTicks;
    /** Heartbeat round carried by every append; advanced each heartbeat and when a read needs one. */
    private long round;
    private boolean newRoundNeeded;
    /** Recent rounds' starts, oldest first (kept only with leases). */
    private final ArrayDeque<RoundStart> roundStarts = new ArrayDeque<>();
    /** Lease reads may be answered at once while the lease clock is below this. */
    private long leaseExpiresAt;
    private final ArrayDeque<LeaseRead> leaseReads = new ArrayDeque<>();
    private final LeaseReadTally tally;
    private final ArrayDeque<EarlyRead> earlyReads = new ArrayDeque<>();
    private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
    private final List<ReadState> confirmed = new ArrayList<>();

    LeaderReads(RaftConfig settings, LeaseReadTally tally) {
        this.leaseTicks = settings.leaseTicks();
        this.tally = tally;
    }

    /** The round appends carry now. */
    long round() {
        return round;
    }

    /**
     * Starts a new round at {@code leaseNow} on the lease clock; its acknowledgement by a quorum
     * confirms reads and renews the lease.
     */
    void startRound(long leaseNow) {
        round++;
        if (leaseTicks > 0) {
            roundStarts.addLast(new RoundStart(round, leaseNow));
            if (roundStarts.size() > MAX_TRACKED_ROUND_STARTS) {
                roundStarts.removeFirst();
            }
        }
    }

    /** Whether a read waits for a round not started yet; clears the flag (the caller starts one). */
    boolean takeNewRoundNeeded() {
        boolean needed = newRoundNeeded;
        newRoundNeeded = false;
        return needed;
    }

    /**
     * A read arrives at tick {@code now}, {@code leaseNow} on the lease clock.
     *
     * @param lease         the caller accepts a lease read, and the leader may serve one (not transferring)
     * @param termCommitted the leader has committed an entry of its own term
     * @param aloneQuorum   the leader alone is a quorum: nothing to confirm
     */
    void request(long requestId, boolean lease, long commitIndex, boolean termCommitted, boolean aloneQuorum,
                 long now, long leaseNow) {
        if (lease && !(termCommitted && hasLease(leaseNow))) {
            tally.confirmedByRound();
        }
        if (!termCommitted) {
            earlyReads.addLast(new EarlyRead(requestId, now));
        } else if (lease && hasLease(leaseNow)) {
            leaseReads.addLast(new LeaseRead(requestId, commitIndex, aloneQuorum, now));
        } else {
            await(requestId, commitIndex, aloneQuorum, now);
        }
    }

    /**
     * Confirms the reads the lease answered if the lease still runs at {@code leaseNow}, read from
     * the clock after their read index was taken; the others wait for a round. The order matters:
     * a node can stall between any two instructions (a GC pause), and a lease checked against a
     * clock read before the read index would let a stall in between go unseen, with a new leader
     * committing meanwhile. Checked against a later reading, the lease also ran when the read index
     * was taken, so no other leader had committed anything yet.
     */
    void confirmLeaseReads(long leaseNow) {
        if (leaseReads.isEmpty()) {
            return;
        }
        boolean holds = hasLease(leaseNow);
        for (LeaseRead r : leaseReads) {
            if (holds) {
                tally.answeredFromLease();
                confirmed.add(new ReadState(r.requestId(), r.readIndex()));
            } else {
                tally.confirmedByRound();
                await(r.requestId(), r.readIndex(), r.aloneQuorum(), r.askedAt());
            }
        }
        leaseReads.clear();
    }

    /** The leader committed its first entry of its term: the early reads now wait for a round. */
    void onTermCommitted(long commitIndex, boolean aloneQuorum) {
        for (EarlyRead r : earlyReads) {
            await(r.requestId(), commitIndex, aloneQuorum, r.askedAt());
        }
        earlyReads.clear();
    }

    private void await(long requestId, long commitIndex, boolean aloneQuorum, long askedAt) {
        if (aloneQuorum) {
            confirmed.add(new ReadState(requestId, commitIndex));
            return;
        }
        pendingReads.addLast(new PendingRead(requestId, commitIndex, round + 1, askedAt));
        newRoundNeeded = true;
    }

    /** Whether {@link #onRoundAcknowledged} has anything to do: reads wait, or leases are on. */
    boolean wantsAcknowledgements() {
        return !pendingReads.isEmpty() || leaseTicks > 0;
    }

    /** Whether leases are on: {@link #onRoundAcknowledged} then needs the voters' refusal windows. */
    boolean leasesOn() {
        return leaseTicks > 0;
    }

    /**
     * Until when, on the lease clock, a voter that acknowledged {@code acknowledged} refuses votes,
     * counting {@code windowTicks} of its window ({@link VoteRefusal#leaseTicksOf}) from the round's
     * start (it took the round's append after that). 0 if the round's start is no longer known.
     */
    long refusesVotesUntil(long acknowledged, long windowTicks) {
        for (var it = roundStarts.descendingIterator(); it.hasNext(); ) {
            RoundStart start = it.next();
            if (start.round() == acknowledged) {
                return start.leaseTime() + Math.min(windowTicks, leaseTicks);
            }
            if (start.round() < acknowledged) {
                break;
            }
        }
        return 0;
    }

    /** Until when this leader itself refuses votes, as far as its lease counts: as if it acknowledged its latest round. */
    long ownRefusalEnd() {
        RoundStart latest = roundStarts.peekLast();
        return latest == null || latest.round() != round ? 0 : latest.leaseTime() + leaseTicks;
    }

    /**
     * A quorum has acknowledged every round up to {@code quorumRound}, and a quorum of voters refuses
     * votes until {@code quorumRefusesUntil} on the lease clock (0 without leases): no other leader can
     * be elected before, so the lease runs until then.
     */
    void onRoundAcknowledged(long quorumRound, long quorumRefusesUntil) {
        if (leaseTicks > 0 && quorumRefusesUntil != Long.MAX_VALUE) {
            leaseExpiresAt = Math.max(leaseExpiresAt, quorumRefusesUntil);
        }
        while (!pendingReads.isEmpty() && pendingReads.peekFirst().round() <= quorumRound) {
            PendingRead r = pendingReads.removeFirst();
            confirmed.add(new ReadState(r.requestId(), r.readIndex()));
        }
    }

    /**
     * Whether a quorum of voters still refuses votes by the windows they acknowledged rounds with: until
     * then no other node can have been elected, since voters that heard from this leader refuse to vote
     * for their election timeout (leader stickiness), provided clocks drift less than the configured bound.
     */
    private boolean hasLease(long leaseNow) {
        return leaseNow < leaseExpiresAt;
    }

    /** Ends the lease now (a leadership transfer: the target is elected without waiting it out). */
    void endLease() {
        leaseExpiresAt = 0;
    }

    /**
     * Gives up the reads that waited {@code timeoutTicks} or more for their confirmation and returns
     * their ids. Without CheckQuorum a leader cut off from its quorum leads on until it hears of a
     * newer term, possibly for ever: its callers (and the followers that asked) must hear back
     * instead of waiting as long, and the reads must not pile up meanwhile.
     */
    List<Long> expire(long now, long timeoutTicks) {
        if (!hasExpired(earlyReads.peekFirst(), now, timeoutTicks)
                && !hasExpired(pendingReads.peekFirst(), now, timeoutTicks)) {
            return List.of();
        }
        // Both queues are in arrival order, so the expired reads are at their heads.
        List<Long> expired = new ArrayList<>();
        while (hasExpired(earlyReads.peekFirst(), now, timeoutTicks)) {
            expired.add(earlyReads.removeFirst().requestId());
        }
        while (hasExpired(pendingReads.peekFirst(), now, timeoutTicks)) {
            expired.add(pendingReads.removeFirst().requestId());
        }
        return expired;
    }

    private static boolean hasExpired(WaitingRead r, long now, long timeoutTicks) {
        return r != null && now - r.askedAt() >= timeoutTicks;
    }

    /** Whether reads are confirmed and not yet taken, or a read waits for a new round. */
    boolean hasWork() {
        return !confirmed.isEmpty() || !leaseReads.isEmpty() || newRoundNeeded;
    }

    /** The reads confirmed since the last call; clears them. */
    List<ReadState> takeConfirmed() {
        if (confirmed.isEmpty()) {
            return List.of();
        }
        List<ReadState> taken = new ArrayList<>(confirmed);
        confirmed.clear();
        return taken;
    }

    /**
     * The reads not confirmed (the leadership is ending: they never will be), lease reads whose
     * lease was not checked against a later clock among them.
     */
    List<Long> unconfirmed() {
        List<Long> ids = new ArrayList<>(leaseReads.size() + earlyReads.size() + pendingReads.size());
        for (LeaseRead r : leaseReads) {
            ids.add(r.requestId());
        }
        for (EarlyRead r : earlyReads) {
            ids.add(r.requestId());
        }
        for (PendingRead r : pendingReads) {
            ids.add(r.requestId());
        }
        return ids;
    }
}

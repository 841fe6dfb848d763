package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The room for proposals and reads that callers made and the node's loop has not taken up yet. The
 * core bounds a leader's uncommitted commands ({@link RaftConfig#maxUncommittedBytes()}) only when
 * the loop steps a proposal: while the loop was held up (a slow sync on it, a GC pause, a slow
 * callback), a caller firing proposals without waiting for them queued them for the loop without
 * end, each one's bytes held. Here they are counted where they are made, and refused there.
 *
 * <p>A proposal is admitted while the bytes of those queued plus the leader's uncommitted ones, as
 * the loop last published them, stay within {@code maxUncommittedBytes}, each counted as the core
 * counts it ({@link RaftCore#uncommittedCost}); one is always admitted when nothing is queued or
 * uncommitted, as the core always accepts one. The loop publishes the uncommitted bytes before it
 * gives a stepped proposal's room back, so a proposal is never out of both counts: a reading in
 * between counts it twice, which only refuses early. Reads are counted, not sized, against
 * {@link RaftConfig#maxQueuedReads()}. The node's other calls that queue a task for the loop (waits for
 * a leader, membership changes, leadership transfers, snapshots, follower views: "admin" calls) are
 * counted together against {@link RaftNode#MAX_QUEUED_ADMIN_CALLS}; only the call as made, not the
 * tasks it queues later from the loop (an addVoter's promotion), which a held-up loop cannot multiply.
 *
 * <p>Thread-safe, lock-free: one atomic add per call on the caller's thread, one per step on the loop.
 * A call the loop never steps (the node stopped first) keeps its room: the node never runs again. A
 * call not queued at all (made before the node started, or after it stopped) gives its room back at
 * once: taken before the start, it was held for ever by the node that then ran.
 */
final class CallAllowance {
    private final long maxProposalBytes;
    private final int maxReads;
    private final AtomicLong queuedProposalBytes = new AtomicLong();
    private final AtomicInteger queuedReads = new AtomicInteger();
    private final AtomicInteger queuedAdminCalls = new AtomicInteger();
    /** The leader's uncommitted bytes as the loop last saw them (0 on a node that does not lead). */
    private volatile long uncommittedBytes;

    CallAllowance(RaftConfig config) {
        this.maxProposalBytes = config.maxUncommittedBytes();
        this.maxReads = config.maxQueuedReads();
    }

    /**
     * Takes room for a proposal of {@code payloadBytes}; returns the bytes held with the ones queued
     * (what to report) if there is none, taking none, or {@code -1} if it was taken.
     */
    long tryTakeProposal(long payloadBytes) {
        long cost = RaftCore.uncommittedCost(payloadBytes);
        long held = queuedProposalBytes.addAndGet(cost) + uncommittedBytes;
        if (held > maxProposalBytes && held != cost) {
            queuedProposalBytes.addAndGet(-cost);
            return held - cost;
        }
        return -1;
    }

    /**
     * On the loop: a proposal of {@code payloadBytes} was stepped, after which the leader holds
     * {@code uncommittedNow} uncommitted bytes.
     */
    void proposalStepped(long payloadBytes, long uncommittedNow) {
        uncommittedBytes = uncommittedNow; // first: see the class comment
        queuedProposalBytes.addAndGet(-RaftCore.uncommittedCost(payloadBytes));
    }

    /** A proposal of {@code payloadBytes} that took room was not queued after all: gives its room back. */
    void proposalRefunded(long payloadBytes) {
        queuedProposalBytes.addAndGet(-RaftCore.uncommittedCost(payloadBytes));
    }

    /** On the loop: the leader's uncommitted bytes changed (commits handed out for apply, a new role). */
    void uncommittedNow(long bytes) {
        if (uncommittedBytes != bytes) {
            uncommittedBytes = bytes;
        }
    }

    /** Takes room for a read, or returns false, taking none, if there is none. */
    boolean tryTakeRead() {
        if (queuedReads.incrementAndGet() > maxReads) {
            queuedReads.decrementAndGet();
            return false;
        }
        return true;
    }

    /** On the loop: a read was taken up (answered, refused, or handed on to wait for its read index). */
    void readStepped() {
        queuedReads.decrementAndGet();
    }

    /** Takes room for an admin call, or returns false, taking none, if there is none. */
    boolean tryTakeAdminCall() {
        if (queuedAdminCalls.incrementAndGet() > RaftNode.MAX_QUEUED_ADMIN_CALLS) {
            queuedAdminCalls.decrementAndGet();
            return false;
        }
        return true;
    }

    /** On the loop: an admin call was taken up. */
    void adminCallStepped() {
        queuedAdminCalls.decrementAndGet();
    }

    long maxProposalBytes() {
        return maxProposalBytes;
    }

    int maxReads() {
        return maxReads;
    }

    /** Bytes of the proposals queued for the loop now (for tests). */
    long queuedProposalBytes() {
        return queuedProposalBytes.get();
    }

    /** Admin calls queued for the loop now (for tests). */
    int queuedAdminCalls() {
        return queuedAdminCalls.get();
    }

    /** Reads queued for the loop now (for tests). */
    int queuedReads() {
        return queuedReads.get();
    }
}

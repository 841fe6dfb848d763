package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.RaftMessage;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The room for messages a transport delivered and the node's loop has not stepped yet. A transport
 * delivers on its own threads, so while the loop is held up (a sync on the loop, a GC pause, a slow
 * plug-in) or a peer sends faster than the loop steps, messages queue; unbounded, a peer flooding
 * the node (a bug, or anyone who can reach an unauthenticated port under a member's id) grew its
 * heap without end. Beyond the room a message is dropped, as a lossy network would drop it: Raft
 * sends again what matters.
 *
 * <p>Members that follow the protocol never come near the bounds: a leader has at most
 * {@code maxInflightBytes} of appends and {@code snapshotChunksInFlight} chunks in flight to a
 * follower, and otherwise sends a heartbeat per interval. <b>Bulk</b> messages (appends carrying
 * entries, snapshot chunks) may hold {@link #bulkBytesFor} bytes: twice what one leader may have in
 * flight (an old and a new leader overlap), and an empty allowance always takes one. Every message,
 * bulk or not, counts toward {@link #MAX_QUEUED_MESSAGES}: small ones are counted, not sized, as
 * their nominal sizes say little of the heap they take.
 *
 * <p>Thread-safe, lock-free: taken on the transport's threads, given back on the loop.
 */
final class InboundAllowance {
    /** Messages of any kind that may wait for the loop: some tens of MB of heap at most. */
    static final int MAX_QUEUED_MESSAGES = 1 << 16;

    private final long maxBulkBytes;
    private final AtomicInteger messages = new AtomicInteger();
    private final AtomicLong bulkBytes = new AtomicLong();

    InboundAllowance(long maxBulkBytes) {
        this.maxBulkBytes = maxBulkBytes;
    }

    /**
     * Twice the most one leader may have in flight to a follower: its appends' bytes (and one entry of
     * the largest size beyond them) and its snapshot chunks. Saturating.
     */
    static long bulkBytesFor(RaftConfig config) {
        long chunks = (long) config.snapshotChunksInFlight() * config.snapshotChunkBytes();
        long oneLeader = saturatedSum(saturatedSum(config.maxInflightBytes(), config.largestMessagePayload()), chunks);
        return saturatedSum(oneLeader, oneLeader);
    }

    private static long saturatedSum(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** Takes room for {@code message}, or returns false, taking none, if there is no room for it. */
    boolean tryTake(RaftMessage message) {
        if (messages.incrementAndGet() > MAX_QUEUED_MESSAGES) {
            messages.decrementAndGet();
            return false;
        }
        if (!isBulk(message)) {
            return true;
        }
        long size = message.sizeBytes();
        long held = bulkBytes.addAndGet(size);
        if (held > maxBulkBytes && held != size) {
            bulkBytes.addAndGet(-size);
            messages.decrementAndGet();
            return false;
        }
        return true;
    }

    /** {@code message} was stepped (or will never be): its room is free again. */
    void giveBack(RaftMessage message) {
        if (isBulk(message)) {
            bulkBytes.addAndGet(-message.sizeBytes());
        }
        messages.decrementAndGet();
    }

    /** Messages holding room now. */
    int messages() {
        return messages.get();
    }

    private static boolean isBulk(RaftMessage message) {
        return message instanceof InstallSnapshot
                || message instanceof AppendEntries append && !append.entries().isEmpty();
    }
}

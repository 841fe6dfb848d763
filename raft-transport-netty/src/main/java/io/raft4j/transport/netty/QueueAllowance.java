package io.raft4j.transport.netty;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.RaftMessage;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The room in one peer's outbound queue, shared by every group of the process, in two allowances
 * so that groups streaming data to the peer cannot crowd out the small messages every group needs
 * to keep its leader (heartbeats, votes, append answers, read-index, TimeoutNow).
 *
 * <p><b>Bulk</b> messages (appends carrying entries, snapshot chunks) may queue up to
 * {@code maxMessages} and {@code maxBytes} (by {@link RaftMessage#sizeBytes()}); an empty bulk
 * allowance takes one message of any size. Every other message is <b>control</b>: fixed-size, and
 * allowed {@code maxMessages} of its own, whatever bulk holds. With one shared allowance, groups
 * catching a slow follower up, plus any group's small appends filling the room their large ones
 * left, kept the queue full to the byte (or to the message), and every other group's heartbeats
 * and answers to that peer were dropped, for as long as that lasted: a follower that hears no
 * heartbeat campaigns, and a leader that hears no answers steps down (CheckQuorum), in groups
 * that had nothing to send.
 *
 * <p>Memory stays bounded: {@code maxBytes} of bulk plus {@code maxMessages} small messages.
 * Thread-safe, lock-free.
 */
final class QueueAllowance {
    private final int maxMessages;
    private final long maxBytes;
    private final AtomicInteger bulkMessages = new AtomicInteger();
    private final AtomicLong bulkBytes = new AtomicLong();
    private final AtomicInteger controlMessages = new AtomicInteger();

    QueueAllowance(int maxMessages, long maxBytes) {
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    /**
     * Takes room for {@code message}, or returns false, taking none, if its allowance is used up.
     *
     * @param bulk {@link #isBulk isBulk(message)}, which the caller knows already
     */
    boolean tryTake(RaftMessage message, boolean bulk) {
        if (!bulk) {
            if (controlMessages.incrementAndGet() > maxMessages) {
                controlMessages.decrementAndGet();
                return false;
            }
            return true;
        }
        long size = message.sizeBytes();
        int count = bulkMessages.incrementAndGet();
        long bytes = bulkBytes.addAndGet(size);
        if (count > maxMessages || (bytes > maxBytes && count > 1)) {
            bulkMessages.decrementAndGet();
            bulkBytes.addAndGet(-size);
            return false;
        }
        return true;
    }

    /** Gives back the room {@code message} (of the kind {@code bulk}) took: it left the queue. */
    void giveBack(RaftMessage message, boolean bulk) {
        if (bulk) {
            bulkMessages.decrementAndGet();
            bulkBytes.addAndGet(-message.sizeBytes());
        } else {
            controlMessages.decrementAndGet();
        }
    }

    /** Messages holding room now, of both kinds. */
    int messages() {
        return bulkMessages.get() + controlMessages.get();
    }

    /** Whether {@code message} carries log or snapshot data, whose size only the configuration bounds. */
    static boolean isBulk(RaftMessage message) {
        return message instanceof InstallSnapshot
                || message instanceof AppendEntries append && !append.entries().isEmpty();
    }
}

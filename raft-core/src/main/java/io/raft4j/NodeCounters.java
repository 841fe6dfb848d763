package io.raft4j;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters behind {@link NodeStats}, updated by the threads that do the work (the event loop,
 * the log writer, the applier) and read by any thread. Each is updated for a batch, a write or an
 * apply, never per byte, so keeping them costs a few atomic adds per batch.
 */
final class NodeCounters {
    final AtomicLong electionsStarted = new AtomicLong();
    final AtomicLong termsLed = new AtomicLong();
    final AtomicLong followerLogLosses = new AtomicLong();
    final AtomicLong proposalsAccepted = new AtomicLong();
    final AtomicLong proposalsRefusedOverloaded = new AtomicLong();
    final AtomicLong readsRefusedOverloaded = new AtomicLong();
    final AtomicLong inboundMessagesDropped = new AtomicLong();
    final AtomicLong membershipChangesRefused = new AtomicLong();
    final AtomicLong leadershipTransfersRefused = new AtomicLong();
    final AtomicLong adminCallsRefusedOverloaded = new AtomicLong();
    final AtomicLong leaseReadsFromLease = new AtomicLong();
    final AtomicLong leaseReadsByRound = new AtomicLong();
    final AtomicLong proposalBatchesFull = new AtomicLong();
    final AtomicLong proposalBatchesAtWindowEnd = new AtomicLong();
    final AtomicLong commandsApplied = new AtomicLong();
    final AtomicLong logWrites = new AtomicLong();
    final AtomicLong entriesWritten = new AtomicLong();
    final AtomicLong bytesWritten = new AtomicLong();
    final AtomicLong logWriteNanos = new AtomicLong();
    final AtomicLong maxLogWriteNanos = new AtomicLong();
    final AtomicLong readsServed = new AtomicLong();
    final AtomicLong readsGivenUp = new AtomicLong();
    final AtomicLong snapshotsTaken = new AtomicLong();
    final AtomicLong snapshotsFailed = new AtomicLong();
    final AtomicLong snapshotsInstalled = new AtomicLong();

    /** One command applied; called by the applying thread alone, so a plain store is enough. */
    void commandApplied() {
        commandsApplied.lazySet(commandsApplied.get() + 1);
    }

    /** One durable write of {@code entries} entries holding {@code bytes} payload bytes. */
    void logWrite(int entries, long bytes, long nanos) {
        logWrites.incrementAndGet();
        entriesWritten.addAndGet(entries);
        bytesWritten.addAndGet(bytes);
        logWriteNanos.addAndGet(nanos);
        maxLogWriteNanos.accumulateAndGet(nanos, Math::max);
    }

    NodeStats snapshot() {
        return new NodeStats(electionsStarted.get(), termsLed.get(), proposalsAccepted.get(), commandsApplied.get(),
                logWrites.get(), entriesWritten.get(), bytesWritten.get(), logWriteNanos.get(), maxLogWriteNanos.get(),
                readsServed.get(), readsGivenUp.get(), snapshotsTaken.get(), snapshotsFailed.get(), snapshotsInstalled.get(),
                followerLogLosses.get(), proposalsRefusedOverloaded.get(), readsRefusedOverloaded.get(),
                inboundMessagesDropped.get(), membershipChangesRefused.get(), leadershipTransfersRefused.get(),
                adminCallsRefusedOverloaded.get(), leaseReadsFromLease.get(), leaseReadsByRound.get(),
                proposalBatchesFull.get(), proposalBatchesAtWindowEnd.get());
    }
}

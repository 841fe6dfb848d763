package io.raft4j.storage.rocksdb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Compacts the former key ranges of deleted groups, one at a time, on a thread of its own: the
 * thread calling {@link RocksDbLogStore#deleteGroup} (a node's loop, an admin request) used to wait
 * for as long as RocksDB took to rewrite the table files overlapping the range (every level-0 file).
 * Nothing of a group is left to read by the time its compaction is queued; the compaction only
 * frees the disk space sooner than RocksDB's own compactions would.
 *
 * <p>The thread exists only while there is work, and ends after a few idle seconds. Closing drops
 * the compactions still queued (RocksDB frees that space later by itself) and waits for the one
 * under way.
 */
final class DeletionCompactions {
    private static final Logger LOG = LoggerFactory.getLogger(DeletionCompactions.class);
    private static final long IDLE_SECONDS = 5;

    private final Database database;
    /** The store's test hook, read when a compaction starts (tests replace it after opening). */
    private final Supplier<Consumer<String>> beforeEach;
    private final ThreadPoolExecutor executor;

    DeletionCompactions(Database database, Supplier<Consumer<String>> beforeEach) {
        this.database = database;
        this.beforeEach = beforeEach;
        this.executor = new ThreadPoolExecutor(0, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                run -> {
                    Thread t = new Thread(run, "raft4j-rocksdb-deletion-compaction");
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Queues the compaction of deleted {@code groupId}'s former key range. */
    void submit(String groupId) {
        try {
            executor.execute(() -> compact(groupId));
        } catch (RejectedExecutionException e) {
            LOG.debug("group {}: the store is closing; RocksDB frees its former key range later", groupId);
        }
    }

    private void compact(String groupId) {
        try {
            beforeEach.get().accept(GroupDeletion.COMPACTING);
            GroupDeletion.compact(database, groupId);
        } catch (IllegalStateException e) {
            LOG.debug("group {}: not compacted, the store closed: {}", groupId, e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("group {}: deleted; compacting its former key range failed, RocksDB frees that space later",
                    groupId, e);
        }
    }

    /** Drops the queued compactions and waits for the one under way (it holds the database open). */
    void close() {
        executor.shutdown();
        executor.getQueue().clear();
        boolean interrupted = false;
        while (true) {
            try {
                if (executor.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
                LOG.info("waiting for the compaction of a deleted group's key range to end before closing");
            } catch (InterruptedException e) {
                interrupted = true;   // the database must not close under a compaction: wait on, then tell
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}

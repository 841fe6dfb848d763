package io.raft4j.storage.rocksdb;

import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The durable Raft logs of one data directory, kept in one RocksDB database that any number of
 * Raft groups share: {@link #forGroup(String)} hands out each group's {@link LogStorage}.
 *
 * <pre>{@code
 * try (RocksDbLogStore store = RocksDbLogStore.open(Path.of("data/node-1"))) {
 *     LogStorage orders = store.forGroup("orders");
 *     LogStorage users = store.forGroup("users");
 *     // hand each to the RaftNode of its group; close the nodes before the store
 * }
 * }</pre>
 *
 * <p>Every write is one atomic RocksDB write batch, fsynced before the call returns; several groups
 * writing at once share RocksDB's group commit. Large payloads in large writes are first written
 * once to the group's segment files under {@code dataDirectory/log-segments/} and fsynced, and the
 * batch holds references to them (see {@link Settings}). Opening checks the directory and writes nothing
 * unless it is empty or a raft4j log of a format version this code reads; opening a group checks
 * its entries (checksums, no gaps). Problems surface as {@link StorageException} with a message
 * that says what is wrong. The layout and the RocksDB options are described in
 * {@code docs/storage.md}.
 *
 * <p>A group this process will not serve again (removed from it, or retired) is deleted with
 * {@link #deleteGroup}: its log, term and vote, and segment files.
 *
 * <p>Thread-safe. A group's storage follows the {@link LogStorage} threading contract.
 */
public final class RocksDbLogStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RocksDbLogStore.class);

    /**
     * Tuning of a store.
     *
     * @param entryCacheBytes   per group: newest entries kept in memory (counted by the heap they take:
     *                          their payload and 100 bytes each) so replication to followers that keep
     *                          up never reads RocksDB; 0 or more
     * @param blockCacheBytes   RocksDB block cache shared by all groups, for reads of older entries;
     *                          at least 1 MiB
     * @param writeBufferBytes  RocksDB memtable size of the entries column family; the WAL is kept
     *                          under four times this, which bounds recovery time after a crash; at
     *                          least 1 MiB
     * @param segmentEntryBytes payloads of at least this many bytes may be stored in segment files
     *                          instead of RocksDB (see {@code segmentBatchBytes}); at least 1
     * @param segmentBatchBytes a write whose payloads of at least {@code segmentEntryBytes} add up to
     *                          this many bytes stores those payloads in the group's segment files:
     *                          written once and fsynced, with RocksDB holding only a reference. Below
     *                          it, the extra fsync this costs is not paid back; {@code Long.MAX_VALUE}
     *                          keeps every payload in RocksDB; at least 1
     * @param segmentFileBytes  a segment file takes no more writes once it holds this many bytes; a
     *                          file is released when the log is compacted past every entry in it,
     *                          and recycled for a later segment (up to four kept, others deleted);
     *                          at least 1
     */
    public record Settings(long entryCacheBytes, long blockCacheBytes, long writeBufferBytes,
                           int segmentEntryBytes, long segmentBatchBytes, long segmentFileBytes) {
        /**
         * 4 MiB of cached entries per group, a 32 MiB block cache, 64 MiB memtables; payloads of
         * 1 KiB and more go to 64 MiB segment files when a write carries 64 KiB of them. The cache
         * only has to cover what followers have not yet acknowledged; cached entries live on the
         * Java heap and every young collection copies them until they are promoted, so a larger
         * cache lengthens pauses (measured: 16 MiB per group gave young pauses up to 61-90 ms in the
         * three-node benchmark, 4 MiB up to 23 ms).
         */
        public static final Settings DEFAULT = new Settings(4L << 20, 32L << 20, 64L << 20);

        public Settings {
            if (entryCacheBytes < 0) {
                throw new IllegalArgumentException("entryCacheBytes must be >= 0: " + entryCacheBytes);
            }
            if (blockCacheBytes < 1 << 20) {
                throw new IllegalArgumentException("blockCacheBytes must be >= 1 MiB: " + blockCacheBytes);
            }
            if (writeBufferBytes < 1 << 20) {
                throw new IllegalArgumentException("writeBufferBytes must be >= 1 MiB: " + writeBufferBytes);
            }
            if (segmentEntryBytes < 1) {
                throw new IllegalArgumentException("segmentEntryBytes must be >= 1: " + segmentEntryBytes);
            }
            if (segmentBatchBytes < 1) {
                throw new IllegalArgumentException("segmentBatchBytes must be >= 1: " + segmentBatchBytes);
            }
            if (segmentFileBytes < 1) {
                throw new IllegalArgumentException("segmentFileBytes must be >= 1: " + segmentFileBytes);
            }
        }

        /** The given cache and memtable sizes, with the default segment settings. */
        public Settings(long entryCacheBytes, long blockCacheBytes, long writeBufferBytes) {
            this(entryCacheBytes, blockCacheBytes, writeBufferBytes, 1 << 10, 64L << 10, 64L << 20);
        }

        /** These settings with other segment settings. */
        public Settings withSegments(int entryBytes, long batchBytes, long fileBytes) {
            return new Settings(entryCacheBytes, blockCacheBytes, writeBufferBytes, entryBytes, batchBytes, fileBytes);
        }
    }

    private final Path dataDirectory;
    private final Settings settings;
    /** Package-private for tests that damage what an open store reads. */
    final Database database;
    private final Map<String, RocksDbLogStorage> openGroups = new LinkedHashMap<>();
    /** Groups whose log is being checked by {@link #forGroup}, outside the lock. */
    private final Set<String> opening = new HashSet<>();
    /** Groups being deleted by {@link #deleteGroup}, outside the lock. */
    private final Set<String> deleting = new HashSet<>();
    private boolean closed;
    /** Package-private for tests: runs before a group's log is checked, on the thread opening it. */
    volatile Consumer<String> beforeCheck = groupId -> { };
    /**
     * Package-private for tests: runs after each step of {@link #deleteGroup} (see
     * {@link GroupDeletion}); throwing stops the deletion there, as a crash would. Also when the
     * compaction of a deleted group's range starts, on the compaction thread.
     */
    volatile Consumer<String> afterDeletionStep = step -> { };
    private final DeletionCompactions compactions;

    private RocksDbLogStore(Path dataDirectory, Settings settings, Database database) {
        this.dataDirectory = dataDirectory;
        this.settings = settings;
        this.database = database;
        this.compactions = new DeletionCompactions(database, () -> afterDeletionStep);
    }

    /** Opens, or creates if absent, the store of {@code dataDirectory} with {@link Settings#DEFAULT}. */
    public static RocksDbLogStore open(Path dataDirectory) {
        return open(dataDirectory, Settings.DEFAULT);
    }

    /**
     * Opens, or creates if absent, the store of {@code dataDirectory}; its RocksDB files live in
     * {@code dataDirectory/log/}.
     *
     * @throws StorageException if the directory cannot be used: not a raft4j log, written by a newer
     *                          version, damaged, in use by another process, or unreadable; nothing
     *                          in it was changed
     */
    public static RocksDbLogStore open(Path dataDirectory, Settings settings) {
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        Objects.requireNonNull(settings, "settings");
        Path dir = dataDirectory.toAbsolutePath().normalize();
        Database database = Database.open(dir, settings);
        try {
            GroupDeletion.finishAll(database);
        } catch (RuntimeException | Error e) {
            database.close();
            throw e;
        }
        return new RocksDbLogStore(dir, settings, database);
    }

    /**
     * The log of group {@code groupId}, empty if the group never wrote here or was deleted
     * ({@link #deleteGroup}). Recovers and checks what the group stored: every entry's checksum and
     * that indexes run without a gap. Finishes first a deletion of the group that was interrupted.
     *
     * @param groupId 1 to 255 bytes of UTF-8
     * @throws IllegalArgumentException if {@code groupId} is not that
     * @throws IllegalStateException    if the group's storage is already open (close it first), or
     *                                  being deleted, or this store is closed
     * @throws StorageException         if the group's stored log is damaged or unreadable, or an
     *                                  interrupted deletion of it cannot be finished
     */
    public LogStorage forGroup(String groupId) {
        reserve(groupId, opening);
        RocksDbLogStorage storage;
        try {
            // Outside the lock: the check reads the whole log, and other groups' opens and closes
            // (which take the lock to leave openGroups) must not wait for it.
            GroupDeletion.finish(database, groupId);
            beforeCheck.accept(groupId);
            storage = RocksDbLogStorage.open(database, groupId, settings, () -> release(groupId));
        } catch (RuntimeException | Error e) {
            publish(groupId, null);
            throw e;
        }
        publish(groupId, storage);
        return storage;
    }

    /**
     * Deletes everything this store holds for group {@code groupId}, for good: its entries, its
     * hard state (term and vote), its compaction point, its recorded owner, and its payload segment
     * files with their directory {@code log-segments/<group>/} (released files kept for reuse
     * included). Other groups of the store are untouched and may run and write meanwhile.
     * Afterwards {@link #forGroup} of the same id gives an empty log, as for a group that never
     * wrote here. Deleting a group that holds nothing here does no harm.
     *
     * <p>For a group this node will never serve again: removed from the group's membership, or the
     * whole group retired. The group forgets its term and vote, so a node that is still a voter
     * of the group must not be started on it again (it could vote twice in a term); one added back
     * to the group later joins as a new, empty member. Close the group's {@code RaftNode} and then
     * its {@link LogStorage} first. The group's snapshot directory is not this store's: delete it
     * <em>before</em> this (see {@code FileSnapshotStore.deleteDirectory}), so that a crash in
     * between leaves a log a node refuses to start on rather than snapshots without their log.
     *
     * <p>Durable and crash-safe: when it returns, the deletion is on disk. A crash or a failure half-way
     * leaves either the group as it was, or no log of the group and a record that the deletion is
     * under way, which the next opening of the store (or of the group, or another
     * {@code deleteGroup}) finishes before anything else: never part of a log that looks whole.
     * The segment files go at once; RocksDB frees the space of the deleted keys when a thread of
     * this store has compacted their range, soon after this returns (not on the caller's thread: it
     * rewrites table files beside other groups' writes). Closing the store waits for a compaction
     * under way and drops those queued: RocksDB then frees that space later by itself.
     *
     * @param groupId 1 to 255 bytes of UTF-8
     * @throws IllegalArgumentException if {@code groupId} is not that
     * @throws IllegalStateException    if the group's storage is open (close the node, then its
     *                                  storage, first), being opened or deleted by another thread,
     *                                  or this store is closed; nothing was deleted
     * @throws StorageException         if the deletion could not be made durable; the message says
     *                                  how far it got, and calling again finishes it
     */
    public void deleteGroup(String groupId) {
        reserve(groupId, deleting);
        try {
            int files = GroupDeletion.delete(database, groupId, afterDeletionStep);
            LOG.info("deleted group {} from the raft4j log in {} ({} payload segment files)", groupId,
                    database.directory, files);
            compactions.submit(groupId);   // before the reservation ends: a close waiting for it sees it queued
        } finally {
            endDeletion(groupId);
        }
    }

    /**
     * Marks {@code groupId} as being opened or deleted ({@code purpose}), so that no second open or
     * deletion of it starts meanwhile.
     */
    private synchronized void reserve(String groupId, Set<String> purpose) {
        checkOpen();
        Codec.groupPrefix(groupId);
        boolean open = openGroups.containsKey(groupId);
        if (open || opening.contains(groupId)) {
            throw new IllegalStateException("the log storage of group " + groupId + " is "
                    + (purpose == opening ? "already open"
                    : open ? "open: close its node, then the storage, before deleting the group"
                    : "being opened"));
        }
        if (deleting.contains(groupId)) {
            throw new IllegalStateException("group " + groupId + " is being deleted");
        }
        purpose.add(groupId);
    }

    private synchronized void endDeletion(String groupId) {
        deleting.remove(groupId);
        notifyAll();
    }

    /**
     * Ends the open of {@code groupId}: records its storage, or nothing if the open failed. A close of
     * the store waiting for the open then closes this storage with the others.
     */
    private synchronized void publish(String groupId, RocksDbLogStorage storage) {
        opening.remove(groupId);
        if (storage != null) {
            openGroups.put(groupId, storage);
        }
        notifyAll();
    }

    /** The data directory (absolute). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /**
     * Closes the storages of all groups still open, then the database. Writes already returned are
     * durable; none is lost by closing. Close the Raft nodes first.
     */
    @Override
    public void close() {
        ArrayList<RocksDbLogStorage> storages;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            awaitOpensUnderWay();
            storages = new ArrayList<>(openGroups.values());
            openGroups.clear();
        }
        for (RocksDbLogStorage storage : storages) {
            storage.closeFromStore("the raft4j log store of " + dataDirectory + " was closed under it");
        }
        compactions.close();
        database.close();
    }

    /**
     * Holding the lock: waits until no group is being opened or deleted (their check, or their
     * deletion, uses the database).
     */
    private void awaitOpensUnderWay() {
        boolean interrupted = false;
        while (!opening.isEmpty() || !deleting.isEmpty()) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true; // the database must not close under a check: wait on, then tell
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void release(String groupId) {
        openGroups.remove(groupId);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the raft4j log store of " + dataDirectory + " is closed");
        }
    }

    @Override
    public synchronized String toString() {
        return "RocksDbLogStore[" + dataDirectory + ", open groups " + openGroups.keySet() + "]";
    }
}

package io.raft4j.storage.rocksdb;

import io.raft4j.spi.StorageException;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Deletes everything a store holds for one group, for good: its keys in both column families and
 * its payload segment directory. The group's storage is closed and stays so meanwhile (the store
 * sees to it).
 *
 * <h2>Order, and what a crash leaves</h2>
 * <ol>
 *   <li><b>One synced write batch</b> range-deletes every key of the group in both column families
 *       (entries; hard state, compaction point, owner, record of the last append) and puts the
 *       deletion record {@code [0x02][group]}. RocksDB applies a batch whole or not at all, so a crash
 *       leaves either the group exactly as it was (nothing of it deleted, it opens as before), or
 *       none of its keys and the record. Never entries gone while the hard state or compaction point
 *       stays, nor the reverse: no state in which the group looks like a valid, shorter log.</li>
 *   <li><b>The segment directory</b> is deleted, file by file, then the directory, and
 *       {@code log-segments/} is synced. Only now, with no key referencing a payload any more: the
 *       other way round, a crash in between would leave entries pointing at missing files, which
 *       opening refuses as damage.</li>
 *   <li><b>The record is removed</b> (synced): the deletion is complete.</li>
 * </ol>
 * A crash after step 1 and before step 3 leaves the record, no keys and possibly some segment
 * files. Whoever finds the record finishes the deletion ({@link #finish}) before anything else
 * touches the group: opening the store does it for every group, opening the group does it for
 * its own (needed if finishing failed at the store's opening), and deleting it again does it too.
 * The group's segment files are never deleted while the group may hold keys that reference them:
 * a record found beside keys of the group (written by a raft4j that did not know the record,
 * which cannot come from a crash: step 1 is atomic) is dropped, leaving the group and its files alone.
 *
 * <p>RocksDB frees the space of range-deleted keys when its compaction reaches them; after step
 * 3 the group's key range of the entries column family is queued for compaction on a thread of the
 * store ({@link DeletionCompactions}), so that space goes soon too, without holding up the caller
 * (a failure there is logged: nothing of the group is left to read).
 */
final class GroupDeletion {
    private static final Logger LOG = LoggerFactory.getLogger(GroupDeletion.class);

    /**
     * Steps reported to the test hook: after the batch, after each segment file, before the record
     * goes, and when the compaction of the former key range starts (on the compaction thread).
     */
    static final String KEYS_DELETED = "keys deleted";
    static final String FILE_DELETED = "segment file deleted";
    static final String FILES_DELETED = "segment files deleted";
    static final String COMPACTING = "compacting its former key range";

    private final Database database;
    private final String groupId;
    private final byte[] prefix;
    private final byte[] deletionKey;
    private final Consumer<String> afterStep;

    private GroupDeletion(Database database, String groupId, Consumer<String> afterStep) {
        this.database = database;
        this.groupId = groupId;
        this.prefix = Codec.groupPrefix(groupId);
        this.deletionKey = Codec.deletionKey(prefix);
        this.afterStep = afterStep;
    }

    /** Deletes everything of {@code groupId}, in the order the class doc gives; returns the files deleted. */
    static int delete(Database database, String groupId, Consumer<String> afterStep) {
        return new GroupDeletion(database, groupId, afterStep).run();
    }

    /**
     * Finishes a deletion of {@code groupId} that a crash or a failure interrupted, if there is
     * one; does nothing otherwise (one read). Returns whether it finished one.
     */
    static boolean finish(Database database, String groupId) {
        return new GroupDeletion(database, groupId, step -> { }).finishIfRecorded();
    }

    /**
     * Finishes every interrupted deletion (at the opening of the store). One that fails again is
     * logged and left for the opening of its group, which then fails with the error.
     */
    static void finishAll(Database database) {
        for (String groupId : recordedDeletions(database)) {
            try {
                if (finish(database, groupId)) {
                    LOG.info("group {}: finished its deletion, which was interrupted", groupId);
                }
            } catch (StorageException e) {
                LOG.warn("group {}: cannot finish its interrupted deletion now; opening the group or deleting it"
                        + " again tries again: {}", groupId, e.getMessage());
            }
        }
    }

    private int run() {
        database.enter();
        try {
            try (WriteBatch batch = new WriteBatch()) {
                batch.deleteRange(database.entries, prefix, Codec.afterPrefix(prefix));
                batch.deleteRange(database.meta, Codec.metaStart(prefix), Codec.metaEnd(prefix));
                batch.put(database.meta, deletionKey, Codec.encodeDeletion(deletionKey));
                database.db.write(database.syncWrite, batch);
            } catch (RocksDBException e) {
                // The batch is atomic; a failed sync may still have let it reach the disk whole.
                throw new StorageException("group " + groupId + ": cannot delete its log: " + Database.describe(e)
                        + ". The group is as it was, or, if the write reached the disk all the same, deleted but for"
                        + " its segment files; deleting it again, or opening the store, finishes.", e);
            }
            afterStep.accept(KEYS_DELETED);
            return deleteFilesAndRecord();
        } finally {
            database.exit();
        }
    }

    private boolean finishIfRecorded() {
        database.enter();
        try {
            if (database.db.get(database.meta, deletionKey) == null) {
                return false;
            }
            if (holdsKeys()) {
                LOG.warn("group {}: its deletion is recorded, but it holds a log written since (by a raft4j that"
                        + " does not know that record); the log and its segment files are kept", groupId);
                removeRecord();
                return false;
            }
            deleteFilesAndRecord();
            return true;
        } catch (RocksDBException e) {
            throw new StorageException("group " + groupId + ": cannot finish its interrupted deletion: "
                    + Database.describe(e), e);
        } finally {
            database.exit();
        }
    }

    /** Steps 2 and 3: the segment directory, then the record. */
    private int deleteFilesAndRecord() {
        int files;
        try {
            files = PayloadSegments.deleteDirectory(database.segmentsDirectory(), groupId,
                    () -> afterStep.accept(FILE_DELETED));
        } catch (IOException e) {
            throw new StorageException("group " + groupId + ": its log is deleted, but its payload segment files in "
                    + database.segmentsDirectory().resolve(PayloadSegments.directoryName(groupId))
                    + " could not be: " + e + ". Opening the store or the group, or deleting it again, tries again.", e);
        }
        afterStep.accept(FILES_DELETED);
        removeRecord();
        return files;
    }

    private void removeRecord() {
        try (WriteBatch batch = new WriteBatch()) {
            batch.delete(database.meta, deletionKey);
            database.db.write(database.syncWrite, batch);
        } catch (RocksDBException e) {
            throw new StorageException("group " + groupId + ": its log and segment files are deleted, but the record"
                    + " of the deletion cannot be removed: " + Database.describe(e)
                    + ". Opening the store or the group, or deleting it again, tries again.", e);
        }
    }

    /** Whether any key of the group is in either column family. */
    private boolean holdsKeys() throws RocksDBException {
        return anyKey(database.entries, prefix, Codec.afterPrefix(prefix))
                || anyKey(database.meta, Codec.metaStart(prefix), Codec.metaEnd(prefix));
    }

    private boolean anyKey(ColumnFamilyHandle family, byte[] from, byte[] to) throws RocksDBException {
        try (ReadOptions options = new ReadOptions().setFillCache(false);
             Slice upper = new Slice(to);
             RocksIterator it = database.db.newIterator(family, options.setIterateUpperBound(upper))) {
            it.seek(from);
            boolean found = it.isValid();
            it.status();
            return found;
        }
    }

    /**
     * Frees the disk space of deleted {@code groupId}'s range-deleted entries now rather than when
     * RocksDB's compaction gets there (run after the deletion, off its caller: {@link DeletionCompactions}).
     *
     * @throws IllegalStateException if the database is closed
     */
    static void compact(Database database, String groupId) {
        byte[] prefix = Codec.groupPrefix(groupId);
        database.enter();
        // Not exclusive (RocksDB's default for a manual compaction): the background compactions
        // the other groups' writes need go on meanwhile, so their writes are not stalled.
        try (CompactRangeOptions options = new CompactRangeOptions().setExclusiveManualCompaction(false)) {
            database.db.compactRange(database.entries, prefix, Codec.afterPrefix(prefix), options);
        } catch (RocksDBException e) {
            LOG.warn("group {}: deleted; compacting its former key range failed, RocksDB frees that space later: {}",
                    groupId, Database.describe(e));
        } finally {
            database.exit();
        }
    }

    /** The groups whose deletion record is present. */
    private static List<String> recordedDeletions(Database database) {
        List<String> groups = new ArrayList<>();
        database.enter();
        try (ReadOptions options = new ReadOptions().setFillCache(false);
             Slice upper = new Slice(new byte[]{Codec.DELETION_SPACE + 1});
             RocksIterator it = database.db.newIterator(database.meta, options.setIterateUpperBound(upper))) {
            for (it.seek(new byte[]{Codec.DELETION_SPACE}); it.isValid(); it.next()) {
                String groupId = Codec.deletedGroup(it.key());
                if (groupId != null) {
                    groups.add(groupId);
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the records of group deletions in " + database.directory + ": "
                    + Database.describe(e), e);
        } finally {
            database.exit();
        }
        return groups;
    }
}

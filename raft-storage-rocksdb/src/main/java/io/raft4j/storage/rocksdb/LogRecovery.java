package io.raft4j.storage.rocksdb;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.StorageException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides, when a group's log is opened, what that log is: reads everything RocksDB holds for the
 * group, checks all of it, and says where a crash left it.
 *
 * <p>It reads the hard state, the owner, the compaction point and the record of the last segment
 * append ({@link Codec.SegmentWrite}), then every entry: each must decode and pass its checksum
 * (its payload's too, wherever it is stored), and indexes must run without a gap from the
 * compaction point. Anything else found is damage and throws.
 *
 * <p>The one thing a crash may legitimately leave incomplete is the recorded append: its payloads
 * are synced while RocksDB writes their references, so they may be missing, short, or in the page
 * cache only. The scan syncs them and keeps that append's entries aside until it knows whether
 * the append is whole; if it is not and the log ends with it, it was never acknowledged, and the
 * log ends before it ({@link TornWrite}).
 *
 * <p>Checked entries go into the storage's term index, cache and payload references as they are
 * read, not into the result: the log need not fit in memory. The result is the rest, for the
 * storage to apply. This class writes nothing to RocksDB: the cut of a torn append and the removal
 * of the record are the storage's, through its one write path.
 */
final class LogRecovery {
    /*
     * The storage's category, not this class's: the warning about a torn append was always logged
     * there, and operators' filters and alerts may be keyed on it.
     */
    private static final Logger LOG = LoggerFactory.getLogger(RocksDbLogStorage.class);

    /**
     * What opening found, once the log is cut after a torn append.
     *
     * @param owner         the recorded owner, or null if none
     * @param lastIndex     the log's last entry, the compaction point if it holds none; if
     *                      {@code tornFrom >= 0}, as it is once the torn append is removed
     * @param writeRecorded whether RocksDB holds the record of the last segment append, which the
     *                      storage must remove (its payloads are synced now, or the append is cut)
     * @param tornFrom      the first entry of the torn last append, which the storage must remove
     *                      from RocksDB with the record before anything else is written; -1 if none
     */
    record Recovered(HardState hardState, LogOwner owner, long compactIndex, long compactTerm, long lastIndex,
                     boolean writeRecorded, long tornFrom) {
    }

    private final Database database;
    private final String groupId;
    private final byte[] prefix;
    private final PayloadSegments segments;
    private final TermIndex terms;
    private final EntryCache cache;
    private long compactIndex;

    private LogRecovery(Database database, String groupId, byte[] prefix, PayloadSegments segments, TermIndex terms,
                        EntryCache cache) {
        this.database = database;
        this.groupId = groupId;
        this.prefix = prefix;
        this.segments = segments;
        this.terms = terms;
        this.cache = cache;
    }

    /**
     * Reads and checks the log of {@code groupId}, whose keys start with {@code prefix}, filling
     * the empty {@code terms} and {@code cache}, and {@code segments}' references, with its
     * entries. The caller is inside {@link Database#enter()} and holds the storage's lock.
     *
     * @throws StorageException if the log is damaged, or its last append is torn but the log
     *                          does not end with it
     */
    static Recovered scan(Database database, String groupId, byte[] prefix, PayloadSegments segments,
                          TermIndex terms, EntryCache cache) throws RocksDBException {
        return new LogRecovery(database, groupId, prefix, segments, terms, cache).run();
    }

    private Recovered run() throws RocksDBException {
        byte[] hard = database.db.get(database.meta, Codec.hardStateKey(prefix));
        HardState hardState = hard == null ? HardState.INITIAL : Codec.decodeHardState(hard, groupId);
        byte[] recordedOwner = database.db.get(database.meta, Codec.ownerKey(prefix));
        LogOwner owner = recordedOwner == null ? null : Codec.decodeOwner(recordedOwner, groupId);
        byte[] point = database.db.get(database.meta, Codec.compactionKey(prefix));
        long[] compaction = point == null ? new long[]{0, 0} : Codec.decodeCompaction(point, groupId);
        compactIndex = compaction[0];
        cache.clear(compactIndex + 1);
        byte[] recorded = database.db.get(database.meta, Codec.segmentWriteKey(prefix));
        Codec.SegmentWrite lastWrite = recorded == null ? null : Codec.decodeSegmentWrite(recorded, groupId);
        // The process may have died before the payloads' sync: what reads back whole below may
        // be in the page cache only. If they cannot be synced, they are as good as torn.
        TornWrite torn = lastWrite == null ? null : syncPayloadsOf(lastWrite);
        List<Scanned> ofLastWrite = new ArrayList<>();
        long expected = compactIndex + 1;
        try (ReadOptions options = new ReadOptions().setFillCache(false);
             Slice upper = new Slice(Codec.groupEnd(prefix));
             RocksIterator it = database.db.newIterator(database.entries, options.setIterateUpperBound(upper))) {
            for (it.seek(Codec.entryKey(prefix, 0)); it.isValid(); it.next()) {
                long first = Codec.entryIndex(prefix, it.key(), groupId);
                EntryChunk stored = EntryChunk.parse(first, it.value(), groupId);
                boolean straddlesCompaction = expected == compactIndex + 1 && first < expected
                        && stored.last() >= expected;
                if (first < expected && !straddlesCompaction) {
                    throw Codec.corrupt(groupId, "entry " + first, stored.last() <= compactIndex
                            ? "still present below the compaction point " + compactIndex
                            : "stored twice (a chunk overlaps the entries before it)");
                }
                if (first > expected) {
                    throw Codec.corrupt(groupId, "entries", "gap: " + expected + ".." + (first - 1)
                            + " are missing but " + first + " is present");
                }
                for (long index = expected; index <= stored.last(); index++) {
                    byte[] value = stored.entryValue((int) (index - first));
                    Codec.SegmentRef ref = Codec.segmentRef(index, value, groupId);
                    if (lastWrite != null && index >= lastWrite.firstIndex() && index <= lastWrite.lastIndex()) {
                        // The recorded append: kept only if all of it is, appends are atomic.
                        if (torn == null) {
                            byte[] payload = null;
                            if (ref != null && lastWrite.holds(index, ref)) {
                                try {
                                    payload = segments.read(index, ref);
                                } catch (Codec.CorruptLogException damage) { // not an I/O error: those throw
                                    torn = new TornWrite(lastWrite, damage, damage.problem());
                                    continue;
                                }
                            }
                            LogEntry entry = payload != null ? Codec.decodeEntry(index, value, groupId, payload)
                                    : Codec.decodeEntry(index, value, groupId, ref, segments);
                            ofLastWrite.add(new Scanned(entry, ref));
                        }
                        continue;
                    }
                    ofLastWrite.forEach(scanned -> recovered(scanned.entry(), scanned.ref()));
                    ofLastWrite.clear(); // the log goes on after it: not the last append (checked below)
                    recovered(Codec.decodeEntry(index, value, groupId, ref, segments), ref);
                }
                expected = stored.last() + 1;
            }
            it.status();
        }
        long lastIndex = expected - 1;
        long tornFrom = -1;
        if (torn != null) {
            tornFrom = torn.checkLast(lastIndex);
            lastIndex = tornFrom - 1;
        } else {
            if (lastWrite != null && lastIndex < lastWrite.lastIndex()) {
                // The record is written in one batch with its entries, and every later batch that
                // shortens the log removes it: their absence is damage (they may be acknowledged).
                throw Codec.corrupt(groupId, "entries", (lastIndex + 1) + ".." + lastWrite.lastIndex()
                        + " of the last append are missing, though its record names them");
            }
            ofLastWrite.forEach(scanned -> recovered(scanned.entry(), scanned.ref()));
        }
        return new Recovered(hardState, owner, compactIndex, compaction[1], lastIndex, lastWrite != null, tornFrom);
    }

    /**
     * Syncs the payloads of the recorded append; if that fails, returns it as torn (Linux reports
     * a failed sync once: the next opening's sync would succeed without the bytes being safe).
     */
    private TornWrite syncPayloadsOf(Codec.SegmentWrite write) {
        try {
            segments.sync(write.segment());
            return null;
        } catch (IOException e) {
            String problem = "its payload segment could not be synced: " + e;
            return new TornWrite(write, new StorageException("group " + groupId + ": entries " + write.firstIndex()
                    + ".." + write.lastIndex() + ": " + problem + ". Nothing was changed.", e), problem);
        }
    }

    /** An entry read while opening, and where its payload is if not inline. */
    private record Scanned(LogEntry entry, Codec.SegmentRef ref) {
    }

    /** Makes an entry read while opening part of the log in memory. */
    private void recovered(LogEntry entry, Codec.SegmentRef ref) {
        if (ref != null) {
            segments.referenced(ref.segment(), entry.index());
        }
        terms.add(entry.index(), entry.term());
        cache.append(List.of(entry));
    }

    /**
     * The recorded append, found with a payload that is not on disk whole, or that cannot be synced
     * ({@code failure}, {@code problem}). Taken for an append a crash interrupted (its payloads are
     * synced while RocksDB writes its references, and the append returned, so was acknowledged,
     * only after both) if the log ends with it; anything else is reported as {@code failure}.
     */
    private final class TornWrite {
        private final Codec.SegmentWrite write;
        private final StorageException failure;
        private final String problem;

        TornWrite(Codec.SegmentWrite write, StorageException failure, String problem) {
            this.write = write;
            this.failure = failure;
            this.problem = problem;
        }

        /**
         * Checks that the log ends with this write and nothing was compacted since (a compaction
         * follows a finished write); returns the write's first entry, where the log is cut.
         */
        long checkLast(long last) {
            if (last != write.lastIndex() || write.firstIndex() <= compactIndex) {
                throw failure;
            }
            LOG.warn("group {}: the last append before the crash, entries {}..{}, did not reach the disk whole"
                    + " ({}); taken for an append the crash interrupted, which was not acknowledged, the log"
                    + " now ends at {}", groupId, write.firstIndex(), last, problem, write.firstIndex() - 1);
            return write.firstIndex();
        }
    }
}

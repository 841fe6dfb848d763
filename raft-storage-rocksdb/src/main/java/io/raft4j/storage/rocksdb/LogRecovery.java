package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
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
 * <p>Then, if RocksDB holds a segment mark, the appends recorded in the segment file from there
 * ({@link #readAppendsFrom}): an append that only adds entries is synced in its segment file alone
 * and its references went to RocksDB's memtable only, so a crash takes them from RocksDB; the file
 * gives them back. An append a crash cut short there was not acknowledged, and ends the log.
 *
 * <p>A log written by format 4 or 5 may also hold the record of its last append, whose payloads
 * were synced while RocksDB wrote their references, so they may be missing, short, or in the page
 * cache only. The scan syncs them and keeps that append's entries aside until it knows whether
 * the append is whole; if it is not and the log ends with it, it was never acknowledged, and the
 * log ends before it ({@link TornWrite}).
 *
 * <p>Checked entries go into the storage's term index, cache and payload references as they are
 * read, not into the result: the log need not fit in memory. The result is the rest, for the
 * storage to apply, with the entries found in the segment file (at most what the storage lets go
 * unindexed, see {@link RocksDbLogStorage}). This class writes nothing to RocksDB: the cut of a
 * torn append, the removal of the record and the indexing of what the segment file gave back are
 * the storage's, through its one write path.
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
     * @param markPresent   whether RocksDB holds a segment mark, which the storage must remove once
     *                      it has indexed {@code fromSegments} durably
     * @param fromSegments  the whole appends found in the segment files from the mark, in order (part
     *                      of the log now, at its end)
     */
    record Recovered(HardState hardState, LogOwner owner, long compactIndex, long compactTerm, long lastIndex,
                     boolean writeRecorded, long tornFrom, boolean markPresent, List<SegmentAppend> fromSegments) {
    }

    /**
     * An append found in a segment file: its entries, where their payloads are, and whether RocksDB
     * held it already (a memtable flush wrote its references) or only the file did.
     */
    record SegmentAppend(List<LogEntry> entries, List<Codec.SegmentRef> refs, boolean inRocksDb) {
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
        byte[] recordedMark = database.db.get(database.meta, Codec.segmentMarkKey(prefix));
        List<SegmentAppend> fromSegments = new ArrayList<>();
        if (recordedMark != null) {
            long lastTerm = lastIndex == compactIndex ? compaction[1] : terms.termAt(lastIndex);
            lastIndex = readAppendsFrom(Codec.decodeSegmentMark(recordedMark, groupId), lastIndex, lastTerm,
                    fromSegments);
        }
        return new Recovered(hardState, owner, compactIndex, compaction[1], lastIndex, lastWrite != null, tornFrom,
                recordedMark != null, fromSegments);
    }

    /**
     * Reads the appends recorded in the segment file from {@code mark} on: those that only added
     * entries, whose references RocksDB may have lost (they went to its memtable only). Each
     * whole append that continues the log, from {@code lastIndex} on, is part of it: it was synced
     * before it returned. The first that is not whole, or does not continue the log, ends the
     * reading: an append a crash cut short, which was not acknowledged. Appends the log holds
     * already (a memtable flush wrote their references) are read too: this process's memtable may
     * be all that holds them. Returns the log's last index.
     */
    private long readAppendsFrom(Codec.SegmentMark mark, long lastIndex, long lastTerm, List<SegmentAppend> appends) {
        try {
            // What reads back whole may be in the page cache only: the process may have died
            // before the append's sync. It must be on disk before the log is said to hold it.
            segments.sync(mark.segment());
        } catch (IOException e) {
            throw new StorageException("group " + groupId + ": cannot sync its newest payload segment, whose records"
                    + " may hold acknowledged entries: " + e + ". Nothing was changed.", e);
        }
        List<PayloadSegments.StoredRecord> records = segments.readRecords(mark.segment(), mark.offset());
        int at = 0;
        long next = -1; // the first index of the next append, once one was read: the file runs on
        while (at < records.size()) {
            SegmentRecord head = records.get(at).record();
            long count = head.appendLast() - head.index() + 1;
            if (count > records.size() - at || !oneAppend(records, at, (int) count)
                    || (next >= 0 && head.index() != next)) {
                break;
            }
            next = head.appendLast() + 1;
            boolean held = head.appendLast() <= lastIndex;
            if (!held && (head.index() != lastIndex + 1 || head.term() < lastTerm)) {
                break;
            }
            if (held && head.index() <= compactIndex) {
                break; // compacted since: a compaction is a synced batch, which moves the mark past it
            }
            List<LogEntry> entries = new ArrayList<>();
            List<Codec.SegmentRef> refs = new ArrayList<>();
            for (int i = at; i < at + count; i++) {
                PayloadSegments.StoredRecord found = records.get(i);
                SegmentRecord record = found.record();
                LogEntry entry = new LogEntry(record.index(), record.term(), record.type(), Bytes.wrap(found.data()));
                entries.add(entry);
                refs.add(found.ref());
                if (!held) {
                    recovered(entry, found.ref());
                } else {
                    segments.referenced(found.ref().segment(), record.index());
                }
            }
            appends.add(new SegmentAppend(entries, refs, held));
            if (!held) {
                lastIndex = head.appendLast();
                lastTerm = records.get(at + (int) count - 1).record().term();
            }
            at += (int) count;
        }
        if (!records.isEmpty()) {
            LOG.info("group {}: {} appends found in its payload segment {} from {}, the log ends at {}", groupId,
                    appends.size(), mark.segment(), mark.offset(), lastIndex);
        }
        return lastIndex;
    }

    /** Whether records {@code at..at+count-1} are one append: consecutive indexes, terms that never fall. */
    private static boolean oneAppend(List<PayloadSegments.StoredRecord> records, int at, int count) {
        SegmentRecord head = records.get(at).record();
        long term = head.term();
        for (int i = 0; i < count; i++) {
            SegmentRecord record = records.get(at + i).record();
            if (record.index() != head.index() + i || record.appendLast() != head.appendLast() || record.term() < term) {
                return false;
            }
            term = record.term();
        }
        return true;
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

package io.raft4j.storage.rocksdb;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The {@link LogStorage} of one Raft group inside a shared {@link RocksDbLogStore}.
 *
 * <h2>Writes</h2>
 * Each write method builds one {@link WriteBatch} (range delete of a replaced suffix or compacted
 * prefix, the new entries, several of them stored under one key as an {@link EntryChunk}, the hard
 * state or compaction point) and writes it with
 * {@code sync = true}: it is in the fsynced RocksDB WAL, atomically, before the method returns. A
 * failed write throws {@link StorageException} and poisons this storage: every later call throws
 * too, because memory and disk may now disagree; the node must stop and reopen.
 *
 * <p>An append carrying enough large payloads writes them to the group's {@link PayloadSegments},
 * each behind a header that names its entry ({@link SegmentRecord}), and syncs the file first. If
 * the append only adds entries (the common case), that one sync is all it waits for: its entries,
 * small ones too, all go to the file, and their references go to RocksDB's memtable without the
 * WAL ({@link #memoryOnlyWriter}). The group's next synced batch, whatever it is for, carries
 * them again ({@link #beginSyncedBatch}), with the group's <em>mark</em>
 * ({@link Codec.SegmentMark}): where in the newest segment the records begin that RocksDB may not
 * hold durably. Starting a segment moves the mark to it first, and so does every
 * {@value #MAX_UNINDEXED_ENTRIES}th such entry, which bounds both the references a crash can take
 * from RocksDB and the bytes opening reads to find them again. An append that also replaces entries
 * or carries a hard state could not be found again so (the file would not say what it replaced or
 * the hard state): its payloads' records say so, and its synced batch holds their references.
 *
 * <h2>Opening</h2>
 * {@link LogRecovery} reads and checks everything RocksDB holds for the group, then the records
 * from the mark: each whole append that continues the log is part of it (it was synced before it
 * was acknowledged; one cut short by a crash was not acknowledged, and ends the log). This class
 * applies what it found and, through the same write path as the writes above, indexes those
 * entries durably and removes the mark. (A log written by format 4 or 5 may hold the record of an
 * append whose payloads were synced while its batch was written, {@link Codec.SegmentWrite}; the
 * torn append it names is removed the same way.)
 *
 * <h2>Reads</h2>
 * The hard state, the bounds and the term of every entry ({@link TermIndex}) are in memory, so are
 * the newest entries ({@link EntryCache}); only older entries are read from RocksDB.
 *
 * <h2>Threading</h2>
 * State is guarded by {@code this}. Writers do their RocksDB write outside the lock and publish the
 * result under it, so readers never wait for an fsync. Appends write first and publish after:
 * readers never ask for entries an in-progress append replaces (the {@link LogStorage} contract),
 * and new entries are invisible until published. Compaction and reset publish first and write
 * after, so a reader reading old entries from RocksDB under the lock never sees them vanish.
 */
final class RocksDbLogStorage implements LogStorage {
    private static final Logger LOG = LoggerFactory.getLogger(RocksDbLogStorage.class);
    /** Entries indexed in the memtable only before a synced batch indexes them (see the class comment). */
    static final int MAX_UNINDEXED_ENTRIES = 16_384;

    /** The RocksDB write of a batch; replaced in tests to inject I/O errors. */
    interface BatchWriter {
        void write(WriteBatch batch) throws RocksDBException;
    }

    private final Database database;
    private final String groupId;
    private final byte[] prefix;
    private final byte[] hardStateKey;
    private final byte[] ownerKey;
    private final byte[] compactionKey;
    private final byte[] segmentWriteKey;
    private final byte[] segmentMarkKey;
    private final Runnable onClose;
    private volatile BatchWriter writer;
    /** The memory-only write of the references of an append that only adds; replaced in tests. */
    private volatile BatchWriter memoryOnlyWriter;
    private final PayloadSegments segments;
    private final int segmentEntryBytes;
    private final long segmentBatchBytes;

    // Guarded by this.
    private HardState hardState;
    private LogOwner owner;
    /** Invariant: compactIndex <= lastIndex; entries compactIndex+1..lastIndex are all in RocksDB. */
    private long compactIndex;
    private long compactTerm;
    private long lastIndex;
    private final TermIndex terms = new TermIndex();
    /** Invariant: the cache, when not empty, ends at lastIndex. */
    private final EntryCache cache;
    private boolean closed;
    /** Why this storage was closed if not by its own {@link #close()}, for the error of later calls. */
    private String closedBecause;
    private StorageException failure;
    private long entriesReadFromDatabase;
    /** Entries opening found in the segment files that RocksDB had lost (for tests). */
    private long entriesFoundInSegmentsOnly;

    /**
     * Held by each write method for its whole duration: writes are one at a time even if a caller
     * broke the single-writer contract. Guards the fields below.
     */
    private final Object writeLock = new Object();
    /** The first entry whose reference is in RocksDB's memtable only, -1 if none. */
    private long unindexedFrom = -1;
    private long unindexedEntries;
    /** The mark RocksDB holds durably, null if none. */
    private Codec.SegmentMark markWritten;
    private final CRC32C crc = new CRC32C();
    /** Reused, so a large batch does not regrow its native buffer on every write; freed by close. */
    private final WriteBatch batch = new WriteBatch();
    private final ByteBuffer keyBuffer;
    private ByteBuffer valueBuffer = ByteBuffer.allocateDirect(64 << 10);

    private RocksDbLogStorage(Database database, String groupId, RocksDbLogStore.Settings settings,
                              Runnable onClose) {
        this.database = database;
        this.groupId = groupId;
        this.prefix = Codec.groupPrefix(groupId);
        this.hardStateKey = Codec.hardStateKey(prefix);
        this.compactionKey = Codec.compactionKey(prefix);
        this.ownerKey = Codec.ownerKey(prefix);
        this.segmentWriteKey = Codec.segmentWriteKey(prefix);
        this.segmentMarkKey = Codec.segmentMarkKey(prefix);
        this.onClose = onClose;
        this.writer = batch -> database.db.write(database.syncWrite, batch);
        this.memoryOnlyWriter = batch -> database.db.write(database.memoryOnlyWrite, batch);
        this.keyBuffer = ByteBuffer.allocateDirect(prefix.length + 8);
        this.cache = new EntryCache(settings.entryCacheBytes(), 1);
        this.segments = PayloadSegments.open(database.segmentsDirectory(), groupId, settings.segmentFileBytes());
        this.segmentEntryBytes = settings.segmentEntryBytes();
        this.segmentBatchBytes = settings.segmentBatchBytes();
    }

    /** Opens the log of {@code groupId}, recovering and checking what RocksDB holds for it. */
    static RocksDbLogStorage open(Database database, String groupId, RocksDbLogStore.Settings settings,
                                  Runnable onClose) {
        RocksDbLogStorage storage = new RocksDbLogStorage(database, groupId, settings, onClose);
        try {
            synchronized (storage) {
                storage.recover();
            }
        } catch (RuntimeException | Error e) {
            storage.segments.close();
            storage.batch.close();    // native memory
            throw e;
        }
        storage.segments.releaseIfUnreferenced();
        return storage;
    }

    /**
     * Applies what {@link LogRecovery} found, then makes it so on disk: removes the torn last append
     * of a format 4 or 5 log if there is one, else the record of that append, whose payloads are
     * synced now; indexes durably the entries found in the segment files and removes the mark.
     */
    private void recover() {
        database.enter();
        try {
            LogRecovery.Recovered found = LogRecovery.scan(database, groupId, prefix, segments, terms, cache);
            hardState = found.hardState();
            owner = found.owner();
            compactIndex = found.compactIndex();
            compactTerm = found.compactTerm();
            lastIndex = found.lastIndex();
            if (found.tornFrom() >= 0) {
                discard(found.tornFrom());
            } else if (found.writeRecorded()) {
                batch.clear();
                batch.delete(database.meta, segmentWriteKey);
                write("removing the record of the last append");
            }
            if (found.markPresent()) {
                // Those already in RocksDB too: a memtable of this process may be all that holds
                // them. Each as its append wrote it, so that their chunks are the same keys.
                batch.clear();
                for (LogRecovery.SegmentAppend append : found.fromSegments()) {
                    putEntries(append.entries(), append.entries(), append.refs());
                    if (!append.inRocksDb()) {
                        entriesFoundInSegmentsOnly += append.entries().size();
                    }
                }
                batch.delete(database.meta, segmentMarkKey);
                write("indexing the entries found in the payload segments");
            }
        } catch (RocksDBException e) {
            throw new StorageException("group " + groupId + ": cannot read its log: " + Database.describe(e), e);
        } finally {
            database.exit();
        }
    }

    /**
     * Removes entries {@code from} on for good (the torn last append {@link LogRecovery} found),
     * and the record of that append.
     */
    private void discard(long from) throws RocksDBException {
        batch.clear();
        batch.deleteRange(database.entries, Codec.entryKey(prefix, from), Codec.groupEnd(prefix));
        keepHeadOfChunkAt(from);
        batch.delete(database.meta, segmentWriteKey);
        write("discarding the torn last append");
    }

    // ---- reads ---------------------------------------------------------------------------------

    @Override
    public synchronized HardState hardState() {
        checkUsable();
        return hardState;
    }

    @Override
    public synchronized long firstIndex() {
        checkUsable();
        return compactIndex + 1;
    }

    @Override
    public synchronized long lastIndex() {
        checkUsable();
        return lastIndex;
    }

    @Override
    public synchronized long term(long index) {
        checkUsable();
        if (index == compactIndex) {
            return compactTerm;
        }
        if (index < compactIndex || index > lastIndex) {
            throw new IndexOutOfBoundsException("group " + groupId + ": term of " + index + " asked, log holds "
                    + compactIndex + ".." + lastIndex + " (the first being the compaction point)");
        }
        return terms.termAt(index);
    }

    @Override
    public synchronized List<LogEntry> entries(long fromIndex, long toIndex, long maxBytes) {
        checkUsable();
        if (fromIndex < compactIndex + 1 || toIndex > lastIndex + 1 || fromIndex > toIndex) {
            throw new IndexOutOfBoundsException("group " + groupId + ": range [" + fromIndex + ", " + toIndex
                    + ") outside [" + (compactIndex + 1) + ", " + (lastIndex + 1) + ")");
        }
        List<LogEntry> result = new ArrayList<>();
        if (fromIndex == toIndex) {
            return result;
        }
        long usedBytes = 0;
        long cachedFrom = cache.firstIndex();
        if (fromIndex < cachedFrom) {
            usedBytes = readFromDatabase(result, fromIndex, Math.min(toIndex, cachedFrom), maxBytes);
            if (result.size() < Math.min(toIndex, cachedFrom) - fromIndex) {
                return result;
            }
        }
        if (toIndex > cachedFrom) {
            cache.copyTo(result, Math.max(fromIndex, cachedFrom), toIndex, usedBytes, maxBytes);
        }
        return result;
    }

    /** Reads entries [from, to), all held by the log, from RocksDB; returns the bytes used. */
    private long readFromDatabase(List<LogEntry> out, long from, long to, long maxBytes) {
        long usedBytes = 0;
        database.enter();
        try (ReadOptions options = new ReadOptions();
             Slice lower = new Slice(Codec.entryKey(prefix, 0));
             Slice upper = new Slice(Codec.entryKey(prefix, to));
             RocksIterator it = database.db.newIterator(database.entries,
                     options.setIterateLowerBound(lower).setIterateUpperBound(upper))) {
            // The entry may be inside a chunk stored under an earlier index.
            it.seekForPrev(Codec.entryKey(prefix, from));
            long expected = from;
            while (expected < to) {
                if (!it.isValid()) {
                    it.status();
                    throw Codec.corrupt(groupId, "entry " + expected, "missing from RocksDB although the log holds "
                            + (compactIndex + 1) + ".." + lastIndex);
                }
                long first = Codec.entryIndex(prefix, it.key(), groupId);
                EntryChunk stored = EntryChunk.parse(first, it.value(), groupId);
                if (first > expected || stored.last() < expected) {
                    throw Codec.corrupt(groupId, "entry " + expected, "missing from RocksDB (found " + first + ".."
                            + stored.last() + ")");
                }
                for (; expected <= stored.last() && expected < to; expected++) {
                    LogEntry entry = Codec.decodeEntry(expected, stored.entryValue((int) (expected - first)), groupId,
                            segments);
                    long next = usedBytes + entry.sizeBytes();
                    if (!out.isEmpty() && next > maxBytes) {
                        return usedBytes;
                    }
                    out.add(entry);
                    usedBytes = next;
                    entriesReadFromDatabase++;
                }
                it.next();
            }
            return usedBytes;
        } catch (RocksDBException e) {
            throw new StorageException("group " + groupId + ": cannot read entries " + from + ".." + (to - 1) + ": "
                    + Database.describe(e), e);
        } finally {
            database.exit();
        }
    }

    // ---- writes --------------------------------------------------------------------------------

    @Override
    public synchronized Optional<LogOwner> owner() {
        checkUsable();
        return Optional.ofNullable(owner);
    }

    @Override
    public void recordOwner(LogOwner newOwner) {
        Objects.requireNonNull(newOwner, "owner");
        synchronized (writeLock) {
            synchronized (this) {
                checkUsable();
            }
            try {
                beginSyncedBatch();
                batch.put(database.meta, ownerKey, Codec.encodeOwner(newOwner));
            } catch (RocksDBException e) {
                throw failed("recording the owner", e);
            }
            writeSynced("recording the owner");
            synchronized (this) {
                owner = newOwner;
            }
        }
    }

    @Override
    public void append(List<LogEntry> entries, HardState newHardState) {
        if (entries.isEmpty() && newHardState == null) {
            synchronized (this) {
                checkUsable();
            }
            return;
        }
        synchronized (writeLock) {
            long replaceFrom;
            synchronized (this) {
                checkUsable();
                replaceFrom = checkAppend(entries);
            }
            List<LogEntry> segmented = payloadsForSegments(entries);
            // Only an append that adds entries, and nothing else, can be found again from the
            // segment file alone (see the class comment); all of its entries go there.
            boolean selfIndexed = !segmented.isEmpty() && replaceFrom < 0 && newHardState == null;
            List<LogEntry> toFile = selfIndexed ? entries : segmented;
            try {
                List<Codec.SegmentRef> refs = toFile.isEmpty() ? List.of() : writePayloads(toFile,
                        selfIndexed ? entries.get(entries.size() - 1).index() : SegmentRecord.NOT_SELF_INDEXED);
                if (selfIndexed) {
                    batch.clear();
                    putEntries(entries, toFile, refs);
                    writeMemoryOnly();
                    if (unindexedFrom < 0) {
                        unindexedFrom = entries.get(0).index();
                    }
                    unindexedEntries += entries.size();
                } else {
                    beginSyncedBatch();
                    if (replaceFrom >= 0) {
                        batch.deleteRange(database.entries, Codec.entryKey(prefix, replaceFrom), Codec.groupEnd(prefix));
                        keepHeadOfChunkAt(replaceFrom);
                    }
                    putEntries(entries, toFile, refs);
                    if (newHardState != null) {
                        batch.put(database.meta, hardStateKey, Codec.encodeHardState(newHardState));
                    }
                }
            } catch (RocksDBException | IOException e) {
                throw failed("append", e);
            } catch (Error e) {
                failed("append", e);
                throw e;
            }
            if (!selfIndexed) {
                writeSynced("append");
            }
            if (!toFile.isEmpty()) {
                segments.referenced(segments.newest(), toFile.get(toFile.size() - 1).index());
            }
            synchronized (this) {
                if (!entries.isEmpty()) {
                    long first = entries.get(0).index();
                    terms.truncateFrom(first);
                    for (LogEntry entry : entries) {
                        terms.add(entry.index(), entry.term());
                    }
                    cache.append(entries);
                    lastIndex = entries.get(entries.size() - 1).index();
                }
                if (newHardState != null) {
                    hardState = newHardState;
                }
            }
            if (unindexedEntries >= MAX_UNINDEXED_ENTRIES) {
                checkpoint("indexing payload references");
            }
        }
    }

    /**
     * Writes {@code toFile}'s payloads to the newest segment, synced (see
     * {@link PayloadSegments#write}); starting a segment first if that one is full, and moving the
     * mark to it before anything is written there: opening reads the records of the mark's file
     * only. If the write fails, the mark is moved past it, best effort (the storage is poisoned
     * already): its records may read back whole from the page cache without being on disk, and
     * Linux reports a failed sync once, so no later sync could vouch for them.
     */
    private List<Codec.SegmentRef> writePayloads(List<LogEntry> toFile, long appendLast)
            throws IOException, RocksDBException {
        if (segments.needsNewSegment(toFile)) {
            segments.startSegment();
            checkpoint("starting a payload segment");
            segments.releaseIfUnreferenced(); // the file before, if nothing references it: the mark left it
        }
        try {
            return segments.write(toFile, appendLast);
        } catch (IOException | RuntimeException | Error e) {
            if (appendLast != SegmentRecord.NOT_SELF_INDEXED) {
                markPastFailedRecords();
            }
            throw e;
        }
    }

    private void markPastFailedRecords() {
        database.enter();
        try {
            beginSyncedBatch();
            writer.write(batch);
        } catch (RocksDBException | RuntimeException e) {
            LOG.error("group {}: could not move the segment mark past payloads that failed to sync; reopening may"
                    + " find them whole in the page cache", groupId, e);
        } finally {
            database.exit();
        }
    }

    /**
     * Clears the batch and starts it as every synced batch of this group starts: with the
     * references RocksDB holds in its memtable only (first, so that what the batch deletes after
     * deletes them too) and, if it moved, the mark: the end of what is written to the newest
     * segment, since all of it is indexed once the batch is durable. Finished by
     * {@link #writeSynced}.
     */
    private void beginSyncedBatch() throws RocksDBException {
        batch.clear();
        if (unindexedFrom >= 0) {
            database.enter();
            try (ReadOptions options = new ReadOptions();
                 Slice upper = new Slice(Codec.groupEnd(prefix));
                 RocksIterator it = database.db.newIterator(database.entries, options.setIterateUpperBound(upper))) {
                // Each append writes chunks that begin at its own first entry.
                for (it.seek(Codec.entryKey(prefix, unindexedFrom)); it.isValid(); it.next()) {
                    batch.put(database.entries, it.key(), it.value());
                }
                it.status();
            } finally {
                database.exit();
            }
        }
        if (segments.newest() >= 0) {
            Codec.SegmentMark mark = new Codec.SegmentMark(segments.newest(), segments.writtenEnd());
            if (!mark.equals(markWritten)) {
                batch.put(database.meta, segmentMarkKey, Codec.encodeSegmentMark(mark));
            }
        }
    }

    /** Writes the batch {@link #beginSyncedBatch} began, synced: from now on it indexes all it named. */
    private void writeSynced(String operation) {
        write(operation);
        unindexedFrom = -1;
        unindexedEntries = 0;
        if (segments.newest() >= 0) {
            markWritten = new Codec.SegmentMark(segments.newest(), segments.writtenEnd());
        }
    }

    /** A synced batch of the memtable-only references and the mark, and nothing else. */
    private void checkpoint(String operation) {
        try {
            beginSyncedBatch();
        } catch (RocksDBException e) {
            throw failed(operation, e);
        }
        writeSynced(operation);
    }

    /** Writes the built batch to RocksDB's memtable only, no WAL (see the class comment). */
    private void writeMemoryOnly() throws RocksDBException {
        database.enter();
        try {
            memoryOnlyWriter.write(batch);
        } finally {
            database.exit();
        }
    }

    /**
     * The entries of an append whose payloads go to segment files: those of at least
     * {@code segmentEntryBytes}, if together they reach {@code segmentBatchBytes}; else none.
     */
    private List<LogEntry> payloadsForSegments(List<LogEntry> entries) {
        long bytes = 0;
        int count = 0;
        for (LogEntry entry : entries) {
            int length = entry.data().length();
            if (length >= segmentEntryBytes) {
                bytes += length;
                count++;
            }
        }
        if (bytes < segmentBatchBytes || count == 0) {
            return List.of();
        }
        List<LogEntry> large = new ArrayList<>(count);
        for (LogEntry entry : entries) {
            if (entry.data().length() >= segmentEntryBytes) {
                large.add(entry);
            }
        }
        return large;
    }

    /**
     * Adds the puts of {@code entries} to the batch, as chunks of consecutive entries (see
     * {@link EntryChunk}); the payloads of {@code segmented} are already in segment files at
     * {@code refs} and only their references are stored.
     */
    private void putEntries(List<LogEntry> entries, List<LogEntry> segmented, List<Codec.SegmentRef> refs)
            throws RocksDBException {
        int[] valueBytes = new int[entries.size()];
        Codec.SegmentRef[] refOf = new Codec.SegmentRef[entries.size()];
        int nextRef = 0;
        for (int i = 0; i < entries.size(); i++) {
            LogEntry entry = entries.get(i);
            if (nextRef < segmented.size() && segmented.get(nextRef) == entry) {
                refOf[i] = refs.get(nextRef++);
                valueBytes[i] = Codec.SEGMENT_VALUE_BYTES;
            } else {
                valueBytes[i] = Codec.entryValueBytes(entry);
            }
        }
        int from = 0;
        while (from < entries.size()) {
            int to = from + 1;
            long bytes = valueBytes[from];
            while (to < entries.size() && to - from < EntryChunk.MAX_ENTRIES
                    && EntryChunk.chunkBytes(to - from + 1, bytes + valueBytes[to]) <= EntryChunk.MAX_BYTES) {
                bytes += valueBytes[to++];
            }
            putStored(entries, refOf, from, to, to - from == 1 ? valueBytes[from] : EntryChunk.chunkBytes(to - from, bytes));
            from = to;
        }
    }

    /**
     * Adds the put of entries {@code from..to-1}: one entry's value, or a chunk of them. Key and
     * value go through reused direct buffers, which JNI reads in place: one copy into the batch. A
     * value larger than the direct buffer (a large payload kept inline, as with segments turned off)
     * goes through a heap array instead: the buffer grown to it stayed for as long as the log was
     * open, 8 MiB and more of direct memory per group that had stored an 8 MiB entry, and under
     * {@code -Xmx512m} 70 groups storing one 8 MiB entry each ran out of direct memory.
     */
    private void putStored(List<LogEntry> entries, Codec.SegmentRef[] refOf, int from, int to, int storedBytes)
            throws RocksDBException {
        if (valueBuffer.capacity() < storedBytes) {
            ByteBuffer kept = valueBuffer;
            valueBuffer = ByteBuffer.allocate(storedBytes);
            try {
                fillValue(entries, refOf, from, to);
                batch.put(database.entries, Codec.entryKey(prefix, entries.get(from).index()),
                        Arrays.copyOf(valueBuffer.array(), valueBuffer.limit()));
            } finally {
                valueBuffer = kept;
            }
            return;
        }
        keyBuffer.clear();
        keyBuffer.put(prefix).putLong(entries.get(from).index()).flip();
        fillValue(entries, refOf, from, to);
        batch.put(database.entries, keyBuffer, valueBuffer);
    }

    /** Encodes the value of entries {@code from..to-1} into {@link #valueBuffer}, flipped for reading. */
    private void fillValue(List<LogEntry> entries, Codec.SegmentRef[] refOf, int from, int to) {
        valueBuffer.clear();
        if (to - from == 1) {
            encode(entries.get(from), refOf[from]);
        } else {
            int start = EntryChunk.begin(valueBuffer);
            for (int i = from; i < to; i++) {
                int slot = EntryChunk.beginEntry(valueBuffer);
                encode(entries.get(i), refOf[i]);
                EntryChunk.endEntry(valueBuffer, slot);
            }
            EntryChunk.finish(valueBuffer, start, entries.get(from).index(), to - from, crc);
        }
        valueBuffer.flip();
    }

    /** Encodes one entry's value: its payload inline, or its segment reference {@code ref}. */
    private void encode(LogEntry entry, Codec.SegmentRef ref) {
        if (ref == null) {
            Codec.encodeEntry(entry, valueBuffer, crc);
        } else {
            Codec.encodeSegmentEntry(entry, ref, valueBuffer, crc);
        }
    }

    /**
     * An append replaces the log from {@code index}: if a chunk stored under an earlier index holds
     * entries from there on, adds to the batch the rewrite of its head (the entries before
     * {@code index}) under its key, or its removal if the head is all compacted away.
     */
    private void keepHeadOfChunkAt(long index) throws RocksDBException {
        EntryChunk stored = storedAt(index);
        if (stored == null || stored.first() == index || stored.last() < index) {
            return; // the range delete from index covers it, or it ends before index
        }
        byte[] key = Codec.entryKey(prefix, stored.first());
        long keepFrom;
        synchronized (this) {
            keepFrom = compactIndex + 1;
        }
        if (index <= keepFrom) {
            batch.delete(database.entries, key); // nothing of it stays above the compaction point
            return;
        }
        List<byte[]> head = new ArrayList<>();
        for (long i = stored.first(); i < index; i++) {
            head.add(stored.entryValue((int) (i - stored.first())));
        }
        batch.put(database.entries, key, EntryChunk.of(stored.first(), head));
    }

    /** The entries stored under the greatest key at or below entry {@code index}, or null if none. */
    private EntryChunk storedAt(long index) {
        database.enter();
        try (ReadOptions options = new ReadOptions();
             Slice lower = new Slice(Codec.entryKey(prefix, 0));
             RocksIterator it = database.db.newIterator(database.entries, options.setIterateLowerBound(lower))) {
            it.seekForPrev(Codec.entryKey(prefix, index));
            if (!it.isValid()) {
                it.status();
                return null;
            }
            long first = Codec.entryIndex(prefix, it.key(), groupId);
            return EntryChunk.parse(first, it.value(), groupId);
        } catch (RocksDBException e) {
            throw new StorageException("group " + groupId + ": cannot read the entries around " + index + ": "
                    + Database.describe(e), e);
        } finally {
            database.exit();
        }
    }

    /** Validates an append; returns the first index it replaces, or -1 if it only adds. */
    private long checkAppend(List<LogEntry> entries) {
        if (entries.isEmpty()) {
            return -1;
        }
        long first = entries.get(0).index();
        if (first <= compactIndex || first > lastIndex + 1) {
            throw new IllegalArgumentException("group " + groupId + ": append at " + first + " does not fit log "
                    + (compactIndex + 1) + ".." + lastIndex);
        }
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).index() != first + i) {
                throw new IllegalArgumentException("group " + groupId + ": entries are not contiguous at "
                        + entries.get(i).index());
            }
        }
        return first <= lastIndex ? first : -1;
    }

    @Override
    public void compact(long index, long term) {
        if (term < 0 || index == Long.MAX_VALUE) {
            // Long.MAX_VALUE: the first index after it would wrap to Long.MIN_VALUE.
            throw new IllegalArgumentException("compaction point (" + index + ", " + term + ") out of range: index"
                    + " below " + Long.MAX_VALUE + ", term from 0");
        }
        synchronized (writeLock) {
            boolean wholeLog;
            synchronized (this) {
                checkUsable();
                if (index <= compactIndex) {
                    return;
                }
                wholeLog = index >= lastIndex;
                publishCompaction(index, term, wholeLog);
            }
            writeCompaction(index, term, wholeLog, "compact");
            if (wholeLog) {
                segments.releaseAll();
            } else {
                segments.releaseThrough(index);
            }
        }
    }

    @Override
    public void reset(long index, long term) {
        if (index < 0 || index == Long.MAX_VALUE || term < 0) {
            throw new IllegalArgumentException("compaction point (" + index + ", " + term + ") out of range: index"
                    + " 0.." + (Long.MAX_VALUE - 1) + ", term from 0");
        }
        synchronized (writeLock) {
            synchronized (this) {
                checkUsable();
                publishCompaction(index, term, true);
            }
            writeCompaction(index, term, true, "reset");
            segments.releaseAll();
        }
    }

    /** Makes a compaction or reset visible to readers (before it is written; see the class doc). */
    private void publishCompaction(long index, long term, boolean wholeLog) {
        compactIndex = index;
        compactTerm = term;
        if (wholeLog) {
            lastIndex = index;
            terms.clear();
            cache.clear(index + 1);
        } else {
            terms.dropThrough(index);
            cache.dropThrough(index);
        }
    }

    private void writeCompaction(long index, long term, boolean wholeLog, String operation) {
        try {
            byte[] end = wholeLog ? Codec.groupEnd(prefix) : Codec.entryKey(prefix, firstKeptKey(index));
            beginSyncedBatch();
            batch.deleteRange(database.entries, Codec.entryKey(prefix, 0), end);
            batch.put(database.meta, compactionKey, Codec.encodeCompaction(index, term));
        } catch (RocksDBException | RuntimeException e) {
            // Readers already see the compaction (published first), the disk does not: poisoned, as
            // after a failed write. Finding the first kept key reads RocksDB, which can fail too.
            throw failed(operation, e);
        }
        writeSynced(operation);
    }

    /**
     * The first key a compaction through {@code index} keeps: the key of entry {@code index + 1},
     * or of the chunk that holds it if that chunk starts at or below {@code index} (it stays whole).
     */
    private long firstKeptKey(long index) {
        EntryChunk stored = storedAt(index + 1);
        return stored != null && stored.last() >= index + 1 ? stored.first() : index + 1;
    }

    /** Writes the built batch, synced; a failure poisons this storage. */
    private void write(String operation) {
        database.enter();
        try {
            writer.write(batch);
        } catch (RocksDBException e) {
            throw failed(operation, e);
        } finally {
            database.exit();
        }
    }

    /** Records a failed write: from now on every call throws, the node must stop and reopen. */
    private synchronized StorageException failed(String operation, Throwable e) {
        // A plain IOException is ours, its message complete ("writing and syncing payloads to <file>
        // failed: No space left on device"); other exceptions' types say what their messages do not.
        String cause = e instanceof RocksDBException rocks ? Database.describe(rocks)
                : e.getClass() == IOException.class ? e.getMessage() : e.toString();
        failure = new StorageException("group " + groupId + ": " + operation + " could not be made durable: "
                + cause, e);
        return failure;
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    @Override
    public void close() {
        if (markClosed(null)) {
            onClose.run();
        }
    }

    /**
     * Closes this storage without notifying the store (the store is closing it, for the reason
     * given: a node that calls on afterwards is told its store closed, not its own storage).
     */
    void closeFromStore(String reason) {
        markClosed(reason);
    }

    /** Marks this storage closed and frees its batch once any write in progress is over. */
    private boolean markClosed(String reason) {
        synchronized (writeLock) {
            synchronized (this) {
                if (closed) {
                    return false;
                }
                closed = true;
                closedBecause = reason;
            }
            indexBeforeClosing();
            batch.close();
            segments.close();
            return true;
        }
    }

    /**
     * Makes the memtable-only references durable before the storage closes, so that the next
     * opening need not read them back from the segment files; best effort, since that opening can.
     */
    private void indexBeforeClosing() {
        synchronized (this) {
            if (failure != null || unindexedFrom < 0) {
                return;
            }
        }
        try {
            checkpoint("closing");
        } catch (RuntimeException e) {
            LOG.warn("group {}: could not index its newest entries while closing; the next opening reads them from"
                    + " its payload segments", groupId, e);
        }
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("the log storage of group " + groupId + " is closed"
                    + (closedBecause == null ? "" : ": " + closedBecause));
        }
        if (failure != null) {
            throw new StorageException("group " + groupId + ": an earlier write failed, the storage must be"
                    + " reopened: " + failure.getMessage(), failure);
        }
    }

    String groupId() {
        return groupId;
    }

    /** Entries read from RocksDB rather than the cache since opening (for tests). */
    synchronized long entriesReadFromDatabase() {
        return entriesReadFromDatabase;
    }

    /** Entries opening found in the segment files only, their references lost from RocksDB (for tests). */
    synchronized long entriesFoundInSegmentsOnly() {
        return entriesFoundInSegmentsOnly;
    }

    /** Payload segment files present (for tests). */
    int segmentFiles() {
        return segments.files();
    }

    /** Entries held in the cache (for tests). */
    synchronized int cachedEntries() {
        return cache.size();
    }

    /** Replaces the RocksDB write (for tests injecting I/O errors). */
    synchronized void writer(BatchWriter replacement) {
        this.writer = replacement;
    }

    /** Replaces the memory-only RocksDB write (for tests: a no-op loses the references, as a crash does). */
    synchronized void memoryOnlyWriter(BatchWriter replacement) {
        this.memoryOnlyWriter = replacement;
    }

    /** Runs {@code check} after each sync of payloads (for tests injecting failures). */
    void afterPayloadSync(PayloadSegments.SyncCheck check) {
        segments.afterSync(check);
    }

    @Override
    public synchronized String toString() {
        return "RocksDbLogStorage[" + groupId + ", " + (compactIndex + 1) + ".." + lastIndex + ", " + hardState + "]";
    }
}

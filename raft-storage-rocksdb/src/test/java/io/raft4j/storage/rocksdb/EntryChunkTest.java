package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several entries under one key: an append stored as chunks, read back from RocksDB across chunk
 * boundaries, a truncation that ends inside a chunk, and a compaction that ends inside one, each
 * also after reopening. No entry cache, so every read goes to RocksDB.
 */
class EntryChunkTest {
    private static final String GROUP = "g1";
    private static final byte[] PREFIX = Codec.groupPrefix(GROUP);
    private static final long NO_LIMIT = Long.MAX_VALUE;
    /** No entry cache; segments never used (every payload inline). */
    private static final RocksDbLogStore.Settings SETTINGS = new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20)
            .withSegments(Integer.MAX_VALUE, Long.MAX_VALUE, 64 << 20);

    @TempDir
    Path dataDir;

    @Test
    void aLargeAppendIsStoredInChunksAndReadAcrossTheirBoundaries() throws Exception {
        List<LogEntry> written = entries(1, 600, 1, 100);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            log.append(written, null);
            assertEquals(written, log.entries(1, 601, NO_LIMIT));
            assertEquals(written.subList(250, 270), log.entries(251, 271, NO_LIMIT), "across the first boundary");
            List<LogEntry> limited = log.entries(200, 601, 60 * written.get(0).sizeBytes());
            assertEquals(written.subList(199, 259), limited, "a byte limit stops inside the second chunk");
        }
        try (RawRocks raw = raw()) {
            assertNotNull(raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1)));
            assertNull(raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 2)));
            assertNotNull(raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1 + EntryChunk.MAX_ENTRIES)),
                    "a chunk holds at most " + EntryChunk.MAX_ENTRIES + " entries");
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(600, log.lastIndex());
            assertEquals(written, log.entries(1, 601, NO_LIMIT));
        }
    }

    @Test
    void chunksStayUnderTheirByteBound() throws Exception {
        List<LogEntry> written = entries(1, 40, 1, 4000);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            log.append(written, null);
        }
        try (RawRocks raw = raw()) {
            int keys = 0;
            for (long index = 1; index <= 40; index++) {
                byte[] value = raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, index));
                assertTrue(value == null || value.length <= EntryChunk.MAX_BYTES, "chunk at " + index);
                keys += value == null ? 0 : 1;
            }
            // 40 x ~4 KiB is about 160 KiB: at least three chunks, each of several entries.
            assertTrue(keys >= 3 && keys <= 10, keys + " keys for 40 entries");
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(written, log.entries(1, 41, NO_LIMIT));
        }
    }

    @Test
    void aTruncationInsideAChunkKeepsItsHead() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            log.append(entries(1, 10, 1, 50), null);
            log.append(entries(6, 3, 2, 50), null); // replaces 6..10 with 6..8 of term 2
            assertEquals(8, log.lastIndex());
            assertEquals(1, log.term(5));
            assertEquals(2, log.term(6));
        }
        List<LogEntry> expected = new ArrayList<>(entries(1, 5, 1, 50));
        expected.addAll(entries(6, 3, 2, 50));
        try (RawRocks raw = raw()) {
            assertEquals(5, EntryChunk.parse(1, raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1)), GROUP).count(),
                    "the chunk at 1 was cut to 1..5");
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(8, log.lastIndex());
            assertEquals(expected, log.entries(1, 9, NO_LIMIT));
            log.append(entries(2, 1, 3, 50), null); // cut to one entry: stored as a single value
            assertEquals(List.of(expected.get(0), entries(2, 1, 3, 50).get(0)), log.entries(1, 3, NO_LIMIT));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(2, log.lastIndex());
            assertEquals(3, log.term(2));
        }
    }

    @Test
    void aCompactionInsideAChunkKeepsItWhole() throws Exception {
        List<LogEntry> written = entries(1, 10, 1, 50);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            log.append(written, null);
            log.compact(4, 1);
            assertEquals(written.subList(4, 10), log.entries(5, 11, NO_LIMIT));
        }
        try (RawRocks raw = raw()) {
            assertNotNull(raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1)), "the chunk holding 5..10 stays");
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(5, log.firstIndex());
            assertEquals(written.subList(4, 10), log.entries(5, 11, NO_LIMIT));
            // Replacing everything above the compaction point: nothing of the chunk is kept.
            log.append(entries(5, 2, 2, 50), null);
        }
        try (RawRocks raw = raw()) {
            assertNull(raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1)), "the chunk held only compacted entries");
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(5, log.firstIndex());
            assertEquals(entries(5, 2, 2, 50), log.entries(5, 7, NO_LIMIT));
            log.append(entries(7, 20, 2, 50), null);
            log.compact(10, 2); // inside the chunk 7..26
            log.compact(26, 2); // the whole log
            assertEquals(26, log.lastIndex());
            log.append(entries(27, 3, 2, 50), null);
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(27, log.firstIndex());
            assertEquals(entries(27, 3, 2, 50), log.entries(27, 30, NO_LIMIT));
        }
    }

    private RawRocks raw() throws Exception {
        return new RawRocks(dataDir.resolve(Database.LOG_DIR));
    }

    private static List<LogEntry> entries(long first, int count, long term, int bytes) {
        List<LogEntry> entries = new ArrayList<>(count);
        for (long index = first; index < first + count; index++) {
            byte[] data = new byte[bytes];
            for (int i = 0; i < bytes; i++) {
                data[i] = (byte) (index * 31 + i + term);
            }
            entries.add(LogEntry.command(index, term, Bytes.wrap(data)));
        }
        return entries;
    }
}

package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large payloads in segment files: which writes use them, that files roll over and are recycled
 * once compacted, that a log in the older all-inline format still opens, and that damaged or
 * missing segment files are reported clearly.
 */
class PayloadSegmentsTest {
    private static final String GROUP = "g1";
    private static final byte[] PREFIX = Codec.groupPrefix(GROUP);
    private static final long NO_LIMIT = Long.MAX_VALUE;
    /**
     * Payloads of 1 KiB and up, when a write has 4 KiB of them; files of 20.5 KiB (two appends of
     * four 2 KiB entries, with their headers, the second from the 4 KiB boundary after the first);
     * no entry cache.
     */
    private static final RocksDbLogStore.Settings SETTINGS =
            new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20).withSegments(1024, 4096, (20 << 10) + 512);
    /** The bytes of a record of a 2 KiB payload: its header, then the payload. */
    private static final int R = SegmentRecord.HEADER_BYTES + 2048;
    /** Where the second append of four 2 KiB entries starts in a file (the first starts at 0). */
    private static final int SECOND = (int) PayloadSegments.aligned(4 * R);

    @TempDir
    Path dataDir;

    @Test
    void onlyWritesCarryingEnoughLargePayloadsUseSegments() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            log.append(entries(1, 3, 2000), null); // 6,000 bytes of large payloads: to a segment
            log.append(entries(4, 3, 1000), null); // below 1 KiB each: inline
            log.append(entries(7, 1, 3000), null); // large, but under 4 KiB in this write: inline
            log.append(mixed(8), null);            // two large, two small: an append that only adds
                                                   // stores them all in the segment file

            assertEquals(entries(1, 3, 2000), log.entries(1, 4, NO_LIMIT));
            assertEquals(mixed(8), log.entries(8, 12, NO_LIMIT));
            assertEquals(List.of(true, true, true, false, false, false, false, true, true, true, true),
                    storedInSegment(store, 11));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(11, log.lastIndex());
            List<LogEntry> expected = new ArrayList<>(entries(1, 3, 2000));
            expected.addAll(entries(4, 3, 1000));
            expected.addAll(entries(7, 1, 3000));
            expected.addAll(mixed(8));
            assertEquals(expected, log.entries(1, 12, NO_LIMIT));
        }
    }

    @Test
    void segmentsRollOverAndAreRecycledOnceCompacted() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            for (long first = 1; first <= 40; first += 4) {
                log.append(entries(first, 4, 2048), null); // 8 KiB per write: two writes per file
            }
            assertEquals(List.of(5, 0), files(".seg", ".free"));

            log.compact(20, 1); // entries 17..20 share the third file with 21..24, so it stays
            assertEquals(List.of(3, 2), files(".seg", ".free"));
            assertEquals(entries(21, 20, 2048), log.entries(21, 41, NO_LIMIT));

            log.append(entries(30, 4, 2048), null); // a follower's suffix replaced by a new leader
            assertEquals(List.of(4, 1), files(".seg", ".free"), "the new segment is a recycled file");
            assertEquals(entries(30, 4, 2048), log.entries(30, 34, NO_LIMIT));
            log.compact(32, 1);
            // The replaced entries' file (33..40 before) goes once the log is compacted past 40.
            assertEquals(List.of(2, 3), files(".seg", ".free"));
            log.append(entries(34, 8, 2048), null);
            log.compact(40, 1);
            assertEquals(1, log.segmentFiles(), "only the file being appended to is left");
            assertEquals(List.of(1, 4), files(".seg", ".free"));

            log.reset(100, 2);
            log.append(entries(101, 4, 2048), null);
            log.append(entries(105, 8, 2048), null); // 16 KiB: rolls over into a recycled file
            assertEquals(List.of(2, 3), files(".seg", ".free"));
            assertEquals(entries(101, 12, 2048), log.entries(101, 113, NO_LIMIT));
            log.close();
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            // Uncached: read back from the files, one of them recycled with older bytes past its end.
            assertEquals(entries(101, 12, 2048), log.entries(101, 113, NO_LIMIT));
            assertEquals(List.of(2, 3), files(".seg", ".free"));
        }
    }

    @Test
    void releasedFilesBeyondThoseKeptForReuseAreDeleted() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            for (long first = 1; first <= 64; first += 8) {
                log.append(entries(first, 8, 2048), null); // 16 KiB: one file each
            }
            assertEquals(List.of(8, 0), files(".seg", ".free"));
            log.compact(60, 1);
            assertEquals(List.of(1, PayloadSegments.MAX_FREE_FILES), files(".seg", ".free"));
            log.close();
        }
    }

    @Test
    void logWrittenInTheOlderInlineFormatOpensAndIsMarkedCurrent() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir);
             LogStorage log = store.forGroup(GROUP)) {
            log.append(entries(1, 3, 100), new HardState(2, "n2"));
        }
        try (RawRocks raw = new RawRocks(dataDir.resolve(Database.LOG_DIR))) {
            raw.put(Codec.META_CF, Codec.FORMAT_KEY, Codec.formatValue(1));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(entries(1, 3, 100), log.entries(1, 4, NO_LIMIT));
            assertEquals(new HardState(2, "n2"), log.hardState());
            log.append(entries(4, 4, 2048), null);
        }
        try (RawRocks raw = new RawRocks(dataDir.resolve(Database.LOG_DIR))) {
            assertEquals(Codec.FORMAT_VERSION, Codec.formatVersion(raw.get(Codec.META_CF, Codec.FORMAT_KEY)));
        }
    }

    @Test
    void missingSegmentFileIsReported() throws Exception {
        writeSegmentedLog();
        Files.delete(segmentFiles().get(0));
        assertGroupRefused("group g1, entry 1: its payload segment");
        assertGroupRefused("is missing");
    }

    @Test
    void truncatedSegmentFileIsReported() throws Exception {
        writeSegmentedLog();
        Path file = segmentFiles().get(0);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 100);
        }
        assertGroupRefused("group g1, entry 4: its payload segment");
    }

    @Test
    void flippedByteInASegmentFileIsReported() throws Exception {
        writeSegmentedLog();
        Path file = segmentFiles().get(0);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, R + SegmentRecord.HEADER_BYTES + 7);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            channel.write(one, R + SegmentRecord.HEADER_BYTES + 7);
        }
        assertGroupRefused("group g1, entry 2: checksum mismatch of its payload");
    }

    /**
     * An append that only adds entries is synced in its segment file alone; its references reach
     * RocksDB's memtable only, so a crash loses them there. Opening finds the append in the file,
     * from the mark, and indexes it durably: a second opening finds it without the file's help.
     */
    @Test
    void entriesWhoseReferencesACrashTookFromRocksDbAreFoundInTheSegmentFile() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), new HardState(1, "n1")),
                log -> log.append(entries(5, 4, 2048), null));
        for (int opening = 1; opening <= 2; opening++) {
            try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
                 LogStorage log = store.forGroup(GROUP)) {
                assertEquals(8, log.lastIndex(), "opening " + opening);
                assertEquals(entries(1, 8, 2048), log.entries(1, 9, NO_LIMIT));
            }
        }
        try (RawRocks raw = new RawRocks(dataDir.resolve(Database.LOG_DIR))) {
            assertNotNull(raw.entryValue(GROUP, 5), "indexed in RocksDB by the first opening");
            assertNull(raw.get(Codec.META_CF, Codec.segmentMarkKey(PREFIX)), "and the mark removed");
        }
    }

    /**
     * Appends RocksDB holds already (their memtable was flushed, here when the store closed) are
     * indexed again with those it lost, each as its append wrote it: indexed as one, their chunks
     * overlapped the ones stored, and the next opening refused the log as "stored twice".
     */
    @Test
    void appendsFoundInBothRocksDbAndTheSegmentFileAreIndexedAsTheyWereWritten() throws Exception {
        RocksDbLogStore.Settings oneFile = new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20).withSegments(1024, 4096, 1 << 20);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, oneFile)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            log.append(entries(1, 4, 2048), null);
            log.append(entries(5, 4, 2048), null);
            log.memoryOnlyWriter(batch -> { });
            log.append(entries(9, 4, 2048), null);
            log.writer(batch -> { });
            log.close();
        }
        for (int opening = 1; opening <= 2; opening++) {
            try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, oneFile);
                 LogStorage log = store.forGroup(GROUP)) {
                assertEquals(12, log.lastIndex(), "opening " + opening);
                assertEquals(entries(1, 12, 2048), log.entries(1, 13, NO_LIMIT));
            }
        }
    }

    /**
     * A crash in the middle of an append's payloads: that append never returned, so nothing of it
     * was acknowledged. The log ends before it (all of it: appends are atomic), and what came
     * before stays.
     */
    @Test
    void aCrashBeforeTheLastAppendsPayloadsAreDurableEndsTheLogBeforeIt() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), new HardState(1, "n1")),
                log -> log.append(entries(5, 4, 2048), null)); // the same file, after 1..4
        truncate(segmentFiles().get(0), SECOND + 2 * R + 100); // the crash kept entries 5, 6 and a bit of 7

        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(4, log.lastIndex());
            assertEquals(entries(1, 4, 2048), log.entries(1, 5, NO_LIMIT));
            assertEquals(new HardState(1, "n1"), log.hardState());
            log.append(entries(5, 2, 100), null);
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(6, log.lastIndex());
            List<LogEntry> expected = new ArrayList<>(entries(1, 4, 2048));
            expected.addAll(entries(5, 2, 100));
            assertEquals(expected, log.entries(1, 7, NO_LIMIT));
        }
    }

    /**
     * Records of a recycled file's former life are never taken for entries: each names the segment
     * it was written as, and a recycled file is renamed to a new sequence number.
     */
    @Test
    void recordsOfARecycledFilesFormerLifeAreNotReadAsItsOwn() throws Exception {
        Path dir = dataDir.resolve("segments");
        try (PayloadSegments segments = PayloadSegments.open(dir, GROUP, 1 << 20)) {
            segments.startSegment();
            segments.write(entries(1, 4, 2048), 4);
            assertEquals(4, segments.readRecords(0, 0).size());
        }
        Path groupDir = dir.resolve(PayloadSegments.directoryName(GROUP));
        Files.move(groupDir.resolve("0000000000000000.seg"), groupDir.resolve("0000000000000001.seg"));
        try (PayloadSegments segments = PayloadSegments.open(dir, GROUP, 1 << 20)) {
            assertEquals(List.of(), segments.readRecords(1, 0), "records written as segment 0, read as segment 1");
        }
    }

    /**
     * Starting a segment file moves the mark to it; the file before is released only after that,
     * even when nothing references it any more. Released first (found by the crash test), a
     * crash in between left the mark naming a file no longer there, and the group refused to open.
     * Here the mark's move fails, as a crash there would leave it.
     */
    @Test
    void aCrashAsANewSegmentStartsLeavesTheFileTheMarkNames() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            log.append(entries(1, 4, 2048), null);
            log.append(entries(5, 4, 2048), null); // the first file full
            log.compact(8, 1);                     // nothing references it now; the mark names it
            log.writer(batch -> {
                throw new org.rocksdb.RocksDBException("injected: the process died here");
            });
            assertThrows(StorageException.class, () -> log.append(entries(9, 4, 2048), null)); // a second file
            log.close();
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(9, log.firstIndex());
            assertEquals(8, log.lastIndex());
            log.append(entries(9, 4, 2048), null);
            assertEquals(entries(9, 4, 2048), log.entries(9, 13, NO_LIMIT));
        }
    }

    /** A segment the mark names was synced into its directory before the mark: missing, it is damage. */
    @Test
    void aMissingSegmentFileNamedByTheMarkIsReported() throws Exception {
        writeAndCrash(log -> {
            log.append(entries(1, 4, 2048), null);
            log.append(entries(5, 4, 2048), null); // fills the first file
        }, log -> log.append(entries(9, 4, 2048), null)); // in a second file, which the mark names
        Files.delete(segmentFiles().get(1));
        assertGroupRefused("is missing");
    }

    /** Once an append is indexed durably, damage found later is damage. */
    @Test
    void damageToAnAppendThatFinishedIsReported() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            log.append(entries(1, 4, 2048), null); // indexed durably when the storage closes
        }
        truncate(segmentFiles().get(0), 2 * R + 100);
        assertGroupRefused("group g1, entry 3: its payload segment");
    }

    /** Opening after a crash finds the last append whole in the file and indexes it: damage found later is damage. */
    @Test
    void damageToAnAppendFoundWholeAfterACrashIsReportedLater() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), null), log -> log.append(entries(5, 4, 2048), null));
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(8, log.lastIndex());
        }
        truncate(segmentFiles().get(0), SECOND + 2 * R + 100);
        assertGroupRefused("group g1, entry 7: its payload segment");
    }

    /**
     * The group's next synced write indexes durably what the memtable alone held, and moves the
     * mark past it (a kill -9 right after it is copied here): damage to those entries is damage.
     */
    @Test
    void theNextSyncedWriteIndexesTheEntriesDurably() throws Exception {
        Path crashed = dataDir.resolveSibling(dataDir.getFileName() + "-crashed");
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            log.append(entries(1, 4, 2048), null);
            log.append(List.of(), new HardState(2, "n2"));
            copyAsAKillLeavesIt(dataDir, crashed);
        }
        try {
            truncate(segmentFiles(crashed).get(0), 2 * R + 100);
            try (RocksDbLogStore store = RocksDbLogStore.open(crashed, SETTINGS)) {
                StorageException e = assertThrows(StorageException.class, () -> store.forGroup(GROUP));
                assertTrue(e.getMessage().contains("group g1, entry 3: its payload segment"), e.getMessage());
            }
        } finally {
            Database.deleteRecursively(crashed);
        }
    }

    /**
     * References that reached RocksDB (here: the memtable, flushed when the store closed) are
     * checked as such: damage to their payloads is reported, crash or not.
     */
    @Test
    void damageToAnEarlierAppendIsReportedAfterACrash() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), null),
                log -> log.append(entries(5, 4, 2048), null));
        truncate(segmentFiles().get(0), 3 * R); // entries 4..8: the second append and one before it
        assertGroupRefused("group g1, entry 4: its payload segment");
    }

    /**
     * An append that replaces entries or carries a hard state could not be found again from the
     * file, so its references go to RocksDB in a synced batch: damage to its payloads is damage,
     * crash or not.
     */
    @Test
    void anAppendCarryingAHardStateIsNeverCut() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), null),
                log -> log.append(entries(5, 4, 2048), new HardState(2, "n2")));
        truncate(segmentFiles().get(0), SECOND + 2 * R + 100);
        assertGroupRefused("group g1, entry 7: its payload segment");
    }

    @Test
    void anAppendReplacingEntriesIsNeverCut() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), null),
                log -> log.append(entries(3, 4, 2048), null)); // replaces 3..4
        truncate(segmentFiles().get(0), SECOND + 2 * R + 100);
        assertGroupRefused("group g1, entry 5: its payload segment");
    }

    /** A record of a segment write (format 4 and 5) that does not end the log cuts nothing. */
    @Test
    void aRecordOfASegmentWriteThatDoesNotEndTheLogCutsNothing() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), null), log -> log.append(entries(5, 1, 100), null));
        try (RawRocks raw = new RawRocks(dataDir.resolve(Database.LOG_DIR))) {
            raw.put(Codec.META_CF, Codec.segmentWriteKey(PREFIX), Codec.encodeSegmentWrite(
                    new Codec.SegmentWrite(1, 4, 0, 0, 4 * R)));
        }
        truncate(segmentFiles().get(0), 3 * R);
        assertGroupRefused("group g1, entry 4: its payload segment");
    }

    /**
     * The segment the mark names that cannot be synced at opening refuses the group: its records
     * may hold acknowledged entries, and they must be on disk before the log says it holds them.
     * (Here the file's name holds a directory, which cannot be opened for writing.)
     */
    @Test
    void aMarkedSegmentThatCannotBeSyncedAtOpeningRefusesTheGroup() throws Exception {
        writeAndCrash(log -> {
            log.append(entries(1, 4, 2048), null);
            log.append(entries(5, 4, 2048), null); // fills the first file
        }, log -> log.append(entries(9, 4, 2048), null)); // alone in the second
        Path second = segmentFiles().get(1);
        Files.delete(second);
        Files.createDirectory(second);
        assertGroupRefused("cannot sync its newest payload segment");
    }

    /**
     * The records found after a process crash may be in the page cache only (the process died
     * before their sync): opening syncs them before keeping them. Counted with Linux's
     * cachestat(2), through python3; skipped where either is missing.
     */
    @Test
    void openingSyncsThePayloadsOfTheLastAppendBeforeKeepingThem() throws Exception {
        writeAndCrash(log -> log.append(entries(1, 4, 2048), null), log -> log.append(entries(5, 4, 2048), null));
        Path file = segmentFiles().get(0);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.allocate(4 * R); // the same bytes again, not synced
            channel.read(bytes, SECOND);
            channel.write(bytes.flip(), SECOND);
        }
        long dirty = dirtyPages(file);
        org.junit.jupiter.api.Assumptions.assumeTrue(dirty > 0, "cachestat(2) unavailable, or the pages were written back");

        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            assertEquals(8, log.lastIndex());
            assertEquals(0, dirtyPages(file), "entries 5..8 are kept, so their payloads must be on disk");
        }
    }

    /**
     * A payload sync that fails: the append fails, and the mark moves past its records, although
     * they read back whole from the page cache (Linux reports an fsync error once, so no later sync
     * can vouch for them).
     */
    @Test
    void anAppendWhosePayloadSyncFailedIsTakenBack() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            log.append(entries(1, 4, 100), new HardState(1, "n1"));
            log.afterPayloadSync(() -> {
                throw new IOException("fdatasync: Input/output error");
            });
            StorageException e = assertThrows(StorageException.class, () -> log.append(entries(5, 4, 2048), null));
            assertTrue(e.getMessage().contains("append could not be made durable"), e.getMessage());
            assertThrows(StorageException.class, log::lastIndex);
            log.close();

            try (LogStorage reopened = store.forGroup(GROUP)) {
                assertEquals(4, reopened.lastIndex());
                assertEquals(entries(1, 4, 100), reopened.entries(1, 5, NO_LIMIT));
            }
        }
    }

    /**
     * A full disk fails the payloads' write: the error names the segment file, so the operator
     * knows which disk filled (a full-disk drill of the KV node logged only "append could not be
     * made durable: java.io.IOException: No space left on device").
     */
    @Test
    void aFullDiskFailingThePayloadsNamesTheirSegmentFile() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            log.append(entries(1, 4, 100), null);
            log.afterPayloadSync(() -> {
                throw new IOException("No space left on device");
            });
            StorageException e = assertThrows(StorageException.class, () -> log.append(entries(5, 4, 2048), null));
            Path segment = segmentFiles().get(0);
            assertEquals("group " + GROUP + ": append could not be made durable: writing and syncing payloads to "
                    + segment + " failed: No space left on device", e.getMessage());
            log.close();
        }
    }

    /** An Error on the payloads' thread (out of direct memory) poisons the storage too. */
    @Test
    void anErrorWritingPayloadsStopsTheStorage() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            log.append(entries(1, 4, 100), null);
            log.afterPayloadSync(() -> {
                throw new OutOfMemoryError("Cannot reserve direct buffer memory");
            });
            assertThrows(OutOfMemoryError.class, () -> log.append(entries(5, 4, 2048), null));
            assertThrows(StorageException.class, log::lastIndex);
            log.close();
        }
    }

    @Test
    void damagedSegmentReferenceIsReported() throws Exception {
        writeSegmentedLog();
        try (RawRocks raw = new RawRocks(dataDir.resolve(Database.LOG_DIR))) {
            byte[] value = raw.entryValue(GROUP, 3);
            value[20] ^= 0x01; // the offset
            raw.replaceInChunk(GROUP, 1, 3, value); // entries 1..4 were appended together: one chunk
        }
        assertGroupRefused("group g1, entry 3: checksum mismatch (damaged");
    }

    @Test
    void unexpectedFileAmongTheSegmentsIsReportedAndLeftAlone() throws Exception {
        writeSegmentedLog();
        Path stray = segmentFiles().get(0).resolveSibling("notes.txt");
        Files.writeString(stray, "not a segment");
        assertGroupRefused("unexpected file");
        assertTrue(Files.exists(stray));
    }

    @Test
    void failedSegmentWriteStopsTheStorageWithoutLosingEarlierWrites() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            LogStorage log = store.forGroup(GROUP);
            log.append(entries(1, 2, 100), new HardState(1, "n1"));
            // Where the group's segment directory would go, a file: the first segment cannot be created.
            Path groupDir = dataDir.resolve(Database.SEGMENTS_DIR).resolve(PayloadSegments.directoryName(GROUP));
            Files.createDirectories(groupDir.getParent());
            Files.writeString(groupDir, "in the way");

            StorageException e = assertThrows(StorageException.class, () -> log.append(entries(3, 4, 2048), null));
            assertTrue(e.getMessage().contains("append could not be made durable"), e.getMessage());
            assertThrows(StorageException.class, log::lastIndex);
            log.close();
            Files.delete(groupDir);

            try (LogStorage reopened = store.forGroup(GROUP)) {
                assertEquals(entries(1, 2, 100), reopened.entries(1, 3, NO_LIMIT));
                assertEquals(2, reopened.lastIndex());
            }
        }
    }

    /**
     * A FileChannel closes itself when its reading thread is interrupted. The writer's channel used
     * to be shared with readers, so one interrupted read on an event loop failed the next append
     * and stopped the node (found in review).
     */
    @Test
    void anInterruptedReadFailsAloneAndNeitherWritesNorLaterReadsNotice() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            LogStorage log = store.forGroup(GROUP);
            log.append(entries(1, 4, 2048), null); // to a segment; no entry cache
            Thread.currentThread().interrupt();
            try {
                StorageException e = assertThrows(StorageException.class, () -> log.entries(1, 2, NO_LIMIT));
                assertTrue(e.getMessage().contains("was interrupted"), e.getMessage());
            } finally {
                Thread.interrupted();
            }
            log.append(entries(5, 4, 2048), null);
            assertEquals(entries(1, 8, 2048), log.entries(1, 9, NO_LIMIT));
            log.close();
        }
    }

    @Test
    void longGroupIdsGetAHashedDirectoryName() {
        String longId = "g".repeat(200);
        String name = PayloadSegments.directoryName(longId);
        assertTrue(name.startsWith("h-") && name.length() == 66, name);
        assertEquals("g-6731", PayloadSegments.directoryName(GROUP));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Entries 1..4 of 2 KiB each, all in the group's first segment file. */
    private void writeSegmentedLog() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup(GROUP)) {
            log.append(entries(1, 4, 2048), new HardState(1, "n1"));
        }
    }

    /**
     * Runs {@code earlier}, then {@code last} as if the process died right after {@code last}
     * returned: what {@code last} put in RocksDB's memtable only is lost (dropped), and closing
     * writes nothing (as a crash would not). What a crash during {@code last} leaves is then made
     * by damaging its payloads. (The memtable of {@code earlier} is flushed when the store closes.)
     */
    private void writeAndCrash(Consumer<RocksDbLogStorage> earlier, Consumer<RocksDbLogStorage> last) {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup(GROUP);
            earlier.accept(log);
            log.memoryOnlyWriter(batch -> { });
            last.accept(log);
            log.writer(batch -> { });
            log.close();
        }
    }

    /** Dirty page-cache pages of {@code file} by Linux's cachestat(2) (6.5+), or -1 if it cannot tell. */
    private static long dirtyPages(Path file) throws Exception {
        String script = String.join("\n",
                "import ctypes, os, sys",
                "libc = ctypes.CDLL(None, use_errno=True)",
                "class R(ctypes.Structure): _fields_ = [('off', ctypes.c_uint64), ('len', ctypes.c_uint64)]",
                "class S(ctypes.Structure): _fields_ = [(n, ctypes.c_uint64) for n in ('c', 'd', 'w', 'e', 'r')]",
                "fd = os.open(sys.argv[1], os.O_RDONLY); r = R(0, 0); s = S()",
                "sys.exit(1) if libc.syscall(451, fd, ctypes.byref(r), ctypes.byref(s), 0) != 0 else print(s.d)");
        try {
            Process process = new ProcessBuilder("python3", "-c", script, file.toString()).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            return process.waitFor() == 0 && out.matches("\\d+") ? Long.parseLong(out) : -1;
        } catch (IOException e) {
            return -1; // no python3
        }
    }

    /** What a kill -9 leaves of an open store: its files as they are now (the page cache survives). */
    private static void copyAsAKillLeavesIt(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path path : (Iterable<Path>) walk.sorted()::iterator) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else if (!path.getFileName().toString().equals("LOCK")) {
                    Files.copy(path, target);
                }
            }
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    /** How many files of the group's segment directory end in each of {@code suffixes}. */
    private List<Integer> files(String... suffixes) {
        List<Integer> counts = new ArrayList<>();
        for (String suffix : suffixes) {
            counts.add((int) segmentFiles().stream().filter(f -> f.toString().endsWith(suffix)).count());
        }
        return counts;
    }

    private List<Path> segmentFiles() {
        return segmentFiles(dataDir);
    }

    private static List<Path> segmentFiles(Path dataDir) {
        Path dir = dataDir.resolve(Database.SEGMENTS_DIR).resolve(PayloadSegments.directoryName(GROUP));
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * For entries 1..n: whether RocksDB holds a segment reference rather than the payload. Closes
     * {@code store} first, since only one process or handle may open the database.
     */
    private static List<Boolean> storedInSegment(RocksDbLogStore store, int n) throws Exception {
        store.close();
        List<Boolean> result = new ArrayList<>();
        try (RawRocks raw = new RawRocks(store.dataDirectory().resolve(Database.LOG_DIR))) {
            for (long index = 1; index <= n; index++) {
                byte[] value = raw.entryValue(GROUP, index);
                assertNotNull(value, "entry " + index);
                result.add(Codec.segmentRef(index, value, GROUP) != null);
            }
        }
        return result;
    }

    private void assertGroupRefused(String expected) {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            StorageException e = assertThrows(StorageException.class, () -> store.forGroup(GROUP));
            assertTrue(e.getMessage().contains(expected), () -> "expected \"" + expected + "\" in: " + e.getMessage());
        }
    }

    /** {@code count} entries from {@code first}, term 1, with distinct payloads of {@code bytes}. */
    private static List<LogEntry> entries(long first, int count, int bytes) {
        List<LogEntry> entries = new ArrayList<>(count);
        for (long index = first; index < first + count; index++) {
            entries.add(LogEntry.command(index, 1, payload(index, bytes)));
        }
        return entries;
    }

    /** Four entries from {@code first}: 3 KiB, 10 B, 3 KiB, empty (a no-op). */
    private static List<LogEntry> mixed(long first) {
        return List.of(LogEntry.command(first, 1, payload(first, 3072)),
                LogEntry.command(first + 1, 1, payload(first + 1, 10)),
                LogEntry.command(first + 2, 1, payload(first + 2, 3072)),
                new LogEntry(first + 3, 1, io.raft4j.message.EntryType.NOOP, Bytes.EMPTY));
    }

    private static Bytes payload(long index, int bytes) {
        byte[] data = new byte[bytes];
        new SplittableRandom(index).nextBytes(data);
        return Bytes.wrap(data);
    }
}

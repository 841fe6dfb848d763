package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Payloads written to segment files through the 1 MiB write buffer in pieces, and read back in
 * pieces of 256 KiB, at the sizes where a piece loop goes wrong: empty, one byte, either side of
 * 256 KiB and of 1 MiB, several MiB and not a multiple of either. The bytes are random, so a piece
 * written at the wrong offset, twice, or not at all shows (the memory tests write zeros, which
 * hide that). The file must hold the records back to back, each payload behind its header.
 */
class PayloadPieceBoundariesTest {
    private static final int KIB = 1 << 10;
    private static final int MIB = 1 << 20;
    private static final int[] SIZES = {0, 1, 256 * KIB - 1, 256 * KIB, 256 * KIB + 1, 512 * KIB, MIB - 1, MIB,
            MIB + 1, 2 * MIB, 3 * MIB + 7, 100};
    /** Uncached, so reads go to the files; every payload of 100+ bytes to a segment; no roll-over. */
    private static final RocksDbLogStore.Settings SETTINGS =
            new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20).withSegments(100, 100, 64L << 20);

    @TempDir
    Path dataDir;

    @Test
    void payloadsAtPieceBoundariesReadBackWholeOneAppendEach() throws IOException {
        assertAppendedReadBackAcrossReopening(entries(1), true);
    }

    @Test
    void payloadsAtPieceBoundariesReadBackWholeInOneAppend() throws IOException {
        assertAppendedReadBackAcrossReopening(entries(1), false);
    }

    /**
     * Appends {@code entries} (one append each, or all in one), reads them back whole, again after
     * reopening, and checks the segment file holds them back to back.
     */
    private void assertAppendedReadBackAcrossReopening(List<LogEntry> entries, boolean oneAppendEach)
            throws IOException {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup("g")) {
            if (oneAppendEach) {
                for (LogEntry entry : entries) {
                    log.append(List.of(entry), null);
                }
            } else {
                log.append(entries, null);
            }
            assertReadBack(entries, log);
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = store.forGroup("g")) {
            assertReadBack(entries, log);
        }
        // One append each: those of 100 bytes and more go to the file. All in one: all of them,
        // since an append that only adds stores every entry where it can be found again.
        assertSegmentHoldsBackToBack(entries.stream()
                .filter(entry -> !oneAppendEach || entry.data().length() >= 100).toList());
    }

    /** Straight to the segments, where an empty payload can go too (the storage keeps those inline). */
    @Test
    void payloadsAtPieceBoundariesIncludingEmptyOnesReadBackFromTheSegments() throws IOException {
        List<LogEntry> entries = entries(1);
        try (PayloadSegments segments = PayloadSegments.open(dataDir, "g", 64L << 20)) {
            segments.startSegment();
            List<Codec.SegmentRef> together = segments.write(entries, entries.size());
            List<Codec.SegmentRef> single = new ArrayList<>();
            for (LogEntry entry : entries) {
                single.addAll(segments.write(List.of(entry), entry.index()));
            }
            for (int i = 0; i < entries.size(); i++) {
                byte[] want = entries.get(i).data().toByteArray();
                assertArrayEquals(want, segments.read(i + 1, together.get(i)), "in one write: entry " + (i + 1));
                assertArrayEquals(want, segments.read(i + 1, single.get(i)), "alone: entry " + (i + 1));
            }
            List<PayloadSegments.StoredRecord> records = segments.readRecords(segments.newest(), 0);
            assertEquals(2 * entries.size(), records.size(), "records read back from the file");
            for (int i = 0; i < records.size(); i++) {
                LogEntry entry = entries.get(i % entries.size());
                assertEquals(entry.index(), records.get(i).record().index());
                assertArrayEquals(entry.data().toByteArray(), records.get(i).data(), "record " + i);
            }
        }
    }

    /**
     * With segments off, every payload is stored in RocksDB; values over the 64 KiB direct buffer
     * go through a heap array, alone or in a chunk of entries.
     */
    @Test
    void payloadsKeptInlineReadBackWholeThroughEitherBuffer() {
        RocksDbLogStore.Settings inline = new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20)
                .withSegments(Integer.MAX_VALUE, Long.MAX_VALUE, 64L << 20);
        List<LogEntry> entries = new ArrayList<>(entries(1));
        SplittableRandom random = new SplittableRandom(7);
        for (int size : new int[] {64 * KIB - 40, 64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 10, 20, 30 * KIB, 40 * KIB}) {
            byte[] data = new byte[size];
            random.nextBytes(data);
            entries.add(LogEntry.command(entries.size() + 1, 1, Bytes.wrap(data)));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, inline);
             LogStorage log = store.forGroup("g")) {
            log.append(entries.subList(0, 5), null);
            for (int from = 5; from < entries.size(); from += 3) {
                log.append(entries.subList(from, Math.min(entries.size(), from + 3)), null);
            }
            assertReadBack(entries, log);
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, inline);
             LogStorage log = store.forGroup("g")) {
            assertReadBack(entries, log);
        }
    }

    /** The sizes in order, then again shifted by one place, so every size also follows every neighbour. */
    private static List<LogEntry> entries(long firstIndex) {
        SplittableRandom random = new SplittableRandom(92);
        List<LogEntry> entries = new ArrayList<>();
        long index = firstIndex;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < SIZES.length; i++) {
                byte[] data = new byte[SIZES[(i + round) % SIZES.length]];
                random.nextBytes(data);
                entries.add(LogEntry.command(index++, 1, Bytes.wrap(data)));
            }
        }
        return entries;
    }

    private static void assertReadBack(List<LogEntry> written, LogStorage log) {
        long first = written.get(0).index();
        for (LogEntry entry : written) {
            List<LogEntry> read = log.entries(entry.index(), entry.index() + 1, Long.MAX_VALUE);
            assertEquals(1, read.size(), "entry " + entry.index());
            assertArrayEquals(entry.data().toByteArray(), read.get(0).data().toByteArray(),
                    "payload of entry " + entry.index() + " (" + entry.data().length() + " bytes)");
        }
        assertEquals(written, log.entries(first, first + written.size(), Long.MAX_VALUE));
    }

    /**
     * The one segment file holds the records of {@code inFile} back to back from its start, each
     * append's from the 4 KiB boundary after the one before, and nothing else.
     */
    private void assertSegmentHoldsBackToBack(List<LogEntry> inFile) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dataDir.resolve(Database.SEGMENTS_DIR))) {
            files = walk.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
        ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(files.get(0)));
        CRC32C crc = new CRC32C();
        long position = 0;
        for (LogEntry entry : inFile) {
            SegmentRecord header = SegmentRecord.parse(file.slice((int) position, SegmentRecord.HEADER_BYTES), crc);
            assertEquals(entry.index(), header.index(), "the next record");
            byte[] payload = new byte[header.length()];
            file.get((int) position + SegmentRecord.HEADER_BYTES, payload);
            assertArrayEquals(entry.data().toByteArray(), payload, "payload of entry " + entry.index());
            position += SegmentRecord.HEADER_BYTES + header.length();
            if (header.index() == header.appendLast()) {
                position = PayloadSegments.aligned(position); // each append starts on a 4 KiB boundary
            }
        }
        assertTrue(position >= file.limit(), "bytes after the last record in " + files.get(0).getFileName());
    }
}

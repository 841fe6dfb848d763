package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged or foreign data on disk: each case gives a {@link StorageException} whose message says
 * what is wrong, and a refused directory is left byte for byte as it was.
 */
class RocksDbBadInputTest {
    private static final String GROUP = "g1";
    private static final byte[] PREFIX = Codec.groupPrefix(GROUP);
    /** What a damaged log's message must tell the operator: a copy or an empty directory under the same id is unsafe. */
    private static final String REPLACE_ADVICE = "add a new node under a new id with an empty directory";

    @TempDir
    Path dataDir;

    // ---- damaged values ------------------------------------------------------------------------

    @Test
    void truncatedEntryValueIsReported() throws Exception {
        writeLog(5);
        changeStored(3, value -> Arrays.copyOf(value, 9));
        assertGroupRefused("group g1, entry 3: value truncated to 9 bytes");
    }

    @Test
    void damagedEntryAdvisesReplacingTheNodeUnderANewId() throws Exception {
        writeLog(5);
        changeStored(3, value -> Arrays.copyOf(value, 9));
        assertGroupRefused(REPLACE_ADVICE);
    }

    @Test
    void damagedRocksDbFilesAdviseReplacingTheNodeUnderANewId() {
        Status status = new Status(Status.Code.Corruption, Status.SubCode.None, "block checksum mismatch");
        String text = Database.describe(new RocksDBException("block checksum mismatch", status));
        assertTrue(text.contains(REPLACE_ADVICE), () -> "expected \"" + REPLACE_ADVICE + "\" in: " + text);
        assertTrue(text.contains("nothing was changed"), text);
    }

    /**
     * Found running the operations runbook: RocksDB's message for an .sst file truncated to nothing
     * holds a line break ("... Expected 1067, actual size 0\n  The file .../MANIFEST-000022 may be
     * corrupted."), which split the KV node's one-line refusal in two.
     */
    @Test
    void aRocksDbMessageOfSeveralLinesIsDescribedOnOne() {
        String message = "Sst file size mismatch: log/000008.sst. Expected 1067, actual size 0\n"
                + "  The file log/MANIFEST-000022 may be corrupted.";
        Status status = new Status(Status.Code.Corruption, Status.SubCode.None, message);
        String text = Database.describe(new RocksDBException(message, status));
        assertFalse(text.contains("\n") || text.contains("\r"), text);
        assertTrue(text.startsWith("Corruption: Sst file size mismatch: log/000008.sst. Expected 1067, actual size 0"
                + " The file log/MANIFEST-000022 may be corrupted."), text);
    }

    @Test
    void entryWithFlippedPayloadBitIsReported() throws Exception {
        writeLog(5);
        changeStored(4, value -> flip(value, value.length - 1, 0x10));
        assertGroupRefused("group g1, entry 4: checksum mismatch");
    }

    @Test
    void entryStoredUnderAnotherIndexIsReported() throws Exception {
        writeLog(5);
        try (RawRocks raw = raw()) {
            byte[] second = raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 2));
            raw.put(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 3), second);
        }
        assertGroupRefused("group g1, entry 3: checksum mismatch");
    }

    @Test
    void chunkWithFlippedBitIsReported() throws Exception {
        writeChunkedLog(5);
        changeStored(1, value -> flip(value, value.length / 2, 0x04));
        assertGroupRefused("group g1, chunk at entry 1: checksum mismatch");
    }

    @Test
    void truncatedChunkIsReported() throws Exception {
        writeChunkedLog(5);
        changeStored(1, value -> Arrays.copyOf(value, 7));
        assertGroupRefused("group g1, chunk at entry 1: value truncated to 7 bytes");
    }

    @Test
    void chunkStoredUnderAnotherIndexIsReported() throws Exception {
        writeChunkedLog(5);
        try (RawRocks raw = raw()) {
            byte[] value = raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1));
            raw.delete(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 1));
            raw.put(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 2), value);
        }
        assertGroupRefused("group g1, chunk at entry 2: checksum mismatch");
    }

    @Test
    void damagedEntryInsideAnIntactChunkIsReported() throws Exception {
        writeChunkedLog(5);
        try (RawRocks raw = raw()) {
            byte[] value = raw.entryValue(GROUP, 3);
            raw.replaceInChunk(GROUP, 1, 3, flip(value, value.length - 1, 0x10));
        }
        assertGroupRefused("group g1, entry 3: checksum mismatch");
    }

    @Test
    void corruptedHardStateIsReported() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            byte[] value = raw.get(Codec.META_CF, Codec.hardStateKey(PREFIX));
            value[3] ^= 1;
            raw.put(Codec.META_CF, Codec.hardStateKey(PREFIX), value);
        }
        assertGroupRefused("group g1, hard state: checksum mismatch");
    }

    @Test
    void corruptedOwnerIsReported() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.put(Codec.META_CF, Codec.ownerKey(PREFIX), Codec.encodeOwner(new LogOwner(GROUP, "n1")));
        }
        try (RawRocks raw = raw()) {
            byte[] value = raw.get(Codec.META_CF, Codec.ownerKey(PREFIX));
            value[value.length - 6] ^= 1;
            raw.put(Codec.META_CF, Codec.ownerKey(PREFIX), value);
        }
        assertGroupRefused("group g1, owner: checksum mismatch");
    }

    @Test
    void truncatedCompactionPointIsReported() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.put(Codec.META_CF, Codec.compactionKey(PREFIX), new byte[]{1, 0, 0});
        }
        assertGroupRefused("group g1, compaction point: value of 3 bytes");
    }

    @Test
    void gapInTheIndexesIsReportedAndOtherGroupsStillOpen() throws Exception {
        writeLog(6);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage other = store.forGroup("g2")) {
            other.append(List.of(entry(1, 1)), null);
        }
        try (RawRocks raw = raw()) {
            raw.delete(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 3));
            raw.delete(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 4));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            StorageException e = assertThrows(StorageException.class, () -> store.forGroup(GROUP));
            assertContains(e, "group g1, entries: gap: 3..4 are missing but 5 is present");
            try (LogStorage other = store.forGroup("g2")) {
                assertEquals(1, other.lastIndex());
            }
        }
    }

    @Test
    void entryLeftBelowTheCompactionPointIsReported() throws Exception {
        writeLog(6);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage log = store.forGroup(GROUP)) {
            log.compact(4, 1);
        }
        try (RawRocks raw = raw()) {
            raw.put(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 2), encode(entry(2, 1)));
        }
        assertGroupRefused("group g1, entry 2: still present below the compaction point 4");
    }

    @Test
    void damagedTableFileIsReported() throws Exception {
        writeLog(200);
        try (RawRocks raw = raw()) {
            raw.flush();
        }
        Path table;
        try (Stream<Path> files = Files.list(dataDir.resolve("log"))) {
            table = files.filter(p -> p.toString().endsWith(".sst"))
                    .max(Comparator.comparingLong(RocksDbBadInputTest::size)).orElseThrow();
        }
        flipByteAt(table, size(table) / 3);
        StorageException e = assertThrows(StorageException.class, () -> {
            try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
                store.forGroup(GROUP).close();
            }
        });
        assertContains(e, "orrupt");
    }

    /**
     * A WAL damaged before its tail holds writes that were acknowledged: recovery must refuse it
     * rather than silently stop at the damage (what RocksDB's default point-in-time mode would do).
     */
    @Test
    void walDamagedBeforeItsTailIsRefusedNotTruncated() throws Exception {
        Path crashImage = dataDir.resolve("image");
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir.resolve("live"));
             LogStorage log = store.forGroup(GROUP)) {
            for (int i = 1; i <= 50; i++) {
                log.append(List.of(LogEntry.command(i, 1, Bytes.wrap(new byte[500]))), null);
            }
            // Copy the files of the running store: what a crash right now would leave on disk.
            copyTree(dataDir.resolve("live"), crashImage);
        }
        Path copy = dataDir.resolve("image-copy");
        copyTree(crashImage, copy);
        try (RocksDbLogStore store = RocksDbLogStore.open(copy); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(50, log.lastIndex(), "an undamaged crash image recovers every acknowledged write");
        }

        Path wal;
        try (Stream<Path> files = Files.list(crashImage.resolve("log"))) {
            wal = files.filter(p -> p.toString().endsWith(".log"))
                    .max(Comparator.comparingLong(RocksDbBadInputTest::size)).orElseThrow();
        }
        assertTrue(size(wal) > 20_000, "the WAL holds the writes: " + size(wal));
        flipByteAt(wal, size(wal) / 3);
        StorageException e = assertThrows(StorageException.class, () -> RocksDbLogStore.open(crashImage).close());
        assertContains(e, "orruption");
    }

    /**
     * A compaction is visible to readers before it is written; when building its write fails (here
     * the read of a damaged chunk), memory and disk disagree, so the storage must refuse every later
     * call, as after a failed write. It went on, and a later truncating append deleted entries the
     * durable compaction point still needed (found in review).
     */
    @Test
    void aCompactionThatCannotBeBuiltPoisonsTheStorage() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20))) {
            LogStorage log = store.forGroup(GROUP);
            List<LogEntry> batch = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {
                batch.add(entry(i, 1));
            }
            log.append(batch, null); // one chunk, under the key of entry 1
            byte[] key = Codec.entryKey(PREFIX, 1);
            byte[] good = store.database.db.get(store.database.entries, key);
            byte[] bad = good.clone();
            bad[bad.length - 1] ^= 1;
            store.database.db.put(store.database.entries, key, bad);
            assertThrows(StorageException.class, () -> log.compact(5, 1));
            store.database.db.put(store.database.entries, key, good); // the damage was transient

            StorageException e = assertThrows(StorageException.class, log::firstIndex);
            assertContains(e, "compact could not be made durable");
            log.close();
            try (LogStorage reopened = store.forGroup(GROUP)) {
                assertEquals(1, reopened.firstIndex(), "the compaction never reached the disk");
                assertEquals(batch, reopened.entries(1, 11, Long.MAX_VALUE));
            }
        }
    }

    // ---- directories that are not (or not yet) ours --------------------------------------------

    @Test
    void foreignRocksDbIsRefusedAndLeftUntouched() throws Exception {
        try (RawRocks raw = new RawRocks(dataDir.resolve("log"), "users")) {
            raw.put("users", bytes("alice"), bytes("admin"));
        }
        assertRefusedUntouched("written by something other than raft4j (column families [default, users])");
    }

    @Test
    void dataDirectoryThatIsItselfARocksDbIsRefused() throws Exception {
        try (RawRocks raw = new RawRocks(dataDir)) {
            raw.put("default", bytes("k"), bytes("v"));
        }
        assertRefusedUntouched("is itself a RocksDB database of another application");
    }

    @Test
    void logDirectoryHoldingOtherFilesIsRefusedAndLeftUntouched() throws Exception {
        Files.createDirectories(dataDir.resolve("log"));
        Files.writeString(dataDir.resolve("log").resolve("notes.txt"), "my notes");
        assertRefusedUntouched("holds [notes.txt] but no RocksDB database");
    }

    @Test
    void aLogWhoseCurrentFileWasDeletedIsReportedDamagedNotForeign() throws Exception {
        writeLog(3);
        Files.delete(dataDir.resolve("log").resolve("CURRENT"));
        assertRefusedUntouched("it holds the files of a raft4j log ([");
        assertRefusedUntouched("but its CURRENT file, which names the MANIFEST to open, is missing: the log is damaged");
    }

    @Test
    void aForeignRocksDbWithoutCurrentIsReportedDamagedButNotAsOurs() throws Exception {
        try (RawRocks raw = new RawRocks(dataDir.resolve("log"), "users")) {
            raw.put("users", bytes("alice"), bytes("admin"));
        }
        Files.delete(dataDir.resolve("log").resolve("CURRENT"));
        assertRefusedUntouched("it holds the files of a RocksDB database ([");
    }

    @Test
    void missingColumnFamilyIsReported() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.drop(Codec.ENTRIES_CF);
        }
        assertRefusedUntouched("the column family raft4j.entries is missing (found [default, raft4j.meta])");
    }

    @Test
    void missingMetadataColumnFamilyIsReported() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.drop(Codec.META_CF);
        }
        assertRefusedUntouched("the column family raft4j.meta is missing");
    }

    @Test
    void missingFormatMarkerIsRefused() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.delete(Codec.META_CF, Codec.FORMAT_KEY);
        }
        assertRefusedUntouched("it has no raft4j format marker");
    }

    @Test
    void newerFormatVersionIsRefusedAndLeftUntouched() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.put(Codec.META_CF, Codec.FORMAT_KEY, Codec.formatValue(Codec.FORMAT_VERSION + 1));
        }
        assertRefusedUntouched("written by a newer raft4j (log format version " + (Codec.FORMAT_VERSION + 1)
                + "; this version reads up to " + Codec.FORMAT_VERSION + ")");
    }

    @Test
    void unexpectedColumnFamilyIsRefused() throws Exception {
        writeLog(3);
        try (RawRocks raw = raw()) {
            raw.create("extra");
        }
        assertRefusedUntouched("unexpected column family extra");
    }

    /**
     * A log/ linked to another disk that is not mounted: creating a log there would replace the link
     * by an empty log, and the node would forget its term and vote (found in review).
     */
    @Test
    void danglingLogLinkIsRefusedAndKept() throws Exception {
        Path link = dataDir.resolve(Database.LOG_DIR);
        Files.createSymbolicLink(link, dataDir.resolveSibling(dataDir.getFileName() + "-unmounted"));
        StorageException e = assertThrows(StorageException.class, () -> RocksDbLogStore.open(dataDir).close());
        assertContains(e, "does not exist (a disk not mounted?)");
        assertContains(e, "Nothing was changed");
        assertTrue(Files.isSymbolicLink(link), "the link is still there");
    }

    @Test
    void logLinkToAnEmptyDirectoryIsRefused() throws Exception {
        Path target = Files.createDirectories(dataDir.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(dataDir.resolve(Database.LOG_DIR), target);
        StorageException e = assertThrows(StorageException.class, () -> RocksDbLogStore.open(dataDir).close());
        assertContains(e, "which is empty; a new log is never created through a link");
        assertTrue(Files.isSymbolicLink(link));
    }

    /** Payload segments whose log is gone: the node existed, so starting it empty is refused (review). */
    @Test
    void segmentFilesWithoutALogAreRefusedAndLeftUntouched() throws Exception {
        RocksDbLogStore.Settings segmentsEarly = RocksDbLogStore.Settings.DEFAULT.withSegments(1024, 4096, 1 << 20);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, segmentsEarly); LogStorage log = store.forGroup(GROUP)) {
            List<LogEntry> large = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                large.add(LogEntry.command(i, 1, Bytes.wrap(new byte[2048])));
            }
            log.append(large, new HardState(7, "n2"));
        }
        try (Stream<Path> files = Files.walk(dataDir.resolve(Database.SEGMENTS_DIR))) {
            assertTrue(files.anyMatch(Files::isRegularFile), "the payloads went to a segment file");
        }
        Database.deleteRecursively(dataDir.resolve(Database.LOG_DIR));
        Files.createDirectories(dataDir.resolve(Database.LOG_DIR));
        assertRefusedUntouched("holds payload segment files in log-segments/ but no log in log/");
    }

    /**
     * Found running the KV node on a data directory whose log-segments was a file: it opened, served,
     * and stopped at its first large write ("append could not be made durable: ... log-segments/g-...:
     * Not a directory", exit status 1). Refused at opening, for a new log and an existing one alike.
     */
    @Test
    void aFileWhereTheSegmentDirectoryGoesIsRefused() throws Exception {
        Files.writeString(dataDir.resolve(Database.SEGMENTS_DIR), "not a directory");
        assertRefusedUntouched(dataDir.resolve(Database.SEGMENTS_DIR) + " is a file, not the directory of payload segment files");
        Files.delete(dataDir.resolve(Database.SEGMENTS_DIR));
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage log = store.forGroup(GROUP)) {
            log.append(List.of(entry(1, 1)), null);
        }
        Files.writeString(dataDir.resolve(Database.SEGMENTS_DIR), "not a directory");
        assertRefusedUntouched(dataDir.resolve(Database.SEGMENTS_DIR) + " is a file, not the directory of payload segment files");
    }

    @Test
    void interruptedCreationIsRedoneFromScratch() throws Exception {
        Path stale = dataDir.resolve(Database.INIT_DIR);
        Files.createDirectories(stale);
        Files.writeString(stale.resolve("000003.log"), "half-written database");

        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage log = store.forGroup(GROUP)) {
            log.append(List.of(entry(1, 1)), null);
        }

        assertTrue(Files.notExists(stale));
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage log = store.forGroup(GROUP)) {
            assertEquals(1, log.lastIndex());
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** A log of entries 1..n (term 1) and a hard state in group g1, closed. */
    /** A log of {@code n} entries appended one at a time: each under its own key. */
    private void writeLog(int n) {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage log = store.forGroup(GROUP)) {
            log.append(List.of(), new HardState(1, "n1"));
            for (int i = 1; i <= n; i++) {
                log.append(List.of(entry(i, 1)), null);
            }
        }
    }

    /** A log of {@code n} entries appended together: one chunk under the key of entry 1. */
    private void writeChunkedLog(int n) {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir); LogStorage log = store.forGroup(GROUP)) {
            List<LogEntry> entries = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                entries.add(entry(i, 1));
            }
            log.append(entries, new HardState(1, "n1"));
        }
        try (RawRocks raw = raw()) {
            assertNull(raw.get(Codec.ENTRIES_CF, Codec.entryKey(PREFIX, 2)), "entry 2 is inside the chunk at 1");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Replaces the value stored under the key of entry {@code index} with {@code change} of it. */
    private void changeStored(long index, UnaryOperator<byte[]> change) throws Exception {
        try (RawRocks raw = raw()) {
            byte[] key = Codec.entryKey(PREFIX, index);
            raw.put(Codec.ENTRIES_CF, key, change.apply(raw.get(Codec.ENTRIES_CF, key)));
        }
    }

    private static byte[] flip(byte[] value, int at, int bits) {
        value[at] ^= (byte) bits;
        return value;
    }

    private RawRocks raw() throws Exception {
        return new RawRocks(dataDir.resolve("log"));
    }

    private void assertGroupRefused(String expected) {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            StorageException e = assertThrows(StorageException.class, () -> store.forGroup(GROUP));
            assertContains(e, expected);
            assertContains(e, "Nothing was changed");
        }
    }

    private void assertRefusedUntouched(String expected) {
        Map<String, String> before = RawRocks.contents(dataDir);
        Executable open = () -> RocksDbLogStore.open(dataDir).close();
        StorageException e = assertThrows(StorageException.class, open);
        assertContains(e, expected);
        assertContains(e, "Nothing was changed");
        assertEquals(before, RawRocks.contents(dataDir), "the refused directory was modified");
    }

    private static void assertContains(Throwable e, String expected) {
        assertTrue(e.getMessage().contains(expected), () -> "expected \"" + expected + "\" in: " + e.getMessage());
    }

    private static LogEntry entry(long index, long term) {
        return LogEntry.command(index, term, Bytes.ofUtf8("entry " + index));
    }

    private static byte[] encode(LogEntry entry) {
        ByteBuffer out = ByteBuffer.allocate(Codec.entryValueBytes(entry));
        Codec.encodeEntry(entry, out, new java.util.zip.CRC32C());
        return out.array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void flipByteAt(Path file, long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.flip();
            one.put(0, (byte) (one.get(0) ^ 0x5A));
            channel.write(one, position);
            channel.force(true);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, target);
                }
            }
        }
    }
}

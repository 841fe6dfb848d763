package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RocksDbLogStore#deleteGroup}: everything of one group goes (keys in both column families,
 * segment files), the other groups of the store run on untouched, an open group is refused, and a
 * deletion stopped half-way (as by a crash) is finished by the next opening, never leaving part of
 * a log that looks whole.
 */
class GroupDeletionTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;
    /** Payloads of 64 bytes and more go to segment files of 4 KiB when a write carries 256 bytes of them. */
    private static final RocksDbLogStore.Settings SEGMENTING =
            new RocksDbLogStore.Settings(1 << 10, 1 << 20, 1 << 20).withSegments(64, 256, 4096);
    /** Every payload in RocksDB. */
    private static final RocksDbLogStore.Settings INLINE =
            new RocksDbLogStore.Settings(1 << 10, 1 << 20, 1 << 20).withSegments(64, Long.MAX_VALUE, 4096);
    private static final List<String> GROUPS = List.of("a", "b", "bb", "c");
    private static final String TARGET = "b";

    @TempDir
    Path dataDir;

    @Test
    void deletesEverythingOfOneGroupWhileTheOthersKeepWriting() throws Exception {
        fill();
        Map<String, String> before = contents();
        assertTrue(segmentFiles(TARGET) > 1, "the target has several segment files: " + segmentFiles(TARGET));
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING);
             LogStorage a = store.forGroup("a");
             LogStorage c = store.forGroup("c")) {
            assertTrue(keysOf(store, TARGET) > 0);
            ExecutorService writers = Executors.newFixedThreadPool(2);
            CountDownLatch deleted = new CountDownLatch(1);
            try {
                // Each writes batches until the deletion is over, then one more: writes overlap it.
                Future<Long> writesA = writers.submit(() -> writeUntil(a, "a", deleted));
                Future<Long> writesC = writers.submit(() -> writeUntil(c, "c", deleted));
                store.deleteGroup(TARGET);
                deleted.countDown();
                long lastA = writesA.get(30, TimeUnit.SECONDS);
                long lastC = writesC.get(30, TimeUnit.SECONDS);
                assertEquals(lastA, a.lastIndex());
                assertEquals(lastC, c.lastIndex());
            } finally {
                deleted.countDown();
                writers.shutdownNow();
            }
            assertEquals(0, keysOf(store, TARGET), "no key of the group is left in either column family");
            assertFalse(Files.exists(segmentDirectory(TARGET)), "its segment directory is gone");
            assertNull(store.database.db.get(store.database.meta, Codec.deletionKey(Codec.groupPrefix(TARGET))),
                    "the record of the deletion is removed once it is complete");
        }
        Map<String, String> after = contents();
        assertEquals(empty(), after.get(TARGET), "the deleted id opens as a fresh, empty log");
        assertEquals(before.get("bb"), after.get("bb"), "a group whose id starts with the target's");
        for (String group : List.of("a", "c")) {
            assertTrue(after.get(group).startsWith("1.."), group);
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            for (String group : List.of("a", "c")) {
                try (LogStorage log = store.forGroup(group)) {
                    // What fill() wrote is still there, followed by what the writers added.
                    assertEquals(entries(group, 1, 30, 1), log.entries(1, 31, NO_LIMIT));
                    assertEquals(new HardState(1, group), log.hardState());
                }
            }
        }
    }

    @Test
    void theDeletedIdStartsAgainFromAnEmptyLog() {
        fill();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            store.deleteGroup(TARGET);
            try (LogStorage log = store.forGroup(TARGET)) {
                assertEquals(1, log.firstIndex());
                assertEquals(0, log.lastIndex());
                assertEquals(HardState.INITIAL, log.hardState());
                assertTrue(log.owner().isEmpty());
                assertEquals(0, ((RocksDbLogStorage) log).segmentFiles());
                // Written again, it is an ordinary log, with segment files of its own.
                log.append(entries(TARGET, 1, 12, 7), new HardState(7, "n3"));
                log.recordOwner(new LogOwner(TARGET, "n3"));
            }
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING);
             LogStorage log = store.forGroup(TARGET)) {
            assertEquals(entries(TARGET, 1, 12, 7), log.entries(1, 13, NO_LIMIT));
            assertEquals(new HardState(7, "n3"), log.hardState());
        }
    }

    @Test
    void refusedWhileTheGroupIsOpenAndAllowedOnceItIsClosed() {
        fill();
        Map<String, String> before = contents();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            LogStorage log = store.forGroup(TARGET);
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> store.deleteGroup(TARGET));
            assertEquals("the log storage of group b is open: close its node, then the storage, before deleting the"
                    + " group", refused.getMessage());
            assertEquals(30, log.lastIndex(), "the open log is left as it was");
            log.append(entries(TARGET, 31, 31, 1), null);
            log.close();
            store.deleteGroup(TARGET);
        }
        assertEquals(empty(), contents().get(TARGET));
        assertThrows(IllegalArgumentException.class, () -> {
            try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
                store.deleteGroup("");
            }
        });
        RocksDbLogStore closed = RocksDbLogStore.open(dataDir, SEGMENTING);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.deleteGroup("a"));
        Map<String, String> after = contents();
        before.remove(TARGET);
        after.remove(TARGET);
        assertEquals(before, after);
    }

    @Test
    void theGroupCannotBeOpenedWhileItIsBeingDeletedAndTheStoreClosesAfterTheDeletion() throws Exception {
        fill();
        RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING);
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        store.afterDeletionStep = step -> {
            if (step.equals(GroupDeletion.KEYS_DELETED)) {
                paused.countDown();
                awaitUninterruptibly(resume);
            }
        };
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<?> deletion = executor.submit(() -> store.deleteGroup(TARGET));
            assertTrue(paused.await(30, TimeUnit.SECONDS));
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> store.forGroup(TARGET));
            assertEquals("group b is being deleted", refused.getMessage());
            assertThrows(IllegalStateException.class, () -> store.deleteGroup(TARGET));
            try (LogStorage other = store.forGroup("a")) {
                assertEquals(30, other.lastIndex());
            }
            resume.countDown();
            deletion.get(30, TimeUnit.SECONDS);
        } finally {
            resume.countDown();
            store.close();
            executor.shutdownNow();
        }
        assertFalse(Files.exists(segmentDirectory(TARGET)));
        assertEquals(empty(), contents().get(TARGET));
    }

    /**
     * Stopped after each step in turn (as by a crash: every step before is synced), the store is
     * closed and opened again: the opening finishes the deletion; no state in between is a log.
     */
    @Test
    void aDeletionStoppedAfterAnyStepIsFinishedByTheNextOpeningOfTheStore() throws Exception {
        for (String stopAfter : List.of(GroupDeletion.KEYS_DELETED, GroupDeletion.FILE_DELETED,
                GroupDeletion.FILES_DELETED)) {
            clear();
            fill();
            Map<String, String> before = contents();
            int files = segmentFiles(TARGET);
            try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
                store.afterDeletionStep = stopAt(stopAfter);
                assertThrows(Crash.class, () -> store.deleteGroup(TARGET), stopAfter);
                // What the crash left: no key of the group, the record, some or all segment files.
                assertEquals(0, keysOf(store, TARGET), stopAfter);
                assertNotNull(store.database.db.get(store.database.meta,
                        Codec.deletionKey(Codec.groupPrefix(TARGET))), stopAfter);
            }
            int left = segmentFiles(TARGET);
            assertEquals(switch (stopAfter) {
                case GroupDeletion.KEYS_DELETED -> files;
                case GroupDeletion.FILE_DELETED -> files - 1;
                default -> 0;
            }, left, stopAfter);

            try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
                assertFalse(Files.exists(segmentDirectory(TARGET)), stopAfter + ": the opening deleted the rest");
                assertNull(store.database.db.get(store.database.meta, Codec.deletionKey(Codec.groupPrefix(TARGET))));
            }
            Map<String, String> after = contents();
            assertEquals(empty(), after.get(TARGET), stopAfter);
            before.remove(TARGET);
            after.remove(TARGET);
            assertEquals(before, after, stopAfter + ": the other groups are as they were");
        }
    }

    /** Stopped by a failure in a running store, the deletion is finished by opening the group, or deleting it again. */
    @Test
    void aDeletionStoppedInARunningStoreIsFinishedByOpeningOrDeletingTheGroup() throws Exception {
        fill();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            store.afterDeletionStep = stopAt(GroupDeletion.KEYS_DELETED);
            assertThrows(Crash.class, () -> store.deleteGroup(TARGET));
            store.afterDeletionStep = step -> { };
            assertTrue(segmentFiles(TARGET) > 0);
            // Opened before the rest is deleted, the group would take the old files for its own
            // (and a later finish would delete the files of its new log).
            try (LogStorage log = store.forGroup(TARGET)) {
                assertFalse(Files.exists(segmentDirectory(TARGET)));
                assertEquals(0, log.lastIndex());
                log.append(entries(TARGET, 1, 12, 2), null);
            }
            assertNull(store.database.db.get(store.database.meta, Codec.deletionKey(Codec.groupPrefix(TARGET))));

            store.afterDeletionStep = stopAt(GroupDeletion.FILE_DELETED);
            assertThrows(Crash.class, () -> store.deleteGroup(TARGET));
            store.afterDeletionStep = step -> { };
            store.deleteGroup(TARGET);
            assertFalse(Files.exists(segmentDirectory(TARGET)));
        }
        assertEquals(empty(), contents().get(TARGET));
    }

    /**
     * A record of a deletion beside keys of the group cannot come from a crash (the keys go in
     * the batch that writes the record): a raft4j that does not know the record wrote the group
     * since. Finishing would delete the segment files its log references; the log is kept.
     */
    @Test
    void aRecordBesideALogWrittenSinceKeepsTheLog() throws Exception {
        fill();
        Map<String, String> before = contents();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            byte[] key = Codec.deletionKey(Codec.groupPrefix(TARGET));
            store.database.db.put(store.database.meta, key, Codec.encodeDeletion(key));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            assertNull(store.database.db.get(store.database.meta, Codec.deletionKey(Codec.groupPrefix(TARGET))));
        }
        assertEquals(before, contents());
    }

    @Test
    void theDiskSpaceGoesSegmentFilesAtOnceAndRocksDbsFilesByCompaction() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            try (LogStorage log = store.forGroup(TARGET)) {
                // Large payloads, compacted away: released files are kept for reuse (".free").
                for (int batch = 0; batch < 12; batch++) {
                    log.append(entries(TARGET, batch * 10L + 1, batch * 10L + 10, 1, 300), null);
                }
                log.compact(100, 1);
            }
            try (LogStorage log = store.forGroup("a")) {
                log.append(entries("a", 1, 10, 1), null);
            }
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, INLINE)) {
            try (LogStorage log = store.forGroup("inline")) {
                // 4 MiB of entries kept in RocksDB, flushed to its table files.
                for (int batch = 0; batch < 64; batch++) {
                    log.append(incompressible("inline", batch * 16L + 1, batch * 16L + 16), null);
                }
            }
            flush(store);
            long tablesBefore = liveTableBytes(store);
            assertTrue(tablesBefore > 4 << 20, "table files hold the entries: " + tablesBefore);
            List<String> files = filesIn(segmentDirectory(TARGET));
            assertTrue(files.stream().anyMatch(name -> name.endsWith(".free")), files.toString());
            assertTrue(files.stream().anyMatch(name -> name.endsWith(".seg")), files.toString());

            store.deleteGroup(TARGET);
            store.deleteGroup("inline");

            assertFalse(Files.exists(segmentDirectory(TARGET)));
            assertTrue(Files.isDirectory(segmentDirectory("a").getParent()), "log-segments/ itself stays");
            // Compacted on the store's own thread, soon after deleteGroup returned.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long tablesAfter = liveTableBytes(store);
            while (tablesAfter >= 1 << 20 && System.nanoTime() - deadline < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                tablesAfter = liveTableBytes(store);
            }
            assertTrue(tablesAfter < 1 << 20, "the deleted entries' table space is freed: " + tablesBefore + " -> "
                    + tablesAfter);
            try (LogStorage log = store.forGroup("a")) {
                assertEquals(entries("a", 1, 10, 1), log.entries(1, 11, NO_LIMIT));
            }
        }
    }

    @Test
    void deletingAGroupThatHoldsNothingDoesNoHarm() {
        fill();
        Map<String, String> before = contents();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            store.deleteGroup("never-written");
            store.deleteGroup("never-written");
        }
        assertEquals(before, contents());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Entries of 4 KiB of random bytes (table files compress the bottom level). */
    private static List<LogEntry> incompressible(String group, long from, long to) {
        java.util.Random random = new java.util.Random(from);
        List<LogEntry> list = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            byte[] data = new byte[4096];
            random.nextBytes(data);
            list.add(LogEntry.command(i, 1, Bytes.wrap(data)));
        }
        return list;
    }

    /** Thrown by the test hook: the deletion stops there, as the process would by a crash. */
    private static final class Crash extends RuntimeException {
        Crash(String step) {
            super("crash after: " + step);
        }
    }

    private static java.util.function.Consumer<String> stopAt(String stopAfter) {
        return step -> {
            if (step.equals(stopAfter)) {
                throw new Crash(step);
            }
        };
    }

    /** Writes entries 1..30 (every third one large), a hard state, an owner to every group; compacts some. */
    private void fill() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            for (String group : GROUPS) {
                try (LogStorage log = store.forGroup(group)) {
                    for (long from = 1; from <= 30; from += 5) {
                        log.append(entries(group, from, from + 4, 1), null);
                    }
                    log.append(List.of(), new HardState(1, group));
                    log.recordOwner(new LogOwner(group, "n1"));
                }
            }
        }
    }

    /** Appends batches to {@code log} until {@code done} is open, then one more; returns the last index. */
    private static long writeUntil(LogStorage log, String group, CountDownLatch done) {
        long next = log.lastIndex() + 1;
        boolean last = false;
        while (!last) {
            last = done.getCount() == 0;
            log.append(entries(group, next, next + 4, 2), null);
            next += 5;
        }
        return next - 1;
    }

    /** Every group's content, read back from a reopened store. */
    private Map<String, String> contents() {
        Map<String, String> content = new LinkedHashMap<>();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            for (String group : GROUPS) {
                try (LogStorage log = store.forGroup(group)) {
                    content.put(group, log.firstIndex() + ".." + log.lastIndex() + " " + log.hardState() + " "
                            + log.owner() + " " + log.entries(log.firstIndex(), log.lastIndex() + 1, NO_LIMIT)
                            + " segments " + ((RocksDbLogStorage) log).segmentFiles());
                }
            }
        }
        return content;
    }

    private static String empty() {
        return "1..0 " + HardState.INITIAL + " Optional.empty [] segments 0";
    }

    /** Keys of {@code group} in both column families (entries, meta records, the deletion record not counted). */
    private static int keysOf(RocksDbLogStore store, String group) {
        byte[] prefix = Codec.groupPrefix(group);
        return count(store, store.database.entries, prefix, Codec.afterPrefix(prefix))
                + count(store, store.database.meta, Codec.metaStart(prefix), Codec.metaEnd(prefix));
    }

    private static int count(RocksDbLogStore store, ColumnFamilyHandle family, byte[] from, byte[] to) {
        int count = 0;
        try (ReadOptions options = new ReadOptions();
             RocksIterator it = store.database.db.newIterator(family, options)) {
            for (it.seek(from); it.isValid() && java.util.Arrays.compareUnsigned(it.key(), to) < 0; it.next()) {
                count++;
            }
        }
        return count;
    }

    private static void flush(RocksDbLogStore store) throws RocksDBException {
        try (FlushOptions options = new FlushOptions().setWaitForFlush(true)) {
            store.database.db.flush(options, List.of(store.database.entries, store.database.meta));
        }
    }

    private static long liveTableBytes(RocksDbLogStore store) throws RocksDBException {
        return store.database.db.getLongProperty(store.database.entries, "rocksdb.live-sst-files-size");
    }

    private Path segmentDirectory(String group) {
        return dataDir.toAbsolutePath().resolve(Database.SEGMENTS_DIR).resolve(PayloadSegments.directoryName(group));
    }

    private int segmentFiles(String group) {
        return filesIn(segmentDirectory(group)).size();
    }

    private static List<String> filesIn(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void clear() throws IOException {
        Database.deleteRecursively(dataDir);
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("not resumed within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static List<LogEntry> entries(String group, long from, long to, long term) {
        return entries(group, from, to, term, 0);
    }

    /** Entries naming their group and index; every third one large (with {@code padding} 0: 1500 bytes more). */
    private static List<LogEntry> entries(String group, long from, long to, long term, int padding) {
        List<LogEntry> list = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            int extra = padding > 0 ? padding : i % 3 == 0 ? 1500 : 0;
            list.add(LogEntry.command(i, term, Bytes.ofUtf8(group + "#" + i + "-".repeat(extra))));
        }
        return list;
    }
}

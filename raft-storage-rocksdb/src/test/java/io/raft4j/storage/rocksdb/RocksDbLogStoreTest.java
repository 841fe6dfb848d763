package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store beyond the {@code LogStorage} contract: groups, the cache, failures, concurrency. */
class RocksDbLogStoreTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;

    @TempDir
    Path dataDir;

    @Test
    void groupsShareTheDatabaseButNeverEachOthersEntries() {
        // "a" is a prefix of "ab" as a string; the length byte in the key keeps them apart.
        List<String> groups = List.of("a", "ab", "b", "\u00e9t\u00e9-\u4e2d");
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            for (String group : groups) {
                try (LogStorage log = store.forGroup(group)) {
                    log.append(entries(group, 1, 10, 1), new HardState(1, group));
                }
            }
            try (LogStorage a = store.forGroup("a"); LogStorage ab = store.forGroup("ab");
                 LogStorage b = store.forGroup("b")) {
                a.append(entries("a", 1, 2, 2), null);
                ab.compact(9, 1);
                b.reset(3, 1);
            }
        }

        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            try (LogStorage a = store.forGroup("a")) {
                assertEquals(entries("a", 1, 2, 2), a.entries(1, 3, NO_LIMIT));
            }
            try (LogStorage ab = store.forGroup("ab")) {
                assertEquals(entries("ab", 10, 10, 1), ab.entries(10, 11, NO_LIMIT));
            }
            try (LogStorage b = store.forGroup("b")) {
                assertEquals(4, b.firstIndex());
                assertEquals(3, b.lastIndex());
            }
            try (LogStorage other = store.forGroup(groups.get(3))) {
                assertEquals(entries(groups.get(3), 1, 10, 1), other.entries(1, 11, NO_LIMIT));
                assertEquals(new HardState(1, groups.get(3)), other.hardState());
            }
            try (LogStorage fresh = store.forGroup("never-written")) {
                assertEquals(0, fresh.lastIndex());
                assertEquals(HardState.INITIAL, fresh.hardState());
            }
        }
    }

    /**
     * A process crash (the crash test's {@code kill -9}) keeps what reached the page cache, so only
     * this shows a write that skips the sync or the WAL: it would pass every other test and lose
     * acknowledged entries when the machine, not the process, goes down.
     */
    @Test
    void everyLogWriteGoesThroughTheWalAndSyncsIt() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            assertTrue(store.database.syncWrite.sync(), "writes sync the WAL before they return");
            assertFalse(store.database.syncWrite.disableWAL(), "writes go through the WAL");
        }
    }

    @Test
    void aGroupIsOpenOnceAtATimeAndIdsAreChecked() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            LogStorage first = store.forGroup("g");
            assertThrows(IllegalStateException.class, () -> store.forGroup("g"));
            first.close();
            store.forGroup("g").close();

            assertThrows(IllegalArgumentException.class, () -> store.forGroup(""));
            assertThrows(IllegalArgumentException.class, () -> store.forGroup("x".repeat(256)));
            store.forGroup("x".repeat(255)).close();
        }
    }

    /**
     * Opening a group checks its whole log, which takes long for a large one; other groups' opens
     * and closes must not wait for it. They used to: the check ran under the store's lock, which a
     * close takes too. The group being opened still cannot be opened a second time meanwhile.
     */
    @Test
    void openingOneGroupBlocksNeitherAnotherGroupsCloseNorItsOpen() throws Exception {
        ExecutorService opener = Executors.newSingleThreadExecutor();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            LogStorage a = store.forGroup("a");
            java.util.concurrent.CountDownLatch checking = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch finishCheck = new java.util.concurrent.CountDownLatch(1);
            store.beforeCheck = group -> {
                if (group.equals("big")) {
                    checking.countDown();
                    awaitUninterruptibly(finishCheck);
                }
            };
            Future<LogStorage> big = opener.submit(() -> store.forGroup("big"));
            assertTrue(checking.await(30, TimeUnit.SECONDS), "the open of big reached its check");

            Future<?> closeA = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "close-a");
                t.setDaemon(true);
                return t;
            }).submit(() -> {
                a.close();
                store.forGroup("c").close();
            });
            try {
                closeA.get(30, TimeUnit.SECONDS); // blocked on the store's lock until the check ended
                assertThrows(IllegalStateException.class, () -> store.forGroup("big"), "big is being opened");
            } finally {
                finishCheck.countDown();
            }
            big.get(30, TimeUnit.SECONDS).close();
            store.forGroup("big").close();
        } finally {
            opener.shutdownNow();
        }
    }

    /** A store closed while a group is being opened waits for that open, then closes the group too. */
    @Test
    void closingTheStoreDuringAnOpenClosesTheGroupItOpened() throws Exception {
        ExecutorService opener = Executors.newSingleThreadExecutor();
        try {
            RocksDbLogStore store = RocksDbLogStore.open(dataDir);
            java.util.concurrent.CountDownLatch checking = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch finishCheck = new java.util.concurrent.CountDownLatch(1);
            store.beforeCheck = group -> {
                checking.countDown();
                awaitUninterruptibly(finishCheck);
            };
            Future<LogStorage> opening = opener.submit(() -> store.forGroup("g"));
            assertTrue(checking.await(30, TimeUnit.SECONDS));
            Thread closing = new Thread(store::close, "close-store");
            closing.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (closing.getState() != Thread.State.WAITING && closing.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // until the close waits for the open (or, wrongly, went ahead)
            }
            finishCheck.countDown();
            closing.join(30_000);
            assertFalse(closing.isAlive(), "the store closed once the open was over");
            LogStorage g = opening.get(30, TimeUnit.SECONDS);
            assertThrows(IllegalStateException.class, g::lastIndex, "closed with the store");
        } finally {
            opener.shutdownNow();
        }
    }

    private static void awaitUninterruptibly(java.util.concurrent.CountDownLatch latch) {
        try {
            assertTrue(latch.await(2, TimeUnit.MINUTES)); // longer than the test's waits, which fail first
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Found probing forGroup with odd ids: both ids used to be written as "g?" in UTF-8, so the two
     * groups shared one log, each reading and overwriting the other's entries.
     */
    @Test
    void groupIdsWithUnpairedSurrogatesAreRefusedNotMergedIntoOneLog() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.forGroup("g\uD800"));
            assertTrue(e.getMessage().contains("unpaired surrogate"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.forGroup("g\uDC00"));
            try (LogStorage log = store.forGroup("g\uD83D\uDE00")) { // a pair: an emoji, valid
                log.append(List.of(new LogEntry(1, 1, io.raft4j.message.EntryType.COMMAND, Bytes.ofUtf8("x"))), new HardState(1, null));
            }
            try (LogStorage question = store.forGroup("g?")) {
                assertEquals(0, question.lastIndex(), "a group of its own");
            }
        }
    }

    @Test
    void closingTheStoreClosesItsGroupsAndASecondStoreOnTheSameDirectoryIsRefused() {
        RocksDbLogStore store = RocksDbLogStore.open(dataDir);
        LogStorage log = store.forGroup("g");
        log.append(entries("g", 1, 1, 1), null);

        StorageException inUse = assertThrows(StorageException.class, () -> RocksDbLogStore.open(dataDir));
        assertTrue(inUse.getMessage().contains("lock"), inUse.getMessage());

        store.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, log::lastIndex);
        // A node stopping on this says why: its own handle was not closed, the store under it was.
        assertTrue(closed.getMessage().contains("store") && closed.getMessage().contains(dataDir.toString()),
                closed.getMessage());
        assertThrows(IllegalStateException.class, () -> store.forGroup("h"));
        log.close();
    }

    @Test
    void recentEntriesAreServedFromMemoryAndOlderOnesFromRocksDb() {
        long entryBytes = EntryCache.heapBytes(LogEntry.command(1, 1, Bytes.wrap(new byte[1000])));
        RocksDbLogStore.Settings settings = new RocksDbLogStore.Settings(50 * entryBytes, 8 << 20, 8 << 20);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, settings)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup("g");
            List<LogEntry> written = new ArrayList<>();
            for (int i = 1; i <= 200; i++) {
                written.add(LogEntry.command(i, 1, Bytes.wrap(new byte[1000])));
            }
            log.append(written, null);

            // The leader replicating what it just wrote: memory only.
            assertEquals(written.subList(150, 200), log.entries(151, 201, NO_LIMIT));
            assertEquals(50, log.cachedEntries());
            assertEquals(0, log.entriesReadFromDatabase());

            // A follower far behind: the older part comes from RocksDB, the rest from memory.
            assertEquals(written.subList(99, 200), log.entries(100, 201, NO_LIMIT));
            assertEquals(51, log.entriesReadFromDatabase());
            log.close();
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, settings)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup("g");
            assertEquals(50, log.cachedEntries(), "the tail is cached again after recovery");
            log.entries(151, 201, NO_LIMIT);
            assertEquals(0, log.entriesReadFromDatabase());
            log.close();
        }
    }

    @Test
    void failedWriteThrowsAndStopsTheStorageWithoutLosingEarlierWrites() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup("g");
            log.append(entries("g", 1, 5, 1), new HardState(1, "n1"));
            log.writer(batch -> {
                throw new RocksDBException("IO error: No space left on device");
            });

            StorageException e = assertThrows(StorageException.class,
                    () -> log.append(entries("g", 6, 8, 1), new HardState(2, null)));
            assertTrue(e.getMessage().contains("append could not be made durable: IO error: No space left on device"),
                    e.getMessage());
            // Never reported as written, and never usable again until reopened.
            assertThrows(StorageException.class, log::lastIndex);
            assertThrows(StorageException.class, () -> log.entries(1, 2, NO_LIMIT));
            assertThrows(StorageException.class, () -> log.compact(2, 1));
            log.close();

            try (LogStorage reopened = store.forGroup("g")) {
                assertEquals(5, reopened.lastIndex());
                assertEquals(new HardState(1, "n1"), reopened.hardState());
                assertEquals(entries("g", 1, 5, 1), reopened.entries(1, 6, NO_LIMIT));
            }
        }
    }

    @Test
    void failedCompactionAlsoStopsTheStorage() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup("g");
            log.append(entries("g", 1, 5, 1), null);
            log.writer(batch -> {
                throw new RocksDBException("IO error: Read-only file system");
            });
            StorageException e = assertThrows(StorageException.class, () -> log.compact(3, 1));
            assertTrue(e.getMessage().contains("compact could not be made durable"), e.getMessage());
            assertThrows(StorageException.class, log::firstIndex);
            log.close();
            try (LogStorage reopened = store.forGroup("g")) {
                assertEquals(1, reopened.firstIndex());
            }
        }
    }

    /**
     * The threading contract: one writer appending and compacting while another thread reads. Every
     * read sees a consistent log: bounds that agree, entries whose payload matches their index and
     * term, and no entry ever reported missing.
     */
    @Test
    void readsDuringWritesAlwaysSeeAConsistentLog() throws Exception {
        RocksDbLogStore.Settings settings = new RocksDbLogStore.Settings(2 << 10, 8 << 20, 8 << 20);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, settings);
             LogStorage log = store.forGroup("g")) {
            AtomicBoolean writing = new AtomicBoolean(true);
            Future<?> writer = threads.submit(() -> {
                try {
                    for (int i = 1; i <= 300; i++) {
                        long first = log.lastIndex() + 1;
                        log.append(entries("g", first, first + 4, 1 + i / 50), null);
                        if (i % 20 == 0) {
                            log.compact(log.lastIndex() - 30, log.term(log.lastIndex() - 30));
                        }
                    }
                } finally {
                    writing.set(false);
                }
                return null;
            });
            Future<Integer> reader = threads.submit(() -> {
                int reads = 0;
                while (writing.get() || reads == 0) {
                    long first = log.firstIndex();
                    long last = log.lastIndex();
                    if (last < first) {
                        continue;
                    }
                    try {
                        List<LogEntry> read = log.entries(first, last + 1, 64 << 10);
                        assertEquals(first, read.get(0).index());
                        for (LogEntry e : read) {
                            assertEquals(entry("g", e.index(), e.term()), e);
                        }
                        reads++;
                    } catch (IndexOutOfBoundsException compactedMeanwhile) {
                        // The bounds moved between the calls; the next round reads them again.
                    }
                }
                return reads;
            });
            writer.get(60, TimeUnit.SECONDS);
            assertTrue(reader.get(60, TimeUnit.SECONDS) > 0);
            assertEquals(1500, log.lastIndex());
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    /**
     * A reader may find entries compacted between reading the bounds and reading the entries: it
     * then gets {@link IndexOutOfBoundsException} (a range no longer held), never a corruption error.
     * Runs compaction and reads of the oldest entries against each other.
     */
    @Test
    void compactionRacingAReadOfTheOldestEntriesIsNeverReportedAsCorruption() throws Exception {
        RocksDbLogStore.Settings settings = new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, settings);
             LogStorage log = store.forGroup("g")) {
            log.append(entries("g", 1, 2000, 1), null);
            AtomicBoolean compacting = new AtomicBoolean(true);
            Future<?> compactor = threads.submit(() -> {
                try {
                    for (long i = 10; i <= 1990; i += 10) {
                        log.compact(i, 1);
                    }
                } finally {
                    compacting.set(false);
                }
                return null;
            });
            Future<Integer> reader = threads.submit(() -> {
                int outOfRange = 0;
                while (compacting.get()) {
                    long first = log.firstIndex();
                    try {
                        assertEquals(first, log.entries(first, Math.min(first + 20, 2001), NO_LIMIT).get(0).index());
                    } catch (IndexOutOfBoundsException e) {
                        outOfRange++;
                    }
                }
                return outOfRange;
            });
            compactor.get(60, TimeUnit.SECONDS);
            reader.get(60, TimeUnit.SECONDS);
            assertEquals(1991, log.firstIndex());
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void groupsWrittenFromSeveralThreadsAtOnceAreAllDurable() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(4);
        List<String> groups = List.of("g0", "g1", "g2", "g3");
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            List<Future<?>> writers = new ArrayList<>();
            for (String group : groups) {
                LogStorage log = store.forGroup(group);
                writers.add(threads.submit(() -> {
                    for (long i = 1; i <= 200; i += 4) {
                        log.append(entries(group, i, i + 3, 1), new HardState(i, group));
                    }
                    log.close();
                    return null;
                }));
            }
            for (Future<?> writer : writers) {
                writer.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            for (String group : groups) {
                try (LogStorage log = store.forGroup(group)) {
                    assertEquals(entries(group, 1, 200, 1), log.entries(1, 201, NO_LIMIT));
                    assertEquals(new HardState(197, group), log.hardState());
                }
            }
        }
    }

    @Test
    void settingsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new RocksDbLogStore.Settings(-1, 8 << 20, 8 << 20));
        assertThrows(IllegalArgumentException.class, () -> new RocksDbLogStore.Settings(0, 1, 8 << 20));
        assertThrows(IllegalArgumentException.class, () -> new RocksDbLogStore.Settings(0, 8 << 20, 1));
    }

    private static LogEntry entry(String group, long index, long term) {
        return LogEntry.command(index, term, Bytes.ofUtf8(group + "/" + index + "/" + term));
    }

    private static List<LogEntry> entries(String group, long from, long to, long term) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(entry(group, i, term));
        }
        return out;
    }
}

package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RocksDbLogStore#deleteGroup} compacts the group's former key range off the caller's thread:
 * the caller (a node's loop, an admin request) used to wait for as long as RocksDB took to rewrite
 * every level-0 file. The group is gone, and unreachable, when the call returns all the same.
 */
class DeletionCompactionTest {
    private static final RocksDbLogStore.Settings SETTINGS = new RocksDbLogStore.Settings(1 << 10, 1 << 20, 1 << 20);

    @TempDir
    Path dataDir;

    @Test
    void theCompactionRunsOffTheCallersThread() throws Exception {
        AtomicReference<Thread> compactedOn = new AtomicReference<>();
        CountDownLatch compacting = new CountDownLatch(1);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS)) {
            fill(store, "gone");
            store.afterDeletionStep = step -> {
                if (GroupDeletion.COMPACTING.equals(step)) {
                    compactedOn.set(Thread.currentThread());
                    compacting.countDown();
                }
            };
            store.deleteGroup("gone");
            assertTrue(compacting.await(30, TimeUnit.SECONDS), "the compaction ran");
            assertNotSame(Thread.currentThread(), compactedOn.get(), "compacted on the caller's thread");
        }
    }

    @Test
    void theGroupIsGoneWhenTheCallReturnsWhileItsCompactionWaitsAndCloseWaitsForIt() throws Exception {
        CountDownLatch compacting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
        try {
            fill(store, "gone");
            fill(store, "kept");
            store.afterDeletionStep = step -> {
                if (GroupDeletion.COMPACTING.equals(step)) {
                    compacting.countDown();
                    await(release);
                }
            };
            store.deleteGroup("gone");   // returns with the compaction held back
            assertTrue(compacting.await(30, TimeUnit.SECONDS), "the compaction started");
            try (LogStorage log = store.forGroup("gone")) {
                assertEquals(0, log.lastIndex(), "nothing of the deleted group is left to read");
            }
            try (LogStorage log = store.forGroup("kept")) {
                assertEquals(10, log.lastIndex());
            }
        } finally {
            release.countDown();
            store.close();   // waits for the compaction under way, then closes the database under it
        }
    }

    @Test
    void compactionsQueuedAtCloseAreDroppedAndTheStoreReopens() throws Exception {
        CountDownLatch compacting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RocksDbLogStore store = RocksDbLogStore.open(dataDir, SETTINGS);
        try {
            for (String group : List.of("a", "b", "c")) {
                fill(store, group);
            }
            store.afterDeletionStep = step -> {
                if (GroupDeletion.COMPACTING.equals(step)) {
                    compacting.countDown();
                    await(release);
                }
            };
            store.deleteGroup("a");
            store.deleteGroup("b");
            store.deleteGroup("c");
            assertTrue(compacting.await(30, TimeUnit.SECONDS), "a's compaction started");
        } finally {
            release.countDown();
            store.close();
        }
        try (RocksDbLogStore reopened = RocksDbLogStore.open(dataDir, SETTINGS);
             LogStorage log = reopened.forGroup("c")) {
            assertEquals(0, log.lastIndex());
        }
    }

    private static void fill(RocksDbLogStore store, String group) {
        try (LogStorage log = store.forGroup(group)) {
            List<LogEntry> entries = new ArrayList<>();
            for (long i = 1; i <= 10; i++) {
                entries.add(LogEntry.command(i, 1, Bytes.wrap(new byte[100])));
            }
            log.append(entries, null);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("not released within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

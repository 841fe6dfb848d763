package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A write whose sync stalls (a hung disk) must not hold up the node's event loop, which reads the
 * log (bounds, terms, entries to replicate) while its storage thread writes: every read answers at
 * once from what was published before the stalled write. When the stall ends in an I/O error, the
 * write fails and the storage refuses every later call, as any failed write does.
 */
class StalledWriteReadsTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;

    @TempDir
    Path dataDir;

    private static List<LogEntry> entries(long from, long to) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(LogEntry.command(i, 1, Bytes.ofUtf8("entry " + i)));
        }
        return out;
    }

    @Test
    void readsAnswerWhileAWriteIsStalledAndTheStallEndingInAnErrorFailsTheWrite() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            RocksDbLogStorage log = (RocksDbLogStorage) store.forGroup("g");
            log.append(entries(1, 5), new HardState(1, "n1"));
            CountDownLatch stalled = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            log.writer(batch -> {
                stalled.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new RocksDBException("IO error: Input/output error");
            });
            CompletableFuture<Void> append = CompletableFuture.runAsync(
                    () -> log.append(entries(6, 8), new HardState(2, null)));
            try {
                assertTrue(stalled.await(10, TimeUnit.SECONDS));
                CompletableFuture<String> reads = CompletableFuture.supplyAsync(() -> log.firstIndex() + " "
                        + log.lastIndex() + " " + log.term(5) + " " + log.hardState() + " "
                        + log.entries(1, 6, NO_LIMIT).size());
                assertEquals("1 5 1 " + new HardState(1, "n1") + " 5", reads.get(10, TimeUnit.SECONDS),
                        "reads waited for the stalled write");
            } finally {
                release.countDown();
            }
            Exception e = assertThrows(Exception.class, () -> append.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof StorageException, String.valueOf(e.getCause()));
            assertThrows(StorageException.class, log::lastIndex);
            log.close();
        }
    }
}

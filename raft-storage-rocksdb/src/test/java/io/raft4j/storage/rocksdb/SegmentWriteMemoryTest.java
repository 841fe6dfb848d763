package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What groups' payload writes keep of direct (off-heap) memory: at most the process's shared write
 * buffers ({@link WriteBuffers}), however many groups wrote. Once each group wrote its payloads on
 * a thread of its own through a 1 MiB direct buffer, and a payload larger than that was written
 * from its heap array, so the JDK copied it into a temporary direct buffer of its size, cached for
 * the thread: one 8 MiB entry per group held 9 MiB per group, and under {@code -Xmx512m} (which
 * caps direct memory at 512 MiB) the 57th group to store one failed its write with
 * "OutOfMemoryError: Cannot reserve 8388544 bytes of direct buffer memory".
 */
class SegmentWriteMemoryTest {
    @TempDir
    Path dataDir;

    @Test
    void groupsWritingLargePayloadsKeepNoMoreDirectMemoryThanTheSharedBuffers() throws Exception {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            List<LogStorage> logs = new java.util.ArrayList<>();
            for (int g = 0; g < 12; g++) {
                LogStorage log = store.forGroup("g" + g);
                log.append(List.of(LogEntry.command(1, 1, Bytes.wrap(new byte[1000]))), null); // inline: buffers set up
                logs.add(log);
            }
            long before = directBytes();
            byte[] large = new byte[3 << 20];
            for (LogStorage log : logs) {
                log.append(List.of(LogEntry.command(2, 1, Bytes.wrap(large))), null); // to a segment file
                assertEquals(List.of(LogEntry.command(2, 1, Bytes.wrap(large))), log.entries(2, 3, Long.MAX_VALUE));
            }
            long bound = (long) WriteBuffers.KEPT * WriteBuffers.BUFFER_BYTES;
            long deadline = System.nanoTime() + 15_000_000_000L;
            long kept = directBytes() - before;
            while (kept > bound && System.nanoTime() < deadline) {
                System.gc(); // a buffer dropped is freed when collected
                LockSupport.parkNanos(50_000_000L);
                kept = directBytes() - before;
            }
            assertTrue(kept <= bound, "direct bytes kept by 12 groups' payload writes: " + kept + ", at most " + bound);
            for (LogStorage log : logs) {
                log.close();
            }
        }
    }

    /**
     * With segments turned off, every payload is stored in RocksDB: a value larger than the reused
     * direct buffer grew that buffer for good, so the group kept the size of its largest entry in
     * direct memory while its log was open (under {@code -Xmx512m}, 70 groups storing one 8 MiB
     * entry each failed with "OutOfMemoryError: Cannot reserve 8388558 bytes of direct buffer memory").
     */
    @Test
    void aLargePayloadKeptInlineLeavesNoDirectBufferBehind() {
        RocksDbLogStore.Settings inline = RocksDbLogStore.Settings.DEFAULT.withSegments(1 << 10, Long.MAX_VALUE, 64L << 20);
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, inline);
             LogStorage log = store.forGroup("g")) {
            log.append(List.of(LogEntry.command(1, 1, Bytes.wrap(new byte[1000]))), null);
            long before = directBytes();
            byte[] large = new byte[3 << 20];
            large[12345] = 7;
            log.append(List.of(LogEntry.command(2, 1, Bytes.wrap(large))), null);
            assertEquals(0, Math.max(0, directBytes() - before), "direct bytes kept after storing the entry");
        }
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, inline);
             LogStorage log = store.forGroup("g")) {
            byte[] large = new byte[3 << 20];
            large[12345] = 7;
            assertEquals(List.of(LogEntry.command(2, 1, Bytes.wrap(large))), log.entries(2, 3, Long.MAX_VALUE));
        }
    }

    /**
     * A payload read from its segment file into its heap array made the JDK copy it through a
     * temporary direct buffer of its size, cached for the reading thread for as long as it lives:
     * a node on a loop thread of its own ({@code runOnTransportLoop(false)}) kept one as large as the
     * largest payload it had sent a follower, per group. Reads now go in pieces of 256 KiB at most.
     */
    @Test
    void readingALargePayloadLeavesTheReadingThreadNoLargeDirectBuffer() throws Exception {
        RocksDbLogStore.Settings uncached = new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20);
        byte[] large = new byte[3 << 20];
        large[3 << 19] = 7;
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, uncached);
             LogStorage log = store.forGroup("g")) {
            log.append(List.of(LogEntry.command(1, 1, Bytes.wrap(large))), null);
            long[] kept = new long[1];
            List<LogEntry> read = new java.util.ArrayList<>();
            java.util.concurrent.CountDownLatch measured = new java.util.concurrent.CountDownLatch(1);
            Thread reader = new Thread(() -> {
                long before = directBytes();
                read.addAll(log.entries(1, 2, Long.MAX_VALUE));
                kept[0] = directBytes() - before;
                measured.countDown();
            }, "payload-reader");
            reader.start();
            reader.join(10_000);
            assertEquals(0, measured.getCount(), "the read finished");
            assertEquals(List.of(LogEntry.command(1, 1, Bytes.wrap(large))), read);
            assertTrue(kept[0] <= 256 << 10, "the reading thread keeps " + kept[0] + " direct bytes");
        }
    }

    private static long directBytes() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return pool.getMemoryUsed();
            }
        }
        throw new AssertionError("no direct buffer pool");
    }
}

package io.raft4j.snapshot;

import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writing and reading a snapshot in large chunks leaves the thread that did it no large direct
 * buffer. Through a file channel, the JDK copies a heap array through a temporary direct buffer of
 * the size asked, and keeps it for the thread: a follower's storage thread, which stores the chunks
 * of a snapshot received from its leader (1 MiB each by default, up to 16 MiB as configured), kept
 * one chunk's worth of direct memory per group for good, as did a leader's own loop thread that read
 * chunks to send. Hundreds of groups that each once received a snapshot held hundreds of MiB.
 */
class SnapshotChunkDirectMemoryTest {
    private static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));
    private static final int CHUNK = 1 << 20;
    private static final long MOST_KEPT = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void aChunkWrittenOrReadWholeLeavesItsThreadNoLargeDirectBuffer() throws Exception {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        byte[] chunk = new byte[CHUNK];
        chunk[CHUNK / 2] = 7;
        long keptByWriter = onFreshThread(() -> {
            try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(10, 1, CONFIG))) {
                sink.out().write(chunk, 0, chunk.length);
                sink.publish(null);
            }
            return null;
        }, new AtomicReference<>());
        assertTrue(keptByWriter <= MOST_KEPT, "the writing thread keeps " + keptByWriter + " direct bytes");

        AtomicReference<Bytes> read = new AtomicReference<>();
        long keptByReader = onFreshThread(() -> store.read(10, 0, CHUNK), read);
        assertArrayEquals(chunk, read.get().unsafeArray());
        assertTrue(keptByReader <= MOST_KEPT, "the reading thread keeps " + keptByReader + " direct bytes");

        AtomicReference<byte[]> restored = new AtomicReference<>();
        long keptByRestore = onFreshThread(() -> {
            try (java.io.InputStream in = store.open(10)) {
                return in.readNBytes(CHUNK); // a state machine restoring with large reads
            }
        }, restored);
        assertArrayEquals(chunk, restored.get());
        assertTrue(keptByRestore <= MOST_KEPT, "the restoring thread keeps " + keptByRestore + " direct bytes");
        store.close();
    }

    /** Runs {@code work} on a new thread; returns the direct bytes it left allocated while alive. */
    private static <T> long onFreshThread(Callable<T> work, AtomicReference<T> result) throws Exception {
        long[] kept = new long[1];
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            long before = directBytes();
            try {
                result.set(work.call());
            } catch (Exception e) {
                failure.set(e);
            }
            kept[0] = directBytes() - before;
        }, "snapshot-io");
        thread.start();
        thread.join(10_000);
        if (failure.get() != null) {
            throw failure.get();
        }
        return kept[0];
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

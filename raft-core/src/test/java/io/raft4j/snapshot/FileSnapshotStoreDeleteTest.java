package io.raft4j.snapshot;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FileSnapshotStore#deleteDirectory}: the snapshots of a group no longer served go with their
 * directory; a deletion stopped half-way (as by a crash) never leaves an older snapshot as the latest.
 */
class FileSnapshotStoreDeleteTest {
    private static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));

    @TempDir
    Path root;

    @Test
    void deletesEverySnapshotAndTemporaryFileAndTheDirectory() throws IOException {
        Path dir = root.resolve("snapshots").resolve("orders");
        fill(dir);
        Files.write(dir.resolve("tmp-123.data"), new byte[100]); // a transfer cut short
        Path other = root.resolve("snapshots").resolve("users");
        fill(other);

        assertTrue(FileSnapshotStore.deleteDirectory(dir));

        assertFalse(Files.exists(dir));
        assertEquals(30, new FileSnapshotStore(other).latest().orElseThrow().meta().lastIndex(), "another group's");
        assertTrue(new FileSnapshotStore(dir).latest().isEmpty(), "a store opened there again is empty");
        assertTrue(FileSnapshotStore.deleteDirectory(dir));
        assertTrue(FileSnapshotStore.deleteDirectory(dir), "a directory that is not there is deleted already");
    }

    @Test
    void filesAStoreDidNotWriteStayWithTheDirectory() throws IOException {
        Path dir = root.resolve("orders");
        fill(dir);
        Files.writeString(dir.resolve("notes.txt"), "mine");

        assertFalse(FileSnapshotStore.deleteDirectory(dir));

        try (var files = Files.list(dir)) {
            assertEquals(Set.of("notes.txt"), Set.copyOf(files.map(p -> p.getFileName().toString()).toList()));
        }
    }

    @Test
    void aDeletionStoppedHalfWayNeverLeavesAnOlderSnapshotAsTheLatestAndIsFinishedByCallingAgain()
            throws IOException {
        // Stopped after each file in turn: 3 meta files, 3 data files.
        for (int stopAfter = 1; stopAfter <= 6; stopAfter++) {
            Path dir = root.resolve("stop-" + stopAfter);
            fill(dir);
            Consumer<Path> crash = stopAfter(stopAfter);
            assertThrows(Crash.class, () -> FileSnapshotStore.deleteDirectory(dir, crash));

            var latest = new FileSnapshotStore(dir).latest();
            if (stopAfter < 3) {
                assertEquals(30, latest.orElseThrow().meta().lastIndex(), "stopped after " + stopAfter);
            } else {
                assertTrue(latest.isEmpty(), "stopped after " + stopAfter + ": " + latest);
            }
            assertTrue(FileSnapshotStore.deleteDirectory(dir));
            assertFalse(Files.exists(dir));
        }
    }

    /** Thrown by the test hook: the deletion stops there, as the process would by a crash. */
    private static final class Crash extends RuntimeException {
    }

    private static Consumer<Path> stopAfter(int files) {
        AtomicInteger deleted = new AtomicInteger();
        return file -> {
            if (deleted.incrementAndGet() == files) {
                throw new Crash();
            }
        };
    }

    /** Snapshots at 10, 20 and 30. */
    private static void fill(Path dir) throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir, 3, 0);
        for (long index = 10; index <= 30; index += 10) {
            try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(index, 2, CONFIG))) {
                sink.out().write(("state " + index).getBytes(StandardCharsets.UTF_8));
                sink.publish(null);
            }
        }
        assertEquals(30, store.latest().orElseThrow().meta().lastIndex());
    }
}

package io.raft4j.snapshot;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileSnapshotStoreTest {
    private static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));

    @TempDir
    Path dir;

    private static SnapshotStore.SnapshotInfo write(SnapshotStore store, long index, String content) throws IOException {
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(index, 2, CONFIG))) {
            sink.out().write(content.getBytes(StandardCharsets.UTF_8));
            return sink.publish(null);
        }
    }

    private static String readAll(SnapshotStore store, long index) throws IOException {
        try (InputStream in = store.open(index)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void publishedSnapshotSurvivesReopenWithItsMetaAndContent() throws IOException {
        SnapshotStore.SnapshotInfo info = write(new FileSnapshotStore(dir), 42, "the state");
        FileSnapshotStore reopened = new FileSnapshotStore(dir);
        assertEquals(info, reopened.latest().orElseThrow());
        assertEquals(CONFIG, reopened.latest().orElseThrow().meta().config());
        assertEquals("the state", readAll(reopened, 42));
        assertArrayEquals("state".getBytes(StandardCharsets.UTF_8), reopened.read(42, 4, 100).toByteArray());
    }

    @Test
    void corruptLatestSnapshotIsDetectedAndAnOlderOneUsed() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        write(store, 10, "older state");
        write(store, 20, "newer state");
        Path data = dir.resolve(String.format("snapshot-%020d.data", 20));
        byte[] bytes = Files.readAllBytes(data);
        bytes[2] ^= 0x40;
        Files.write(data, bytes);
        FileSnapshotStore reopened = new FileSnapshotStore(dir);
        assertEquals(10, reopened.latest().orElseThrow().meta().lastIndex());
    }

    @Test
    void partialSnapshotWithoutItsMetaFileIsIgnored() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        write(store, 10, "complete");
        Files.writeString(dir.resolve(String.format("snapshot-%020d.data", 30)), "half written");
        Files.writeString(dir.resolve("tmp-123.data"), "left over from a crash");
        FileSnapshotStore reopened = new FileSnapshotStore(dir);
        assertEquals(10, reopened.latest().orElseThrow().meta().lastIndex());
        assertTrue(Files.notExists(dir.resolve("tmp-123.data")), "temporary files are cleaned up");
    }

    @Test
    void receivedSnapshotWithTheWrongChecksumIsNotPublished() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(5, 1, CONFIG))) {
            sink.out().write(new byte[]{1, 2, 3});
            assertThrows(StorageException.class, () -> sink.publish(12345L));
        }
        assertTrue(store.latest().isEmpty());
    }

    @Test
    void keepsTheLastSnapshotsButNotOneBeingStreamed() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir, 2, 60_000);
        write(store, 1, "one");
        store.read(1, 0, 3);                      // being streamed to a follower: pinned
        write(store, 2, "two");
        write(store, 3, "three");
        write(store, 4, "four");
        assertEquals("one", readAll(store, 1), "pinned snapshot kept");
        assertThrows(StorageException.class, () -> store.read(2, 0, 1), "unpinned old snapshot dropped");
        assertEquals("three", readAll(store, 3), "the last two are kept besides the pinned one, not instead of it");
        assertEquals(4, store.latest().orElseThrow().meta().lastIndex());
    }

    /**
     * Found probing the constructor with Long.MAX_VALUE: pinning "for ever" wrapped to a negative
     * time in nanoseconds, which pinned nothing, so a snapshot being streamed was deleted.
     */
    @Test
    void aPinOfLongMaxValueKeepsASnapshotBeingStreamedAndANegativeOneIsRefused() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir, 2, Long.MAX_VALUE);
        write(store, 1, "one");
        store.read(1, 0, 3);
        write(store, 2, "two");
        write(store, 3, "three");
        assertEquals("one", readAll(store, 1), "pinned snapshot kept");
        assertThrows(IllegalArgumentException.class, () -> new FileSnapshotStore(dir, 2, -1));
    }

    /** A local snapshot may finish after a newer one received from the leader (two writing threads). */
    @Test
    void anOlderSnapshotPublishedLastNeitherBecomesLatestNorEvictsTheNewer() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir, 1, 0);
        try (SnapshotStore.Sink local = store.begin(new SnapshotMeta(20, 2, CONFIG))) {
            local.out().write("local".getBytes(StandardCharsets.UTF_8));
            write(store, 120, "received");
            local.publish(null);
        }
        assertEquals(120, store.latest().orElseThrow().meta().lastIndex());
        assertEquals("received", readAll(store, 120));
        assertEquals(120, new FileSnapshotStore(dir).latest().orElseThrow().meta().lastIndex());
    }
}

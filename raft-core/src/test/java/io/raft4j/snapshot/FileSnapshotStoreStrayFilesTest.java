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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a crash mid-publish (or a corrupt snapshot) leaves on disk is removed once a newer snapshot exists. */
class FileSnapshotStoreStrayFilesTest {
    private static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));

    @TempDir
    Path dir;

    private static void write(SnapshotStore store, long index, String content) throws IOException {
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(index, 2, CONFIG))) {
            sink.out().write(content.getBytes(StandardCharsets.UTF_8));
            sink.publish(null);
        }
    }

    @Test
    void dataFileRenamedBeforeACrashIsRemovedOnceRetentionHasMovedPastIt() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir, 2, 0);
        write(store, 10, "ten");
        // A crash between publish's two renames: the data file is in place, its meta file never was
        // (publish renames the data file first; the meta file is the commit point).
        Path orphan = dir.resolve(String.format("snapshot-%020d.data", 20));
        Files.write(orphan, new byte[1 << 20]);

        FileSnapshotStore reopened = new FileSnapshotStore(dir, 2, 0);
        assertEquals(10, reopened.latest().orElseThrow().meta().lastIndex());
        for (long i = 30; i <= 60; i += 10) {
            write(reopened, i, "state " + i);
        }
        new FileSnapshotStore(dir, 2, 0); // and once more a restart
        assertTrue(Files.notExists(orphan), "the half-published snapshot's data file is never cleaned up");
    }

    @Test
    void aCorruptSnapshotIgnoredAtOpenIsDeletedOnceANewerOneIsPublished() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir, 2, 0);
        write(store, 10, "ten");
        write(store, 20, "twenty");
        Path data = dir.resolve(String.format("snapshot-%020d.data", 20));
        byte[] bytes = Files.readAllBytes(data);
        bytes[0] ^= 1;
        Files.write(data, bytes);
        FileSnapshotStore reopened = new FileSnapshotStore(dir, 2, 0); // ignores 20
        for (long i = 30; i <= 60; i += 10) {
            write(reopened, i, "state " + i);
        }
        new FileSnapshotStore(dir, 2, 0);
        try (var files = Files.list(dir)) {
            long count = files.count();
            assertEquals(4, count, "retain 2 (two .data + two .meta), but the directory holds " + count
                    + " files: the corrupt snapshot 20 stays for ever");
        }
    }
}

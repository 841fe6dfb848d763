package io.raft4j.snapshot;

import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static io.raft4j.snapshot.SnapshotDirectory.CONFIG;
import static io.raft4j.snapshot.SnapshotDirectory.dataName;
import static io.raft4j.snapshot.SnapshotDirectory.files;
import static io.raft4j.snapshot.SnapshotDirectory.metaName;
import static io.raft4j.snapshot.SnapshotDirectory.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A second snapshot at the index of a published one: {@code takeSnapshot()} twice with nothing
 * applied in between, or after restoring a snapshot received from the leader. Its publish renamed its
 * data file over the published one's before renaming its meta file: until then (and for good, if
 * that rename, the directory sync or the process failed in between) the published snapshot's meta
 * described another content. Reads for a follower got bytes its checksum refused, and a restart
 * found the snapshot corrupt, so the node refused to start with its log compacted behind it.
 */
class FileSnapshotStoreSameIndexTest {
    private static final byte[] FIRST = "the state".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SECOND = "the same state, serialised otherwise".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @Test
    void aFailedPublishAtThePublishedIndexLeavesThePublishedSnapshotIntact() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        SnapshotStore.SnapshotInfo published = write(store, 10, FIRST);
        store.directorySync(d -> {
            throw new IOException("Input/output error");
        });

        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(10, 1, CONFIG))) {
            sink.out().write(SECOND);
            sink.publish(null);
        } catch (IOException e) {
            // a publish failing is fine; the published snapshot must not be harmed by it
        }

        assertEquals(published, store.latest().orElseThrow());
        assertArrayEquals(FIRST, store.read(10, 0, 1_000).toByteArray());
        try (InputStream in = store.open(10)) {
            assertArrayEquals(FIRST, in.readAllBytes());
        }
        assertEquals(published, new FileSnapshotStore(dir).latest().orElseThrow(), "and so after a restart");
        assertEquals(List.of(dataName(10), metaName(10)), files(dir));
    }

    @Test
    void aReadWhileASnapshotAtTheSameIndexIsPublishedGetsTheContentItsMetaDescribes() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        write(store, 10, FIRST);
        List<String> mismatches = new ArrayList<>();
        // Reads for a follower between the renames and the end of the publish.
        store.directorySync(d -> checkRead(store, mismatches));

        SnapshotStore.SnapshotInfo second = write(store, 10, SECOND);

        assertEquals(second, store.latest().orElseThrow(), "publish returns what is published at that index");
        checkRead(store, mismatches);
        assertEquals(List.of(), mismatches);
        assertEquals(second, new FileSnapshotStore(dir).latest().orElseThrow(), "valid after a restart");
    }

    /** Whether what a read returns is the content the published meta describes. */
    private static void checkRead(FileSnapshotStore store, List<String> mismatches) {
        SnapshotStore.SnapshotInfo info = store.latest().orElseThrow();
        byte[] content = store.read(10, 0, 1_000).toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(content);
        if (crc.getValue() != info.checksum()) {
            mismatches.add("read " + new String(content, StandardCharsets.UTF_8) + " for " + info);
        }
    }
}

package io.raft4j.snapshot;

import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.raft4j.snapshot.SnapshotDirectory.CONFIG;
import static io.raft4j.snapshot.SnapshotDirectory.dataName;
import static io.raft4j.snapshot.SnapshotDirectory.files;
import static io.raft4j.snapshot.SnapshotDirectory.metaName;
import static io.raft4j.snapshot.SnapshotDirectory.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A snapshot that fails to be written or published, as on a full or failing disk: the error names
 * the file, and no file of it stays behind to keep the disk full. Found by a full-disk drill of the
 * KV node: a snapshot whose data just fit, but not its meta file, left a snapshot-sized temporary
 * file until the node restarted.
 */
class FileSnapshotStoreWriteFailureTest {
    private static final byte[] CONTENT = "the state".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @Test
    void aFullDiskWhileWritingNamesTheFileAndLeavesNothingBehind() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        store.dataFileOpener(file -> new FullAfter(4, Files.newOutputStream(file)));

        IOException e;
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(10, 1, CONFIG))) {
            sink.out().write(CONTENT);
            e = assertThrows(IOException.class, () -> sink.publish(null)); // the buffered bytes reach the file here
        }
        assertTrue(e.getMessage().matches("writing .*tmp-\\d+\\.data: No space left on device"), e.getMessage());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertEquals(List.of(), files(dir));
    }

    /** Room for the data but not for anything more: the data file is written, the meta file is not. */
    @Test
    void aSnapshotThatCannotBePublishedLeavesNoTemporaryFiles() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        SnapshotStore.SnapshotInfo older = write(store, 10, CONTENT);
        // What stands in the way of the rename (a non-empty directory) fails it, as a full or read-only
        // disk fails a step of the publish after the data is written.
        Files.createDirectories(dir.resolve(dataName(20)).resolve("in-the-way"));

        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(20, 1, CONFIG))) {
            sink.out().write(CONTENT);
            assertThrows(IOException.class, () -> sink.publish(null));
        }
        assertEquals(List.of(dataName(10), metaName(10), dataName(20)), files(dir), "no tmp-* files left");
        assertEquals(older, store.latest().orElseThrow());
    }

    @Test
    void aSnapshotWhoseMetaCannotBePublishedLeavesNeitherItsDataNorItsTemporaryFiles() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        write(store, 10, CONTENT);
        Files.createDirectories(dir.resolve(metaName(20)).resolve("in-the-way"));

        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(20, 1, CONFIG))) {
            sink.out().write(CONTENT);
            assertThrows(IOException.class, () -> sink.publish(null));
        }
        assertEquals(List.of(dataName(10), metaName(10), metaName(20)), files(dir), "snapshot 20's data went with it");
        Files.delete(dir.resolve(metaName(20)).resolve("in-the-way"));
        Files.delete(dir.resolve(metaName(20)));

        // Once the disk is usable again, the next snapshot is published, and a reopened store sees it.
        write(store, 30, CONTENT);
        assertEquals(30, new FileSnapshotStore(dir).latest().orElseThrow().meta().lastIndex());
    }

    @Test
    void aFailureOpeningTheDataFileLeavesNoTemporaryFile() {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        store.dataFileOpener(file -> {
            throw new IOException("No space left on device");
        });
        assertThrows(IOException.class, () -> store.begin(new SnapshotMeta(10, 1, CONFIG)));
        assertFalse(files(dir).stream().anyMatch(name -> name.startsWith("tmp-")), files(dir).toString());
    }

    /**
     * The directory sync after the renames fails (an I/O error, as on a disk going read-only): the
     * snapshot is not published, since a crash could undo its renames while the log was compacted
     * past it; its files go, and the snapshot before it stays the latest. The sync's failure was
     * once only logged at DEBUG, taken for a platform that cannot sync a directory.
     */
    @Test
    void aDirectorySyncThatFailsFailsThePublishAndLeavesNothingOfIt() throws IOException {
        FileSnapshotStore store = new FileSnapshotStore(dir);
        SnapshotStore.SnapshotInfo older = write(store, 10, CONTENT);
        store.directorySync(d -> {
            throw new IOException("Input/output error");
        });

        IOException e;
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(20, 1, CONFIG))) {
            sink.out().write(CONTENT);
            e = assertThrows(IOException.class, () -> sink.publish(null));
        }
        assertEquals("Input/output error", e.getMessage());
        assertEquals(List.of(dataName(10), metaName(10)), files(dir));
        assertEquals(older, store.latest().orElseThrow());
        assertEquals(older, new FileSnapshotStore(dir).latest().orElseThrow(), "and so after a restart");
    }

    /** A file on a disk that fills after {@code room} bytes: every later write fails as Linux's does. */
    private static final class FullAfter extends FilterOutputStream {
        private long room;

        FullAfter(long room, OutputStream out) {
            super(out);
            this.room = room;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int fits = (int) Math.min(len, room);
            out.write(b, off, fits);
            room -= fits;
            if (fits < len) {
                throw new IOException("No space left on device");
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }
    }
}

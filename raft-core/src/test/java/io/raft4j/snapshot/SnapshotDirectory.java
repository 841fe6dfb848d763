package io.raft4j.snapshot;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** What the tests of {@link FileSnapshotStore} write into its directory and look for there. */
final class SnapshotDirectory {
    static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));

    private SnapshotDirectory() {
    }

    /** Writes and publishes a snapshot up to {@code index} (term 1) holding {@code content}. */
    static SnapshotStore.SnapshotInfo write(FileSnapshotStore store, long index, byte[] content) throws IOException {
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(index, 1, CONFIG))) {
            sink.out().write(content);
            return sink.publish(null);
        }
    }

    static String dataName(long index) {
        return String.format("snapshot-%020d.data", index);
    }

    static String metaName(long index) {
        return String.format("snapshot-%020d.meta", index);
    }

    /** The names in {@code dir}, sorted. */
    static List<String> files(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.raft4j.snapshot;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Guards the on-disk compatibility promise of {@code docs/operations.md} ("Upgrading") for
 * snapshot files: {@code golden-snapshots-v1/} holds a snapshot directory written by
 * {@link FileSnapshotStore} at meta format version 1, checked in. This build must open it and find
 * the snapshot with its meta (index, term, joint configuration with addresses), size, checksum and
 * content; and writing the same snapshot must produce the same bytes, so a change of the format
 * cannot pass by changing the reader and the writer together.
 *
 * <p>A format change bumps the meta version, keeps reading version 1 (this directory stays) and adds
 * a directory of its own; {@code -Draft4j.golden.regenerate=true}, run from the module directory,
 * rewrites {@link #CURRENT_DIRECTORY} from {@link #write}.
 */
class GoldenSnapshotFilesTest {
    private static final String CURRENT_DIRECTORY = "golden-snapshots-v1";
    private static final SnapshotMeta META = new SnapshotMeta(1042, 7,
            new ClusterConfig(Set.of("n1", "n2", "n4"), Set.of("n5"), Set.of("n1", "n2", "n3"),
                    Map.of("n1", "127.0.0.1:7001", "n2", "127.0.0.1:7002", "n4", "[::1]:7004")));
    private static final byte[] CONTENT = "golden snapshot content: the state machine's bytes\n"
            .getBytes(StandardCharsets.UTF_8);

    private static SnapshotStore.SnapshotInfo write(Path dir) throws IOException {
        try (SnapshotStore.Sink sink = new FileSnapshotStore(dir).begin(META)) {
            sink.out().write(CONTENT);
            return sink.publish(null);
        }
    }

    @Test
    void opensTheGoldenSnapshotAndWritesTheSameFiles(@TempDir Path tmp) throws Exception {
        Path golden;
        if (Boolean.getBoolean("raft4j.golden.regenerate")) {
            golden = Path.of("src/test/resources", CURRENT_DIRECTORY);
            FileSnapshotStore.deleteDirectory(golden);
            write(golden);
        } else {
            golden = Path.of(GoldenSnapshotFilesTest.class.getResource("/" + CURRENT_DIRECTORY).toURI());
        }
        Path copy = tmp.resolve("golden");
        Files.createDirectories(copy);
        for (Path f : files(golden)) {
            Files.copy(f, copy.resolve(f.getFileName().toString()));
        }
        FileSnapshotStore store = new FileSnapshotStore(copy);
        SnapshotStore.SnapshotInfo info = store.latest().orElseThrow(() -> new AssertionError("no valid snapshot"));
        assertEquals(META, info.meta());
        assertEquals(CONTENT.length, info.sizeBytes());
        try (InputStream in = store.open(META.lastIndex())) {
            assertArrayEquals(CONTENT, in.readAllBytes());
        }

        Path rewritten = tmp.resolve("rewritten");
        assertEquals(info, write(rewritten));
        List<Path> goldenFiles = files(golden);
        assertEquals(names(goldenFiles), names(files(rewritten)), "file names");
        for (Path f : goldenFiles) {
            assertEquals(HexFormat.of().formatHex(Files.readAllBytes(f)),
                    HexFormat.of().formatHex(Files.readAllBytes(rewritten.resolve(f.getFileName().toString()))),
                    f.getFileName() + ": this build writes other bytes than the golden file (a format change bumps "
                            + "the meta version; see the Javadoc)");
        }
    }

    private static List<Path> files(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> names(List<Path> files) {
        return files.stream().map(f -> f.getFileName().toString()).toList();
    }
}

package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guards the on-disk compatibility promise of {@code docs/operations.md} ("Upgrading"): a log
 * directory written by this build at format {@link Codec#FORMAT_VERSION} is checked in under
 * {@code golden-log-v6/} (payloads in segment files behind record headers, a segment mark), those
 * of the builds before under {@code golden-log-v5/} (raw payloads) and {@code golden-log-v4/} (the
 * same, with no vote-refusal windows nor bootstrap fingerprints in its hard states), and this build
 * must open each and read back exactly
 * what was written (entries in RocksDB and in segment files, compaction point, hard state, owner,
 * two groups).
 *
 * <p>A change of the format then fails here unless it bumps {@code FORMAT_VERSION} and still reads
 * the old one: a bump adds a {@code golden-log-v<new>} directory (generate it with
 * {@code -Draft4j.golden.regenerate=true} from the module directory, after changing
 * {@link #CURRENT_DIRECTORY}) and keeps every older one, each checked by {@link #opensAndReads}.
 * The generator leaves out RocksDB's info logs (they name paths of the machine) and the lock file.
 */
class GoldenLogDirectoryTest {
    private static final String CURRENT_DIRECTORY = "golden-log-v6";
    /** Small segment settings, so the larger payloads go to segment files, as in production. */
    private static final RocksDbLogStore.Settings SETTINGS =
            new RocksDbLogStore.Settings(1 << 20, 1 << 20, 1 << 20).withSegments(64, 128, 4096);

    private static final ClusterConfig CONFIG = new ClusterConfig(Set.of("n1", "n2", "n3"), Set.of(), Set.of(),
            Map.of("n1", "127.0.0.1:7001", "n2", "127.0.0.1:7002", "n3", "127.0.0.1:7003"));

    /** Group g1: entries 1..12 of three types, then compacted through 4; g2: three small entries. */
    private static List<LogEntry> g1Entries() {
        List<LogEntry> entries = new ArrayList<>();
        entries.add(new LogEntry(1, 1, EntryType.CONFIG, CONFIG.encode()));
        entries.add(new LogEntry(2, 1, EntryType.NOOP, Bytes.EMPTY));
        for (long i = 3; i <= 12; i++) {
            long term = i < 8 ? 1 : 3;
            byte[] payload = new byte[i % 3 == 0 ? 300 : 10];   // every third one large: a segment file
            for (int b = 0; b < payload.length; b++) {
                payload[b] = (byte) (i * 31 + b);
            }
            entries.add(LogEntry.command(i, term, Bytes.wrap(payload)));
        }
        return entries;
    }

    private static List<LogEntry> g2Entries() {
        return List.of(new LogEntry(1, 2, EntryType.NOOP, Bytes.EMPTY),
                LogEntry.command(2, 2, Bytes.ofUtf8("SET a 1")), LogEntry.command(3, 2, Bytes.ofUtf8("SET b 2")));
    }

    private static final HardState G1_STATE = new HardState(3, "n2", 1_900_000, 0x8123_4567_89AB_CDEFL);
    private static final HardState G2_STATE = new HardState(2, "n1", 0, 0);

    /** What each golden directory holds in its hard states: format 4 stored no window and no fingerprint. */
    private static HardState expectedState(String directory, HardState written) {
        return directory.equals("golden-log-v4") ? new HardState(written.term(), written.votedFor()) : written;
    }
    private static final long G1_COMPACTED = 4;

    private static void generate(Path dir) {
        try (RocksDbLogStore store = RocksDbLogStore.open(dir, SETTINGS)) {
            LogStorage g1 = store.forGroup("g1");
            g1.recordOwner(new LogOwner("g1", "n1"));
            List<LogEntry> entries = g1Entries();
            g1.append(entries.subList(0, 7), new HardState(1, "n1", 900_000, 0));
            g1.append(entries.subList(7, entries.size()), G1_STATE);
            g1.compact(G1_COMPACTED, 1);
            LogStorage g2 = store.forGroup("g2");
            g2.recordOwner(new LogOwner("g2", "n1"));
            g2.append(g2Entries(), G2_STATE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"golden-log-v4", "golden-log-v5", CURRENT_DIRECTORY})
    void opensAndReads(String directory, @TempDir Path tmp) throws Exception {
        Path golden;
        if (directory.equals(CURRENT_DIRECTORY) && Boolean.getBoolean("raft4j.golden.regenerate")) {
            Path target = Path.of("src/test/resources", CURRENT_DIRECTORY);
            golden = target;
            deleteTree(target);
            generate(target);
            try (Stream<Path> files = Files.walk(target)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String name = f.getFileName().toString();
                    if (name.startsWith("LOG") || name.equals("LOCK")) {
                        Files.delete(f);
                    }
                }
            }
        } else {
            golden = Path.of(GoldenLogDirectoryTest.class.getResource("/" + directory).toURI());
        }
        assertEquals(6, Codec.FORMAT_VERSION, "a new format version gets a golden directory of its own (Javadoc)");
        // Opening marks the directory; the golden copy on the classpath stays untouched.
        Path dir = copyOf(golden, tmp.resolve("log"));
        try (RocksDbLogStore store = RocksDbLogStore.open(dir, SETTINGS)) {
            LogStorage g1 = store.forGroup("g1");
            assertEquals(expectedState(directory, G1_STATE), g1.hardState());
            assertEquals(new LogOwner("g1", "n1"), g1.owner().orElseThrow());
            assertEquals(G1_COMPACTED + 1, g1.firstIndex());
            assertEquals(12, g1.lastIndex());
            assertEquals(1, g1.term(G1_COMPACTED));
            List<LogEntry> expected = g1Entries().subList((int) G1_COMPACTED, 12);
            assertEquals(expected, g1.entries(G1_COMPACTED + 1, 13, Long.MAX_VALUE));
            LogStorage g2 = store.forGroup("g2");
            assertEquals(expectedState(directory, G2_STATE), g2.hardState());
            assertEquals(new LogOwner("g2", "n1"), g2.owner().orElseThrow());
            assertEquals(1, g2.firstIndex());
            assertEquals(g2Entries(), g2.entries(1, 4, Long.MAX_VALUE));
        }
        // The golden directory really holds payloads in segment files, so their format is covered.
        try (Stream<Path> segments = Files.walk(dir.resolve("log-segments"))) {
            assertTrue(segments.anyMatch(Files::isRegularFile), "segment files in the golden directory");
        }
    }

    private static Path copyOf(Path from, Path to) throws IOException {
        try (Stream<Path> tree = Files.walk(from)) {
            for (Path p : tree.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest);
                }
            }
        }
        return to;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(dir)) {
            for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

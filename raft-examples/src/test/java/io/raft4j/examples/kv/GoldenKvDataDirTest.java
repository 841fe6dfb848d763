package io.raft4j.examples.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static io.raft4j.examples.kv.InMemoryKvCluster.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guards the KV node's data directory as a whole (docs/operations.md, "Upgrading"): the directory
 * of a one-node cluster, written by this build and checked in under {@code golden-kv-data-dir/}
 * (identity file, RocksDB log of the group, a snapshot and entries after it), must start with this
 * build and serve every key it held. {@code GoldenLogDirectoryTest}, {@code GoldenSnapshotFilesTest}
 * and {@code GoldenKvFormatsTest} pin each format; this checks that they still fit together.
 *
 * <p>The node starts on a copy, on new ports (its recorded Raft address is not dialled: it is the
 * only member). {@code -Draft4j.golden.regenerate=true}, from the module directory, rewrites the
 * directory (RocksDB's info logs, which name paths of the machine, and lock files left out): only for
 * a deliberate change that older directories survive as well.
 */
class GoldenKvDataDirTest {
    private static final String CURRENT_DIRECTORY = "golden-kv-data-dir";
    private static final String CLUSTER = "golden-kv";
    private static final int KEYS = 30;
    private static final int SNAPSHOT_EVERY = 20;

    @TempDir
    Path tmp;

    private static String[] node(Path dataDir, int raftPort, int clientPort) {
        return new String[] {"--id", "n1", "--cluster-id", CLUSTER, "--raft-address", "127.0.0.1:" + raftPort,
                "--client-address", "127.0.0.1:" + clientPort, "--peers", "n1=127.0.0.1:" + raftPort,
                "--data-dir", dataDir.toString(), "--tick-ms", "10", "--snapshot-every", String.valueOf(SNAPSHOT_EVERY)};
    }

    /** Writes the keys k0..k29 (a snapshot is taken after the twentieth-odd entry), then stops. */
    private static void generate(Path dataDir) throws Exception {
        int raftPort = freePort();
        int clientPort = freePort();
        try (InProcessNode node = new InProcessNode(node(dataDir, raftPort, clientPort))) {
            assertEquals(StartMode.BOOTSTRAP, node.awaitStarted());
            awaitWritable(clientPort);
            try (RespSocket s = new RespSocket(clientPort, 30_000)) {
                for (int i = 0; i < KEYS; i++) {
                    assertEquals("OK", RespSocket.text(s.call("SET", "k" + i, "v" + i)));
                }
                InMemoryKvCluster.await("a snapshot", 30_000, () -> !info(clientPort, "snapshot_index").equals("0"));
            }
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith("LOG") || name.equals("LOCK")) {
                    Files.delete(f);
                }
            }
        }
    }

    @Test
    void aDataDirectoryOfThisFormatStartsAndServesItsKeys() throws Exception {
        Path golden;
        if (Boolean.getBoolean("raft4j.golden.regenerate")) {
            golden = Path.of("src/test/resources", CURRENT_DIRECTORY);
            deleteTree(golden);
            generate(golden);
        } else {
            golden = Path.of(GoldenKvDataDirTest.class.getResource("/" + CURRENT_DIRECTORY).toURI());
        }
        Path copy = tmp.resolve("n1");
        copyTree(golden, copy);
        int clientPort = freePort();
        try (InProcessNode node = new InProcessNode(node(copy, freePort(), clientPort))) {
            assertEquals(StartMode.RESTART, node.awaitStarted());
            awaitWritable(clientPort);
            assertTrue(Long.parseLong(info(clientPort, "snapshot_index")) >= SNAPSHOT_EVERY, "the golden snapshot is kept");
            try (RespSocket s = new RespSocket(clientPort, 30_000)) {
                for (int i = 0; i < KEYS; i++) {
                    assertEquals("v" + i, RespSocket.text(s.call("GET", "k" + i)), "k" + i);
                }
            }
        }
    }

    private static String info(int clientPort, String field) {
        try (RespSocket s = new RespSocket(clientPort, 5000)) {
            for (String line : RespSocket.text(s.call("RAFT.INFO")).split("\r?\n")) {
                if (line.startsWith(field + ":")) {
                    return line.substring(field.length() + 1);
                }
            }
            throw new AssertionError("no " + field + " in RAFT.INFO");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the node leads and takes a write (a key of its own, not among the golden ones). */
    private static void awaitWritable(int clientPort) {
        InMemoryKvCluster.await("n1 to lead", 30_000, () -> {
            try (RespSocket s = new RespSocket(clientPort, 5000)) {
                return RespSocket.text(s.call("SET", "probe", "1")).equals("OK");
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static void copyTree(Path from, Path to) throws IOException {
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
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(dir)) {
            for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}

package io.raft4j.examples.kv;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which node of which cluster a data directory belongs to, in {@code <data-dir>/raft-kv.identity}.
 * The log itself carries neither, so without this a node started on another node's directory, or on
 * one of another cluster, would take that log, its term and its vote as its own (and, with another
 * cluster's membership, lead a cluster of its own on this cluster's client port).
 */
final class DataDirIdentity {
    static final String FILE = "raft-kv.identity";

    private DataDirIdentity() {
    }

    /**
     * Refuses a directory recorded for another node or cluster; a directory without the file passes.
     *
     * @throws IllegalArgumentException naming both identities
     */
    static void check(Path dataDir, String clusterId, String nodeId) {
        Map<String, String> found = read(dataDir.resolve(FILE), clusterId, nodeId);
        if (found == null) {
            return;
        }
        String theirCluster = found.get("cluster-id");
        String theirNode = found.get("node-id");
        if (theirCluster == null || theirNode == null) {
            // Written whole or not at all (see record), so damaged since: said so, rather than that the
            // directory "belongs to node null of cluster null".
            throw damaged(dataDir.resolve(FILE), clusterId, nodeId, "it names no " + (theirCluster == null ? "cluster" : "node"));
        }
        if (!clusterId.equals(theirCluster) || !nodeId.equals(theirNode)) {
            throw new IllegalArgumentException(
                    "--data-dir: " + dataDir + " belongs to node " + theirNode + " of cluster " + theirCluster
                            + ", not to node " + nodeId + " of cluster " + clusterId + " (" + dataDir.resolve(FILE)
                            + "). A node must only ever start on its own data directory. Nothing was changed");
        }
    }

    /** Records the identity if the file is absent (a new directory, or one written before this file existed). */
    static void record(Path dataDir, String clusterId, String nodeId) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (Files.exists(file)) {
            return;
        }
        byte[] content = ("cluster-id=" + clusterId + "\nnode-id=" + nodeId + "\n").getBytes(StandardCharsets.UTF_8);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(content));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    private static IllegalArgumentException damaged(Path file, String clusterId, String nodeId, String why) {
        return new IllegalArgumentException("--data-dir: " + file + " is damaged (" + why + "). If this directory is"
                + " node " + nodeId + "'s of cluster " + clusterId + ", write the two lines cluster-id=" + clusterId
                + " and node-id=" + nodeId + " into it (or delete it: it is recorded again at the next start)."
                + " Nothing was changed");
    }

    private static Map<String, String> read(Path file, String clusterId, String nodeId) {
        if (!Files.exists(file)) {
            return null;
        }
        Map<String, String> map = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    map.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw damaged(file, clusterId, nodeId, "it is not text");
        } catch (IOException e) {
            throw new IllegalArgumentException("--data-dir: cannot read " + file + ": " + e);
        }
        return map;
    }
}

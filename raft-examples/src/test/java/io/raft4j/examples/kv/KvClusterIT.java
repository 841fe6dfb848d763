package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static io.raft4j.examples.kv.RespSocket.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three (then four) JVMs started from {@code raft-kv.jar}, exactly as a user starts them, talking to
 * each other over loopback TCP with RocksDB logs, driven through RESP with a plain socket client:
 * writes and reads, {@code kill -9} of the leader (the time until a new leader is measured and
 * printed), no acknowledged write lost, a restart on the same data directory, a follower that
 * catches up by snapshot, a rolling restart, and adding and removing a node with the admin commands.
 *
 * <p>Runs in {@code mvn verify} (maven-failsafe-plugin, after the jar is packaged); skipped with a
 * message when the jar is missing, e.g. when run from an IDE before {@code mvn package}.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class KvClusterIT {
    /**
     * Extra node options, e.g. {@code -Draftkv.it.args="--tick-ms 20"} to measure failover with
     * other timings; {@code --tick-ms} and {@code --election-ticks} are read back for the bound.
     */
    private static final List<String> EXTRA_ARGS = splitArgs(System.getProperty("raftkv.it.args", ""));
    /** The node defaults: 100 ms ticks, election timeout 10 ticks, so 1-2 s. */
    private static final long MAX_ELECTION_TIMEOUT_MS =
            2 * longArg("--tick-ms", 100) * longArg("--election-ticks", 10);
    private static final int IO_TIMEOUT_MS = 15_000;

    private Path jar;
    private Path dir;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    /** Writes the cluster acknowledged with +OK: key to value. Every one must survive. */
    private final Map<String, String> acknowledged = new ConcurrentHashMap<>();

    private final class Node {
        final String id;
        final int raftPort;
        final int clientPort;
        final boolean join;
        final List<String> extraArgs;
        Process process;
        Path log;
        int starts;

        Node(String id, int raftPort, int clientPort, boolean join, List<String> extraArgs) {
            this.id = id;
            this.raftPort = raftPort;
            this.clientPort = clientPort;
            this.join = join;
            this.extraArgs = extraArgs;
        }

        Path dataDir() {
            return dir.resolve("data").resolve(id);
        }

        void start() throws IOException {
            starts++;
            log = dir.resolve(id + "-" + starts + ".log");
            List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx256m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                    "--id", id, "--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + clientPort,
                    "--peers", peers(join ? null : id), "--data-dir", dataDir().toString()));
            if (join) {
                cmd.add("--join");
            }
            cmd.addAll(extraArgs);
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }

        boolean alive() {
            return process != null && process.isAlive();
        }

        void kill9() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), id + " did not die");
        }

        void stop() throws InterruptedException {
            process.destroy(); // SIGTERM: the shutdown hook stops the node cleanly
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(id + " did not stop within 30 s of SIGTERM");
            }
        }

        String logText() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        // Set by maven-failsafe-plugin (integration-test phase, after the jar was packaged). A run by
        // Surefire (e.g. -Dtest='*Kv*') would find a stale jar or none: skip it, saying why.
        String configured = System.getProperty("raftkv.jar");
        Assumptions.assumeTrue(configured != null, "skipped: KvClusterIT runs in the integration-test phase"
                + " (mvn -pl raft-examples -am verify), after raft-kv.jar is built; or pass -Draftkv.jar=PATH");
        Path candidate = Path.of(configured);
        Assumptions.assumeTrue(Files.isRegularFile(candidate), "skipped: " + candidate.toAbsolutePath()
                + " does not exist; build it first: mvn -pl raft-examples -am package -DskipTests");
        jar = candidate.toAbsolutePath();
        dir = Files.createTempDirectory("raft-kv-it-");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Node n : nodes.values()) {
            if (n.process != null && n.process.isAlive()) {
                n.process.destroyForcibly();
                n.process.waitFor(30, TimeUnit.SECONDS);
            }
        }
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void failoverRestartSnapshotCatchUpAndMembership() throws Exception {
        int[] ports = new int[8];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = InMemoryKvCluster.freePort();
        }
        List<String> common = new ArrayList<>(List.of("--snapshot-every", "200"));
        common.addAll(EXTRA_ARGS);
        for (int i = 0; i < 3; i++) {
            nodes.put("n" + (i + 1), new Node("n" + (i + 1), ports[i], ports[3 + i], false, common));
        }
        try {
            for (Node n : nodes.values()) {
                n.start();
            }
            Node leader = awaitLeader(60_000, null);
            for (Node n : nodes.values()) {
                awaitServing(n);
            }
            log("cluster up, leader " + leader.id);

            // ---- writes and reads through every node --------------------------------------------
            int k = 0;
            for (Node n : nodes.values()) {
                for (int i = 0; i < 30; i++, k++) {
                    write(n, "k" + k, "v" + k);
                }
            }
            checkAcknowledged(nodes.values());
            try (RespSocket s = new RespSocket(leader.clientPort, IO_TIMEOUT_MS)) {
                assertEquals(Integer.toString(acknowledged.size()), text(s.call("DBSIZE")));
            }

            // ---- kill -9 the leader while a client keeps writing through a follower ----------
            Node survivor = otherThan(leader);
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicInteger uncertain = new AtomicInteger();
            Thread writer = new Thread(() -> {
                int i = 0;
                while (writing.get()) {
                    String key = "w" + i;
                    String value = "x" + i++;
                    try (RespSocket s = new RespSocket(survivor.clientPort, IO_TIMEOUT_MS)) {
                        while (writing.get()) {
                            Reply r = s.call("SET", key, value);
                            if (text(r).equals("OK")) {
                                acknowledged.put(key, value);
                                break;
                            }
                            if (!text(r).startsWith("-TRYAGAIN")) {
                                uncertain.incrementAndGet(); // -TIMEOUT / -UNCERTAIN: may or may not be applied
                                break;
                            }
                        }
                    } catch (IOException e) {
                        uncertain.incrementAndGet();
                    }
                }
            }, "it-writer");
            writer.start();
            InMemoryKvCluster.await("some writes before the kill", 30_000, () -> countPrefix("w") >= 20);
            long killedAt = System.nanoTime();
            leader.kill9();
            Node newLeader = awaitLeader(30_000, leader);
            long electedMs = (System.nanoTime() - killedAt) / 1_000_000;
            long acksAtElection = countPrefix("w");
            InMemoryKvCluster.await("a write acknowledged by the new leader", 30_000, () -> countPrefix("w") > acksAtElection);
            long firstWriteMs = (System.nanoTime() - killedAt) / 1_000_000;
            writing.set(false);
            writer.join(60_000);
            log(String.format("FAILOVER: kill -9 of leader %s -> new leader %s elected after %d ms; first write"
                            + " acknowledged %d ms after the kill (election timeout %d-%d ms); %d writes outcome unknown",
                    leader.id, newLeader.id, electedMs, firstWriteMs, MAX_ELECTION_TIMEOUT_MS / 2, MAX_ELECTION_TIMEOUT_MS,
                    uncertain.get()));
            assertTrue(electedMs < 2 * MAX_ELECTION_TIMEOUT_MS + 1000,
                    "new leader after " + electedMs + " ms, more than two election timeouts");
            checkAcknowledged(List.of(newLeader, otherThan(leader, newLeader)));

            // ---- the killed node restarts on its data directory and catches up ---------------
            leader.start();
            awaitCaughtUp(leader);
            checkAcknowledged(List.of(leader));

            // ---- add a fourth node, then remove it -------------------------------------------
            // (Before the log is compacted: a node that joins when the leader must send it a
            // snapshot taken before it was added stops itself, see joiningNodeCatchesUpBySnapshot.)
            Node n4 = new Node("n4", ports[6], ports[7], true, common);
            nodes.put("n4", n4);
            n4.start();
            Node l4 = awaitLeader(30_000, null);
            try (RespSocket s = new RespSocket(otherThan(l4, n4).clientPort, 120_000)) {
                assertEquals("OK", text(s.call("RAFT.ADDNODE", "n4", "127.0.0.1:" + n4.raftPort)));
                assertEquals(4, ((Reply.Array) s.call("RAFT.MEMBERS")).items().size());
                awaitCaughtUp(n4);
                checkAcknowledged(List.of(n4));
                assertEquals("OK", text(s.call("RAFT.REMOVENODE", "n4")));
                assertEquals(3, ((Reply.Array) s.call("RAFT.MEMBERS")).items().size());
                write(l4, "after-remove", "yes");
            }
            n4.stop();
            nodes.remove("n4");
            checkAcknowledged(nodes.values());
            log("membership: n4 added, caught up, removed");

            // ---- a follower that missed more than the log keeps catches up by snapshot ---------
            Node lagging = otherThan(awaitLeader(30_000, null));
            lagging.stop();
            Node current = awaitLeader(30_000, null);
            pipelineWrites(current, "s", 2500); // > snapshot-every and > the 1,024 entries kept behind a snapshot
            // At start-up it restores its own latest snapshot, if it has one; the leader's comes after.
            long localSnapshots;
            try (Stream<Path> files = Files.list(lagging.dataDir().resolve("snapshots"))) {
                localSnapshots = files.filter(p -> p.getFileName().toString().endsWith(".meta")).count();
            }
            lagging.start();
            awaitCaughtUp(lagging);
            String info = info(lagging);
            long restores = Long.parseLong(infoField(info, "snapshot_restores"));
            assertTrue(restores >= (localSnapshots > 0 ? 2 : 1),
                    "the lagging follower installed the leader's snapshot (local snapshots: " + localSnapshots + "): " + info);
            checkAcknowledged(List.of(lagging));
            log("snapshot catch-up: " + lagging.id + " restored " + restores + " snapshot(s)");

            // ---- rolling restart: every node in turn, SIGTERM and start again ------------------
            int r = 0;
            for (Node n : new ArrayList<>(nodes.values())) {
                n.stop();
                Node l = awaitLeader(30_000, n);
                for (int i = 0; i < 10; i++, r++) {
                    write(l, "r" + r, "rv" + r);
                }
                n.start();
                awaitCaughtUp(n);
                log("rolling restart: " + n.id + " back");
            }
            checkAcknowledged(nodes.values());

        } catch (Throwable t) {
            for (Node n : nodes.values()) {
                String text = n.log == null ? "" : n.logText();
                System.err.println("==== " + n.id + " (" + n.log + ") ====\n"
                        + text.substring(Math.max(0, text.length() - 6000)));
            }
            throw t;
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private String peers(String self) {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes.values()) {
            if (n.join) {
                continue;
            }
            sb.append(sb.length() == 0 ? "" : ",").append(n.id).append("=127.0.0.1:").append(n.raftPort);
        }
        return sb.toString();
    }

    private Node otherThan(Node... excluded) {
        for (Node n : nodes.values()) {
            if (n.alive() && !List.of(excluded).contains(n)) {
                return n;
            }
        }
        throw new IllegalStateException("no other live node");
    }

    private long countPrefix(String prefix) {
        return acknowledged.keySet().stream().filter(key -> key.startsWith(prefix)).count();
    }

    /** Waits until a live node other than {@code not} reports itself leader; returns it. */
    private Node awaitLeader(long timeoutMs, Node not) {
        Node[] found = new Node[1];
        InMemoryKvCluster.await("a leader", timeoutMs, () -> {
            for (Node n : nodes.values()) {
                if (n != not && n.alive()) {
                    try {
                        if (infoField(info(n), "role").equals("leader")) {
                            found[0] = n;
                            return true;
                        }
                    } catch (IOException | RuntimeException e) {
                        // not up yet
                    }
                }
            }
            return false;
        });
        return found[0];
    }

    /** Waits until {@code node} answers on its client port as itself (not some other process on that port). */
    private void awaitServing(Node node) {
        try {
            InMemoryKvCluster.await(node.id + " to serve clients", 60_000, () -> {
                if (!node.alive()) {
                    throw new AssertionError(node.id + " stopped while starting");
                }
                try {
                    return infoField(info(node), "node_id").equals(node.id);
                } catch (IOException | RuntimeException e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + state(node), e);
        }
    }

    /** Waits until {@code node} has applied what the leader has committed (and serves reads). */
    private void awaitCaughtUp(Node node) {
        InMemoryKvCluster.await(node.id + " to catch up", 60_000, () -> {
            try {
                Node leader = awaitLeader(30_000, null);
                long commit = Long.parseLong(infoField(info(leader), "commit_index"));
                String mine = info(node);
                return Long.parseLong(infoField(mine, "applied_index")) >= commit;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        });
    }

    /** Writes through {@code node}, retrying on -TRYAGAIN; records the write if acknowledged. */
    private void write(Node node, String key, String value) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (RespSocket s = new RespSocket(node.clientPort, IO_TIMEOUT_MS)) {
            while (true) {
                String r = text(s.call("SET", key, value));
                if (r.equals("OK")) {
                    acknowledged.put(key, value);
                    return;
                }
                if (!r.startsWith("-TRYAGAIN") || System.nanoTime() > deadline) {
                    fail("SET " + key + " through " + node.id + " answered " + r);
                }
            }
        } catch (IOException e) {
            // Said in the message itself: CI shows the first lines of a failure, not the node logs after it.
            throw new AssertionError("SET " + key + " through " + node.id + " failed: " + e + "; " + state(node), e);
        }
    }

    /**
     * Whether the node's process runs, with the end of its log, or how it ended, with the start of
     * its log (where a node that refused to start says why, before its usage text).
     */
    private static String state(Node node) {
        String where = node.id + " (Raft port " + node.raftPort + ", client port " + node.clientPort + ")";
        String text = node.logText();
        if (node.alive()) {
            return where + " runs, its log ends: " + text.substring(Math.max(0, text.length() - 1500)).replace('\n', '|');
        }
        return where + " exited with " + node.process.exitValue() + ", its log begins: "
                + text.substring(0, Math.min(text.length(), 1500)).replace('\n', '|');
    }

    /** Many SETs pipelined on one connection (fills the log quickly). */
    private void pipelineWrites(Node node, String prefix, int count) throws IOException {
        try (RespSocket s = new RespSocket(node.clientPort, 60_000)) {
            int batch = 100;
            for (int start = 0; start < count; start += batch) {
                StringBuilder sb = new StringBuilder();
                int end = Math.min(count, start + batch);
                for (int i = start; i < end; i++) {
                    String key = prefix + i;
                    sb.append("*3\r\n$3\r\nSET\r\n$").append(key.length()).append("\r\n").append(key).append("\r\n$")
                            .append(Integer.toString(i).length()).append("\r\n").append(i).append("\r\n");
                }
                s.sendRaw(sb.toString().getBytes(StandardCharsets.US_ASCII));
                for (int i = start; i < end; i++) {
                    String r = text(s.read());
                    assertEquals("OK", r, "SET " + prefix + i);
                    acknowledged.put(prefix + i, Integer.toString(i));
                }
            }
        }
    }

    /** Every acknowledged write is readable (linearizably) through each of {@code via}. */
    private void checkAcknowledged(Iterable<Node> via) throws IOException {
        Map<String, String> expected = new HashMap<>(acknowledged);
        List<String> keys = new ArrayList<>(expected.keySet());
        for (Node n : via) {
            try (RespSocket s = new RespSocket(n.clientPort, IO_TIMEOUT_MS)) {
                for (int from = 0; from < keys.size(); from += 500) {
                    List<String> chunk = keys.subList(from, Math.min(keys.size(), from + 500));
                    String[] cmd = new String[chunk.size() + 1];
                    cmd[0] = "MGET";
                    for (int i = 0; i < chunk.size(); i++) {
                        cmd[i + 1] = chunk.get(i);
                    }
                    Reply r = callRetrying(s, cmd);
                    List<Reply> values = ((Reply.Array) r).items();
                    for (int i = 0; i < chunk.size(); i++) {
                        assertEquals(expected.get(chunk.get(i)), text(values.get(i)),
                                "acknowledged write of " + chunk.get(i) + " read through " + n.id);
                    }
                }
            }
        }
    }

    private static Reply callRetrying(RespSocket s, String... cmd) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Reply r = s.call(cmd);
            if (!(r instanceof Reply.Error e && e.code().equals("TRYAGAIN")) || System.nanoTime() > deadline) {
                if (r instanceof Reply.Error e) {
                    fail(cmd[0] + " of " + (cmd.length - 1) + " keys answered " + e.text());
                }
                return r;
            }
        }
    }

    private static String info(Node n) throws IOException {
        try (RespSocket s = new RespSocket(n.clientPort, 5000)) {
            return text(s.call("INFO", "raft"));
        }
    }

    private static String infoField(String info, String field) {
        for (String line : info.split("\r\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1);
            }
        }
        throw new IllegalStateException("no " + field + " in INFO: " + info);
    }

    private static List<String> splitArgs(String text) {
        List<String> args = new ArrayList<>();
        for (String a : text.trim().split("\\s+")) {
            if (!a.isEmpty()) {
                args.add(a);
            }
        }
        return args;
    }

    private static long longArg(String name, long fallback) {
        int i = EXTRA_ARGS.indexOf(name);
        return i >= 0 && i + 1 < EXTRA_ARGS.size() ? Long.parseLong(EXTRA_ARGS.get(i + 1)) : fallback;
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void log(String message) {
        System.out.println("[KvClusterIT] " + message);
    }
}

package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import org.junit.jupiter.api.Assumptions;

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
import java.util.function.Function;
import java.util.stream.Stream;

import static io.raft4j.examples.kv.RespSocket.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Key-value nodes as separate JVMs started from {@code raft-kv.jar}, exactly as a user starts them,
 * driven through RESP with a plain socket client, and the client's record of every write the cluster
 * acknowledged (each one must survive whatever happens to the processes).
 *
 * <p>For the integration tests, which run in {@code mvn verify} (maven-failsafe-plugin, after the
 * jar is packaged); {@link #open} skips the test with a message when the jar is missing, e.g. when
 * run from an IDE before {@code mvn package}.
 */
final class KvProcessCluster implements AutoCloseable {
    static final int IO_TIMEOUT_MS = 15_000;

    private final Path jar;
    private final Path dir;
    final Map<String, Node> nodes = new LinkedHashMap<>();
    /** Writes the cluster acknowledged with +OK: key to value. Every one must survive. */
    final Map<String, String> acknowledged = new ConcurrentHashMap<>();
    /**
     * Options a node is given at every start to reach the others some other way than at their
     * addresses in {@code --peers} (e.g. {@code --dial} and {@code --forward-to}, through proxies).
     */
    Function<Node, List<String>> routeArgs = node -> List.of();

    /**
     * Kills the nodes and deletes their data if this JVM ends without {@link #close} (a fork killed
     * by a timeout, an OutOfMemoryError): they would run on, orphaned, holding their ports (seen
     * after a crashed run).
     */
    private final Thread reaper = new Thread(this::reap, "kv-process-cluster-reaper");

    private KvProcessCluster(Path jar, Path dir) {
        this.jar = jar;
        this.dir = dir;
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    private void reap() {
        killAll();
        try {
            deleteData();
        } catch (IOException e) {
            System.err.println("cannot delete " + dir + ": " + e);
        }
    }

    /** A cluster of no nodes yet, or the calling test skipped when {@code raft-kv.jar} is not at hand. */
    static KvProcessCluster open() throws IOException {
        // Set by maven-failsafe-plugin (integration-test phase, after the jar was packaged). A run by
        // Surefire (e.g. -Dtest='*Kv*') would find a stale jar or none: skip it, saying why.
        String configured = System.getProperty("raftkv.jar");
        Assumptions.assumeTrue(configured != null, "skipped: the KV integration tests run in the integration-test"
                + " phase (mvn -pl raft-examples -am verify), after raft-kv.jar is built; or pass -Draftkv.jar=PATH");
        Path candidate = Path.of(configured);
        Assumptions.assumeTrue(Files.isRegularFile(candidate), "skipped: " + candidate.toAbsolutePath()
                + " does not exist; build it first: mvn -pl raft-examples -am package -DskipTests");
        return new KvProcessCluster(candidate.toAbsolutePath(), Files.createTempDirectory("raft-kv-it-"));
    }

    /** Adds a node (not started); {@code join}: it starts outside the initial configuration. */
    Node add(String id, int raftPort, int clientPort, boolean join, List<String> extraArgs) {
        Node node = new Node(id, raftPort, clientPort, join, extraArgs);
        nodes.put(id, node);
        return node;
    }

    /** Prints the end of every node's log (after a failure: CI shows only its first lines). */
    void printLogs() {
        for (Node n : nodes.values()) {
            String text = n.log == null ? "" : n.logText();
            System.err.println("==== " + n.id + " (" + n.log + ") ====\n"
                    + text.substring(Math.max(0, text.length() - 6000)));
        }
    }

    /** Kills whatever still runs and deletes the data. */
    @Override
    public void close() throws Exception {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down
        }
        deleteData();
    }

    private void deleteData() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void killAll() {
        for (Node n : nodes.values()) {
            if (n.process != null && n.process.isAlive()) {
                n.process.destroyForcibly(); // SIGKILL: ends a process stopped with SIGSTOP too
                try {
                    n.process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** One node's process, restartable on the same data directory. */
    final class Node {
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
                    "--peers", peers(), "--data-dir", dataDir().toString()));
            if (join) {
                cmd.add("--join");
            }
            cmd.addAll(extraArgs);
            cmd.addAll(routeArgs.apply(this));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }

        boolean alive() {
            return process != null && process.isAlive();
        }

        void kill9() throws InterruptedException {
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), id + " did not die");
        }

        /** SIGSTOP: the process stays, frozen, its sockets open (like a long GC pause or a stalled VM). */
        void pause() throws IOException, InterruptedException {
            signal("STOP");
        }

        /** SIGCONT after {@link #pause}. */
        void resume() throws IOException, InterruptedException {
            signal("CONT");
        }

        private void signal(String name) throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + name + " " + id);
        }

        void stop() throws InterruptedException {
            process.destroy(); // SIGTERM: the shutdown hook stops the node cleanly
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(id + " did not stop within 30 s of SIGTERM");
            }
        }

        /** The logs of every start so far, the first first. */
        List<Path> logs() {
            List<Path> all = new ArrayList<>();
            for (int k = 1; k <= starts; k++) {
                all.add(dir.resolve(id + "-" + k + ".log"));
            }
            return all;
        }

        String logText() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }
    }

    /** The initial members and where they listen for Raft (the same for every node: it becomes the membership). */
    /** The first line of {@code log} that contains {@code text}, or null. */
    static String firstLine(Path log, String text) {
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.contains(text)).findFirst().orElse(null);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + log, e);
        }
    }

    private String peers() {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes.values()) {
            if (n.join) {
                continue;
            }
            sb.append(sb.length() == 0 ? "" : ",").append(n.id).append("=127.0.0.1:").append(n.raftPort);
        }
        return sb.toString();
    }

    Node otherThan(Node... excluded) {
        for (Node n : nodes.values()) {
            if (n.alive() && !List.of(excluded).contains(n)) {
                return n;
            }
        }
        throw new IllegalStateException("no other live node");
    }

    long countPrefix(String prefix) {
        return acknowledged.keySet().stream().filter(key -> key.startsWith(prefix)).count();
    }

    /** Waits until a live node other than {@code not} reports itself leader; returns it. */
    Node awaitLeader(long timeoutMs, Node not) {
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
    /** Starts {@code nodes}, waits for a leader, then for each node to serve clients. */
    void startAndAwaitServing(List<Node> nodes) throws IOException {
        for (Node n : nodes) {
            n.start();
        }
        awaitLeader(60_000, null);
        for (Node n : nodes) {
            awaitServing(n);
        }
    }

    void awaitServing(Node node) {
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
    void awaitCaughtUp(Node node) {
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
    void write(Node node, String key, String value) {
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
     * its log (where a node that refused to start says why, in one line).
     */
    static String state(Node node) {
        String where = node.id + " (Raft port " + node.raftPort + ", client port " + node.clientPort + ")";
        String text = node.logText();
        if (node.alive()) {
            return where + " runs, its log ends: " + text.substring(Math.max(0, text.length() - 1500)).replace('\n', '|');
        }
        return where + " exited with " + node.process.exitValue() + ", its log begins: "
                + text.substring(0, Math.min(text.length(), 1500)).replace('\n', '|');
    }

    /** Many SETs pipelined on one connection (fills the log quickly). */
    void pipelineWrites(Node node, String prefix, int count) throws IOException {
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
    void checkAcknowledged(Iterable<Node> via) throws IOException {
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

    static Reply callRetrying(RespSocket s, String... cmd) throws IOException {
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

    static String info(Node n) throws IOException {
        try (RespSocket s = new RespSocket(n.clientPort, 5000)) {
            return text(s.call("INFO", "raft"));
        }
    }

    static String infoField(String info, String field) {
        for (String line : info.split("\r\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1);
            }
        }
        throw new IllegalStateException("no " + field + " in INFO: " + info);
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}

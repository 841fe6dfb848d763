package io.raft4j.examples.kv.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.raft4j.examples.kv.KvCodec;
import io.raft4j.examples.kv.KvNode;
import io.raft4j.examples.kv.resp.EventLoops;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespClient;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;

/**
 * The benchmark of {@code ../shared/BENCHMARK.md}: three nodes in this JVM over loopback TCP (Netty
 * transport) with the RocksDB log, C closed-loop clients each with one request outstanding, each
 * request a fresh command carrying S random bytes, latency from submit to acknowledgement in an
 * HdrHistogram, throughput over the measured window after the warm-up. Prints one JSON line.
 *
 * <p>Each request is {@code SET bench:<client> <S random bytes>} (the KV state machine counts every
 * command it applies and keeps the CRC of the last one, for the replication check). The
 * {@code embedded} path proposes it through {@code RaftNode.propose} on the leader; the
 * {@code client} path sends it over RESP to the leader's client port, the clients spread over
 * {@code --connections} connections, pipelined on each.
 */
@Command(name = "raft-kv bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmarks a 3-node cluster in this JVM and prints one JSON line (ops_per_s, p50_ms, p99_ms, p999_ms, replicated, ...: see docs/performance.md).")
public final class BenchCommand implements Callable<Integer> {
    private static final double STABLE_GROWTH = 0.05;
    private static final double STABLE_JIT = 0.10;
    private static final long RATE_WINDOW_NS = 2_000_000_000L;
    private static final long REQUEST_TIMEOUT_MS = 10_000;

    @Spec
    CommandSpec spec;

    @Option(names = "--clients", defaultValue = "64", description = "Closed-loop clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--size", defaultValue = "128", description = "Bytes per command (default ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--warmup", defaultValue = "5", description = "Minimum warm-up seconds (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--warmup-max", defaultValue = "-1",
            description = "Keep warming up, up to this many seconds, until the rate stops growing (default: --warmup).")
    double warmupMax;

    @Option(names = "--duration", defaultValue = "20", description = "Measured seconds (default ${DEFAULT-VALUE}).")
    double duration;

    @Option(names = "--fsync", defaultValue = "true", arity = "1", paramLabel = "true|false",
            description = "true: the RocksDB log, synced before every acknowledgement (default)."
                    + " false: the in-memory log (nothing is forced to disk).")
    boolean fsync;

    @Option(names = "--path", defaultValue = "embedded", paramLabel = "embedded|client",
            description = "embedded: propose on the leader through the library API; client: RESP to the leader's port.")
    String path;

    @Option(names = "--connections", defaultValue = "0",
            description = "client path: RESP connections the clients share, pipelining on each (default: one per client).")
    int connections;

    @Option(names = "--tick-ms", defaultValue = "100", description = "Raft tick (default ${DEFAULT-VALUE}).")
    long tickMillis;

    @Option(names = "--keep-data", description = "Keep the data directory afterwards.")
    boolean keepData;

    private volatile double warmupSeconds;

    /**
     * Largest value: a SET of it, with its key and framing, must still fit in one log entry
     * ({@code RaftConfig.maxEntryBytes}, 8 MiB by default), or every proposal would be refused.
     */
    static final int MAX_VALUE_BYTES = (8 << 20) - 1024;

    /**
     * Most clients: each has a slot in arrays sized up front (and, on the client path, a connection
     * of its own by default), so a count near Integer.MAX_VALUE failed only once the cluster ran.
     */
    static final int MAX_CLIENTS = 100_000;

    /** Longest --warmup, --warmup-max and --duration: a day, far from overflowing deadlines in nanoseconds. */
    static final long MAX_SECONDS = 86_400;

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || clients > MAX_CLIENTS) {
            throw new ParameterException(spec.commandLine(), "--clients: must be in 1.." + MAX_CLIENTS + ", was " + clients);
        }
        if (connections < 0) {
            throw new ParameterException(spec.commandLine(), "--connections: must be positive (or 0: one per client), was "
                    + connections);
        }
        if (size < 1 || size > MAX_VALUE_BYTES) {
            throw new ParameterException(spec.commandLine(), "--size: must be in 1.." + MAX_VALUE_BYTES + ", was " + size);
        }
        // Written so that NaN fails too (every comparison with it is false), and infinity, which
        // overflowed the deadlines computed in nanoseconds.
        if (!(warmup >= 0 && duration > 0) || !Double.isFinite(warmup) || !Double.isFinite(duration)
                || Double.isNaN(warmupMax) || warmupMax == Double.POSITIVE_INFINITY) {
            throw new ParameterException(spec.commandLine(), "--warmup must be >= 0 and --duration > 0, both finite"
                    + " (--warmup-max too)");
        }
        if (warmup > MAX_SECONDS || warmupMax > MAX_SECONDS || duration > MAX_SECONDS) {
            // Their deadlines are nanoTime() plus them in nanoseconds: 1e10 s overflowed, and the
            // measured window was over as it began.
            throw new ParameterException(spec.commandLine(), "--warmup, --warmup-max and --duration: at most "
                    + MAX_SECONDS + " s each, were " + warmup + ", " + warmupMax + " and " + duration);
        }
        if (tickMillis < 1 || tickMillis > 10_000) {
            // Raft refused it only once the nodes were being built: a stack trace and exit 1.
            throw new ParameterException(spec.commandLine(), "--tick-ms: " + tickMillis + " is outside 1..10000");
        }
        path = path.toLowerCase(Locale.ROOT);
        if (!path.equals("embedded") && !path.equals("client")) {
            throw new ParameterException(spec.commandLine(), "--path: '" + path + "' is not embedded or client");
        }
        if (warmupMax < warmup) {
            warmupMax = warmup;
        }
        Path data = Files.createTempDirectory("raft-kv-bench-");
        Json out = new Json().put("system", "ours").put("path", path).put("clients", clients).put("size", size);
        int rc = 0;
        EventLoopGroup clientGroup = null;
        try (BenchCluster cluster = new BenchCluster(data, fsync, path.equals("client"), tickMillis)) {
            long t0 = System.nanoTime();
            log("starting 3 nodes on 127.0.0.1 raft ports %d,%d,%d data=%s fsync=%s path=%s",
                    cluster.raftPorts[0], cluster.raftPorts[1], cluster.raftPorts[2], data, fsync, path);
            cluster.start();
            int leader = cluster.awaitLeader(60_000);
            log("leader is %s (%.0f ms after start)", BenchCluster.id(leader), (System.nanoTime() - t0) / 1e6);

            Submitter submitter;
            int connectionCount = connections == 0 ? clients : Math.min(connections, clients);
            if (path.equals("embedded")) {
                submitter = new Embedded(cluster);
            } else {
                clientGroup = EventLoops.newGroup(2, new DefaultThreadFactory("bench-client", true));
                submitter = new ClientPath(cluster, clientGroup, connectionCount);
            }
            Result r = load(submitter);
            Check c = checkReplication(cluster, r.totalOk);
            Histogram h = r.histogram;
            out.put("ops_per_s", r.okInWindow / duration)
                    .put("p50_ms", h.getValueAtPercentile(50) / 1000.0)
                    .put("p99_ms", h.getValueAtPercentile(99) / 1000.0)
                    .put("p999_ms", h.getValueAtPercentile(99.9) / 1000.0)
                    .put("errors", r.errorsInWindow)
                    .put("fsync", fsync)
                    .put("mean_ms", h.getMean() / 1000.0)
                    .put("max_ms", h.getMaxValue() / 1000.0)
                    .put("ops", r.okInWindow)
                    .put("errors_total", r.errorsTotal)
                    .put("warmup_s", warmupSeconds)
                    .put("duration_s", duration)
                    .put("version", "io.raft4j:raft-core:" + version())
                    .put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"))
                    .put("log", cluster.logKind())
                    .put("transport", "netty (raft-transport-netty, protobuf frames)")
                    .put("client_path", path.equals("embedded") ? "embedded: RaftNode.propose() on leader"
                            : "RESP SET over loopback to the leader's client port (" + connectionCount
                            + " connections, pipelined) -> RaftNode.propose()")
                    .put("cpu_own_cores", r.ownCores)
                    .put("cpu_host_cores", r.hostCores)
                    .put("jit_ms_in_window", r.jitMs)
                    .put("leader", c.leader)
                    .put("applied", c.applied)
                    .put("client_acks", r.totalOk)
                    .put("replicated", c.ok);
            if (!c.ok) {
                rc = 1;
            }
            submitter.close();
        } catch (Exception | Error e) {
            // Errors too (an OutOfMemoryError when the values in flight outgrow the heap): every run
            // prints its JSON line, with the error when it failed.
            log("FAILED: %s", e);
            e.printStackTrace();
            out.put("error", String.valueOf(e)).put("fsync", fsync);
            rc = 1;
        } finally {
            if (clientGroup != null) {
                clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            if (!keepData) {
                BenchCluster.deleteRecursively(data);
            }
        }
        System.out.println(out);
        System.out.flush();
        return rc;
    }

    private static String version() {
        String v = BenchCommand.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }

    /** How one request is sent. */
    private interface Submitter extends AutoCloseable {
        CompletableFuture<?> submit(int client, byte[] key, byte[] value);

        @Override
        default void close() {
        }
    }

    /** Proposes through the library API on the leader. */
    private static final class Embedded implements Submitter {
        private final BenchCluster cluster;
        private volatile int leader = -1;

        Embedded(BenchCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public CompletableFuture<?> submit(int client, byte[] key, byte[] value) {
            int l = leader;
            if (l < 0) {
                l = cluster.leaderIndex();
                if (l < 0) {
                    return CompletableFuture.failedFuture(new IllegalStateException("no leader"));
                }
                leader = l;
            }
            return cluster.nodes.get(l).raft().propose(KvCodec.set(key, value)).whenComplete((r, e) -> {
                if (e != null) {
                    leader = -1;
                }
            });
        }
    }

    /**
     * SET over RESP to the leader's client port; client {@code c} uses connection {@code c mod N}, so
     * with fewer connections than clients several clients' commands are pipelined on one.
     */
    private static final class ClientPath implements Submitter {
        private final BenchCluster cluster;
        private final EventLoopGroup group;
        private final RespClient[] connections;
        private static final byte[] SET = "SET".getBytes(StandardCharsets.US_ASCII);

        ClientPath(BenchCluster cluster, EventLoopGroup group, int connections) {
            this.cluster = cluster;
            this.group = group;
            this.connections = new RespClient[connections];
        }

        @Override
        public CompletableFuture<?> submit(int client, byte[] key, byte[] value) {
            int slot = client % connections.length;
            RespClient c = connections[slot];
            try {
                if (c == null || !c.isOpen()) {
                    int l = cluster.leaderIndex();
                    if (l < 0) {
                        return CompletableFuture.failedFuture(new IllegalStateException("no leader"));
                    }
                    c = RespClient.connect(group, "127.0.0.1", cluster.clientPorts[l]);
                    connections[slot] = c;
                }
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
            return c.send(List.of(SET, key, value)).thenApply(reply -> {
                if (reply != Reply.OK && !(reply instanceof Reply.Simple s && s.text().equals("OK"))) {
                    throw new IllegalStateException("SET answered " + reply);
                }
                return reply;
            });
        }

        @Override
        public void close() {
            for (RespClient c : connections) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    private static final class Result {
        Histogram histogram;
        long okInWindow;
        long errorsInWindow;
        long errorsTotal;
        long totalOk;
        double ownCores = Double.NaN;
        double hostCores = Double.NaN;
        long jitMs;
    }

    /** The closed loop: one issuing thread takes the id of a client whose last request completed. */
    private Result load(Submitter submitter) throws InterruptedException {
        BenchValues values = new BenchValues(size, new Random(42));
        byte[][] keys = new byte[clients][];
        for (int c = 0; c < clients; c++) {
            keys[c] = ("bench:" + c).getBytes(StandardCharsets.US_ASCII);
        }
        MeasuredWindow window = new MeasuredWindow();
        AtomicLong errorsTotal = new AtomicLong();
        AtomicLong totalOk = new AtomicLong();
        AtomicLong lastErrorLog = new AtomicLong();
        AtomicInteger outstanding = new AtomicInteger();
        ArrayBlockingQueue<Integer> ready = new ArrayBlockingQueue<>(clients);
        for (int c = 0; c < clients; c++) {
            ready.add(c);
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-timer");
            t.setDaemon(true);
            return t;
        });
        // One watchdog instead of a timer per request (a timer set and cancelled per request costs
        // the completing thread a lock and a wake-up of the timer thread: measurable at 150k ops/s).
        // pendingSince[c] is the submit time of client c's request, 0 while it has none.
        AtomicLongArray pendingSince = new AtomicLongArray(clients);
        BiConsumer<Integer, Throwable> onError = (client, err) -> {
            long done = System.nanoTime();
            errorsTotal.incrementAndGet();
            window.failed(done);
            if (done - lastErrorLog.getAndSet(done) > 1_000_000_000L) {
                log("request failed: %s", err);
            }
            timer.schedule(() -> ready.add(client), 5, TimeUnit.MILLISECONDS);
        };
        timer.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            for (int c = 0; c < clients; c++) {
                long since = pendingSince.get(c);
                if (since != 0 && now - since > REQUEST_TIMEOUT_MS * 1_000_000L && pendingSince.compareAndSet(c, since, 0)) {
                    outstanding.decrementAndGet();
                    onError.accept(c, new TimeoutException("no answer in " + REQUEST_TIMEOUT_MS + " ms"));
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
        long start = System.nanoTime();
        long minWarm = start + (long) (warmup * 1e9);
        long maxWarm = start + (long) (warmupMax * 1e9);
        long nextRate = start + RATE_WINDOW_NS;
        long lastAcks = 0;
        double lastRate = -1;
        int stableWindows = 0;
        long lastJit = CpuUsage.jitMillis();
        long jitAtStart = 0;
        long nextReport = start + 5_000_000_000L;
        long seq = 0;
        CpuUsage cpu = null;
        log("load clients=%d size=%d warmup=%.0f..%.0fs duration=%.0fs", clients, size, warmup, warmupMax, duration);
        try {
            while (true) {
                Integer slot = ready.poll(100, TimeUnit.MILLISECONDS);
                long st = System.nanoTime();
                if (!window.isOpen()) {
                    if (st >= nextRate) {
                        long acks = totalOk.get();
                        double secs = (st - nextRate + RATE_WINDOW_NS) / 1e9;
                        double rate = (acks - lastAcks) / secs;
                        long jit = CpuUsage.jitMillis();
                        double jitShare = (jit - lastJit) / 1000.0 / secs;
                        lastJit = jit;
                        stableWindows = lastRate > 0 && rate < lastRate * (1 + STABLE_GROWTH) && jitShare < STABLE_JIT
                                ? stableWindows + 1 : 0;
                        lastRate = rate;
                        lastAcks = acks;
                        nextRate = st + RATE_WINDOW_NS;
                    }
                    if (st >= maxWarm || (st >= minWarm && (maxWarm == minWarm || stableWindows >= 2))) {
                        window.open(st, st + (long) (duration * 1e9));
                        warmupSeconds = (st - start) / 1e9;
                        cpu = new CpuUsage();
                        jitAtStart = CpuUsage.jitMillis();
                        log("warm-up over after %.1f s (last 2 s: %.0f ops/s), measuring %.0f s", warmupSeconds, lastRate, duration);
                    }
                }
                if (st >= window.end()) {
                    break;
                }
                if (slot == null) {
                    continue;
                }
                if (st >= nextReport) {
                    log("t=%.0fs acks=%d errors=%d", (st - start) / 1e9, totalOk.get(), errorsTotal.get());
                    nextReport += 5_000_000_000L;
                }
                byte[] value = values.next(++seq);
                outstanding.incrementAndGet();
                pendingSince.set(slot, st);
                CompletableFuture<?> f;
                try {
                    f = submitter.submit(slot, keys[slot], value);
                } catch (RuntimeException e) {
                    f = CompletableFuture.failedFuture(e);
                }
                int client = slot;
                f.whenComplete((res, err) -> {
                    if (!pendingSince.compareAndSet(client, st, 0)) {
                        return; // the watchdog already gave up on it
                    }
                    outstanding.decrementAndGet();
                    if (err == null) {
                        long done = System.nanoTime();
                        totalOk.incrementAndGet();
                        window.acknowledged(st, done);
                        ready.add(client);
                    } else {
                        onError.accept(client, err);
                    }
                });
            }
            Result r = new Result();
            if (cpu != null) {
                r.ownCores = cpu.ownCores();
                r.hostCores = cpu.hostCores();
            }
            r.jitMs = CpuUsage.jitMillis() - jitAtStart;
            long drainDeadline = System.nanoTime() + (REQUEST_TIMEOUT_MS + 5000) * 1_000_000L;
            while (outstanding.get() > 0 && System.nanoTime() < drainDeadline) {
                Thread.sleep(10);
            }
            r.histogram = window.latencies();
            r.okInWindow = window.acknowledgedCount();
            r.errorsInWindow = window.errorCount();
            r.errorsTotal = errorsTotal.get();
            r.totalOk = totalOk.get();
            log("done, acks in window=%d (%.0f ops/s), errors=%d, total acks=%d, cpu: this JVM %.2f cores, host %.2f",
                    r.okInWindow, r.okInWindow / duration, r.errorsTotal, r.totalOk, r.ownCores, r.hostCores);
            return r;
        } finally {
            timer.shutdownNow();
        }
    }

    private record Check(boolean ok, int leader, List<Long> applied) {
    }

    /**
     * Waits until the three state machines have applied the same number of commands (followers
     * catch up asynchronously) and compare count and last command; the leader must have applied at
     * least every acknowledged request.
     */
    private static Check checkReplication(BenchCluster cluster, long clientAcks) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        long[] prev = null;
        int stable = 0;
        while (System.nanoTime() < deadline) {
            long[] cur = new long[BenchCluster.NODES];
            boolean equal = true;
            for (int i = 0; i < cur.length; i++) {
                cur[i] = cluster.nodes.get(i).stateMachine().commandsApplied();
                equal &= cur[i] == cur[0];
            }
            if (equal && prev != null && java.util.Arrays.equals(prev, cur)) {
                if (++stable >= 2) {
                    break;
                }
            } else {
                stable = 0;
            }
            prev = cur;
            Thread.sleep(200);
        }
        int leader = cluster.leaderIndex();
        List<ReplicationCheck.Machine> machines = new ArrayList<>();
        List<Long> applied = new ArrayList<>();
        for (KvNode node : cluster.nodes) {
            ReplicationCheck.Machine m = ReplicationCheck.Machine.of(node.nodeId(), node.stateMachine());
            machines.add(m);
            applied.add(m.applied());
        }
        ReplicationCheck.Outcome outcome = ReplicationCheck.compare(machines, leader, clientAcks);
        log("REPLICATION CHECK:%s", outcome.report());
        return new Check(outcome.ok(), leader, applied);
    }

    private static void log(String format, Object... args) {
        System.err.println("bench: " + String.format(Locale.ROOT, format, args));
    }
}

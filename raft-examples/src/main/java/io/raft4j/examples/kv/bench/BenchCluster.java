package io.raft4j.examples.kv.bench;

import io.raft4j.core.Role;
import io.raft4j.examples.kv.HostPort;
import io.raft4j.examples.kv.KvCodec;
import io.raft4j.examples.kv.KvNode;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.LogStorage;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import io.raft4j.transport.netty.NettyTransport;
import io.raft4j.transport.netty.NettyTransportConfig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Three key-value nodes in this JVM, each on its own loopback port with the Netty transport between
 * them and, when durable, its own RocksDB log (every append fsynced) and snapshot directory.
 */
final class BenchCluster implements AutoCloseable {
    static final int NODES = 3;
    /** Snapshot interval of the nodes when their log is in memory (see the constructor). */
    static final long IN_MEMORY_SNAPSHOT_EVERY = 10_000;

    private final Path dir;
    private final boolean durable;
    private final boolean serveClients;
    private final long tickMillis;
    final int[] raftPorts;
    final int[] clientPorts;
    final List<KvNode> nodes = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();

    BenchCluster(Path dir, boolean durable, boolean serveClients, long tickMillis) throws IOException {
        this.dir = dir;
        this.durable = durable;
        this.serveClients = serveClients;
        this.tickMillis = tickMillis;
        int[] ports = freePorts(2 * NODES);
        this.raftPorts = new int[] {ports[0], ports[1], ports[2]};
        this.clientPorts = new int[] {ports[3], ports[4], ports[5]};
    }

    static String id(int i) {
        return "n" + (i + 1);
    }

    void start() {
        Map<String, String> members = new LinkedHashMap<>();
        for (int i = 0; i < NODES; i++) {
            members.put(id(i), "127.0.0.1:" + raftPorts[i]);
        }
        for (int i = 0; i < NODES; i++) {
            Map<String, String> others = new LinkedHashMap<>(members);
            others.remove(id(i));
            NettyTransport transport = NettyTransport.start(NettyTransportConfig.builder("bench")
                    .listen("127.0.0.1", raftPorts[i]).peers(others).build());
            resources.add(transport);
            LogStorage log;
            FileSnapshotStore snapshots = null;
            if (durable) {
                RocksDbLogStore store = RocksDbLogStore.open(dir.resolve(id(i)));
                resources.add(store);
                log = store.forGroup("kv");
                snapshots = new FileSnapshotStore(dir.resolve(id(i)).resolve("snapshots"));
                resources.add(snapshots);
            } else {
                log = new InMemoryLogStorage();
            }
            KvNode.Settings settings = KvNode.Settings.defaults(id(i), members,
                    new HostPort("127.0.0.1", clientPorts[i])).withTiming(tickMillis, 10, 1).withRequestTimeout(10_000);
            if (!durable) {
                // The in-memory log keeps every entry since the last snapshot on the heap, three
                // nodes' worth in this JVM: snapshot (and so compact) every 10,000 entries rather
                // than 100,000. Measured with -Xmx512m, no fsync: 150-161k ops/s and p99.9 12-13 ms
                // at 100,000 (G1 copying and promoting live log entries), 170-179k and 3 ms at 10,000.
                settings = settings.withSnapshotEvery(IN_MEMORY_SNAPSHOT_EVERY);
            }
            nodes.add(new KvNode(settings, transport, log, snapshots, serveClients));
        }
    }

    /** Waits until a leader answers a linearizable read; returns its index. */
    int awaitLeader(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            int leader = leaderIndex();
            if (leader >= 0) {
                try {
                    nodes.get(leader).raft().query(KvCodec.dbsize()).get(2, TimeUnit.SECONDS);
                    if (!serveClients || nodes.get(leader).stateMachine().clientAddressOf(id(leader)) != null) {
                        return leader;
                    }
                } catch (Exception e) {
                    // not yet: retry
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("no leader within " + timeoutMillis + " ms");
    }

    /** The node that believes it leads, or -1. */
    int leaderIndex() {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).raft().status().role() == Role.LEADER) {
                return i;
            }
        }
        return -1;
    }

    String logKind() {
        return durable ? "rocksdb (raft-storage-rocksdb, synced WAL)" : "in-memory (InMemoryLogStorage, no fsync)";
    }

    @Override
    public void close() {
        for (KvNode n : nodes) {
            try {
                n.close();
            } catch (RuntimeException e) {
                System.err.println("bench: closing " + n.nodeId() + " failed: " + e);
            }
        }
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                System.err.println("bench: closing " + resources.get(i) + " failed: " + e);
            }
        }
    }

    static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        ServerSocket[] held = new ServerSocket[n];
        try {
            for (int i = 0; i < n; i++) {
                held[i] = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                ports[i] = held[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                if (s != null) {
                    s.close();
                }
            }
        }
        return ports;
    }

    static void deleteRecursively(Path p) {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}

package io.raft4j.examples.kv;

import io.raft4j.core.Role;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** Key-value nodes with real RESP fronts on loopback, over the in-memory transport and log. */
final class InMemoryKvCluster implements AutoCloseable {
    final InMemoryTransport network = new InMemoryTransport();
    final List<KvNode> nodes = new ArrayList<>();
    final Map<String, Integer> clientPorts = new LinkedHashMap<>();
    private final Map<String, String> members = new LinkedHashMap<>();
    private final long requestTimeoutMs;
    private final int maxClients;
    private final RespLimits limits;
    private final long snapshotEvery;
    private final int electionTicks;
    private final UnaryOperator<KvNode.Settings> tweak;

    InMemoryKvCluster(int size, long requestTimeoutMs, int maxClients, RespLimits limits) throws IOException {
        this(size, requestTimeoutMs, maxClients, limits, 100_000);
    }

    InMemoryKvCluster(int size, long requestTimeoutMs, int maxClients, RespLimits limits, long snapshotEvery)
            throws IOException {
        this(size, requestTimeoutMs, maxClients, limits, snapshotEvery, 10);
    }

    /** With an election timeout of {@code electionTicks} ticks of 50 ms. */
    InMemoryKvCluster(int size, long requestTimeoutMs, int maxClients, RespLimits limits, long snapshotEvery,
                      int electionTicks) throws IOException {
        this(size, requestTimeoutMs, maxClients, limits, snapshotEvery, electionTicks, s -> s);
    }

    /** Every node's settings passed through {@code tweak} last. */
    InMemoryKvCluster(int size, UnaryOperator<KvNode.Settings> tweak) throws IOException {
        this(size, 3000, 1000, RespLimits.DEFAULT, 100_000, 10, tweak);
    }

    private InMemoryKvCluster(int size, long requestTimeoutMs, int maxClients, RespLimits limits, long snapshotEvery,
                              int electionTicks, UnaryOperator<KvNode.Settings> tweak) throws IOException {
        this.tweak = tweak;
        this.electionTicks = electionTicks;
        this.snapshotEvery = snapshotEvery;
        this.requestTimeoutMs = requestTimeoutMs;
        this.maxClients = maxClients;
        this.limits = limits;
        for (int i = 1; i <= size; i++) {
            members.put("n" + i, "127.0.0.1:" + (10_000 + i)); // opaque to the in-memory transport
        }
        for (String id : members.keySet()) {
            start(id, members);
        }
    }

    InMemoryKvCluster(int size) throws IOException {
        this(size, 3000, 1000, RespLimits.DEFAULT);
    }

    /** Starts a node; {@code initialMembers} empty for one that joins later. */
    KvNode start(String id, Map<String, String> initialMembers) throws IOException {
        int port = freePort();
        KvNode.Settings settings = tweak.apply(KvNode.Settings.defaults(id, initialMembers, new HostPort("127.0.0.1", port))
                .withTiming(50, electionTicks, 1).withRequestTimeout(requestTimeoutMs).withClients(maxClients, 1024, limits)
                .withSnapshotEvery(snapshotEvery));
        KvNode node = new KvNode(settings, network, new InMemoryLogStorage(), new InMemorySnapshotStore(), true);
        nodes.add(node);
        clientPorts.put(id, port);
        return node;
    }

    KvNode node(String id) {
        for (KvNode n : nodes) {
            if (n.nodeId().equals(id)) {
                return n;
            }
        }
        throw new IllegalArgumentException(id);
    }

    /** Waits for a leader that has recorded its client address; returns it. */
    KvNode awaitLeader() {
        KvNode[] found = new KvNode[1];
        await("a leader serving clients", 30_000, () -> {
            for (KvNode n : nodes) {
                if (n.raft().status().role() == Role.LEADER && n.stateMachine().clientAddressOf(n.nodeId()) != null) {
                    found[0] = n;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    KvNode aFollower(KvNode leader) {
        for (KvNode n : nodes) {
            if (n != leader) {
                return n;
            }
        }
        throw new IllegalStateException("no follower");
    }

    int port(KvNode node) {
        return clientPorts.get(node.nodeId());
    }

    /** Waits up to 30 s until the node with client port {@code clientPort} answers a SET with OK. */
    static void awaitWriteServed(String what, int clientPort) {
        await(what, 30_000, () -> {
            try (RespSocket s = new RespSocket(clientPort, 5000)) {
                return RespSocket.text(s.call("SET", "k", "v")).equals("OK");
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    static void await(String what, long timeoutMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** Every port {@link #freePort} has handed out in this JVM. */
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    /**
     * A loopback port that was free a moment ago and that this JVM has not handed out before. The
     * kernel may give the same port to two successive binds on port 0 once the first is closed
     * (about 1 in 600 for eight in a row here), and a cluster whose client port is another node's
     * Raft port fails in confusing ways, so ports are never repeated.
     *
     * <p>{@code -Draftkv.test.ports=FROM-TO} takes them from that range instead of the kernel's
     * ephemeral ones: for a machine shared with other runs, each given a range of its own.
     */
    static synchronized int freePort() throws IOException {
        String range = System.getProperty("raftkv.test.ports", "");
        if (!range.isBlank()) {
            return freePortIn(range);
        }
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
    }

    private static int freePortIn(String range) throws IOException {
        String[] bounds = range.split("-");
        int from = Integer.parseInt(bounds[0].trim());
        int to = Integer.parseInt(bounds[1].trim());
        for (int port = from; port <= to; port++) {
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                HANDED_OUT.add(port);
                return port;
            } catch (IOException e) {
                // taken: the next one
            }
        }
        throw new IOException("no free port left in raftkv.test.ports " + range);
    }

    @Override
    public void close() {
        for (KvNode n : nodes) {
            n.close();
        }
        network.close();
    }
}

package io.raft4j.examples.kv;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.raft4j.RaftNode;
import io.raft4j.core.RaftConfig;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.EventLoops;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One key-value node: a {@link RaftNode} replicating a {@link KvStateMachine}, and the RESP front
 * that serves clients. The transport and storages are handed in (Netty and RocksDB in the runnable
 * node, in-memory ones in tests) and are not closed here.
 *
 * <h2>How followers find the leader's client address</h2>
 * Raft knows the leader's id and its Raft address, not where it serves clients. A node that becomes
 * leader proposes a small metadata command recording {@code its id -> its client address} in the
 * replicated state (once per term, and only if the state does not already say so), so every node
 * can look the leader's client address up locally: to forward to it, or to name it in
 * {@code -NOTLEADER}. It survives restarts and snapshots like any other state.
 *
 * <p>A node that reaches the others' client ports otherwise than clients do (NAT, a tunnel, a proxy)
 * is given its own addresses for them ({@link Settings#forwardTo}, {@code --forward-to}): it forwards
 * there, and still names the registered address to clients.
 */
public final class KvNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KvNode.class);

    /**
     * What a node needs beyond its transport and storage.
     *
     * @param nodeId          this node's id
     * @param initialMembers  voters (id to Raft address) of a new cluster; empty for a node that joins
     * @param clientAddress   where the RESP front listens
     * @param tickMillis      length of a Raft tick
     * @param electionTicks   minimum election timeout in ticks (actual: random in [n, 2n))
     * @param heartbeatTicks  heartbeat interval in ticks
     * @param requestTimeoutMs deadline of one client command (then -TRYAGAIN or -TIMEOUT)
     * @param adminTimeoutMs  deadline of a membership change or leadership transfer
     * @param maxClients      most client connections at once
     * @param maxPipeline     most replies owed on one connection before it stops being read
     * @param limits          RESP request limits
     * @param followerMode    default for new connections: forward to the leader, or redirect
     * @param readMode        default for new connections: linearizable, lease or stale reads
     * @param snapshotEveryEntries take a snapshot after this many applied entries
     * @param maxMemoryBytes  refuse growing writes beyond this much data; 0 for no limit
     * @param forwardTo       node id to the client address this node forwards to when that node
     *                        leads, instead of the one it registered (see the class comment)
     * @param maxClientInputBytes most bytes all clients' unfinished and unanswered requests may hold
     *                        together ({@link ClientInputBudget}); 0 for no limit
     * @param announcedClientAddress where clients and the other nodes are told to reach this node's RESP
     *                        front ({@code -NOTLEADER}, forwarding, INFO); {@code null} for
     *                        {@code clientAddress}. Needed when that is the wildcard ({@code 0.0.0.0},
     *                        a container's) or not what others reach (NAT)
     */
    public record Settings(String nodeId, Map<String, String> initialMembers, HostPort clientAddress, long tickMillis,
                           int electionTicks, int heartbeatTicks, long requestTimeoutMs, long adminTimeoutMs,
                           int maxClients, int maxPipeline, RespLimits limits, Session.FollowerMode followerMode,
                           Session.ReadMode readMode, long snapshotEveryEntries, long maxMemoryBytes,
                           Map<String, String> forwardTo, long maxClientInputBytes,
                           HostPort announcedClientAddress) {
        /** Longest deadline a command may be given: a day, far beyond any client's patience. */
        public static final long MAX_TIMEOUT_MS = 86_400_000L;

        public Settings {
            Objects.requireNonNull(nodeId, "nodeId");
            initialMembers = Map.copyOf(initialMembers);
            forwardTo = Map.copyOf(forwardTo);
            checkTimeout("requestTimeoutMs", requestTimeoutMs);
            checkTimeout("adminTimeoutMs", adminTimeoutMs);
            if (maxClientInputBytes < 0) {
                throw new IllegalArgumentException("maxClientInputBytes: must be 0 (no limit) or positive, was "
                        + maxClientInputBytes);
            }
            if (announcedClientAddress != null && announcedClientAddress.isWildcard()) {
                throw new IllegalArgumentException("announcedClientAddress: " + announcedClientAddress
                        + " is the wildcard address, which no one can reach this node at");
            }
            if (maxMemoryBytes < 0) {
                throw new IllegalArgumentException("maxMemoryBytes: must be 0 (no limit) or positive, was " + maxMemoryBytes);
            }
        }

        private static void checkTimeout(String name, long millis) {
            if (millis < 10 || millis > MAX_TIMEOUT_MS) {
                throw new IllegalArgumentException(name + ": " + millis + " is outside 10.." + MAX_TIMEOUT_MS);
            }
        }

        /** Defaults: 100 ms ticks, election timeout 10 ticks, heartbeat 1 tick, 5 s requests. */
        public static Settings defaults(String nodeId, Map<String, String> initialMembers, HostPort clientAddress) {
            return new Settings(nodeId, initialMembers, clientAddress, 100, 10, 1, 5000, 30_000, 10_000, 1024,
                    RespLimits.DEFAULT, Session.FollowerMode.FORWARD, Session.ReadMode.LINEARIZABLE, 100_000,
                    0, Map.of(), 0, null);
        }

        public Settings withTiming(long tickMillis, int electionTicks, int heartbeatTicks) {
            return edit(d -> {
                d.tickMillis = tickMillis;
                d.electionTicks = electionTicks;
                d.heartbeatTicks = heartbeatTicks;
            });
        }

        public Settings withRequestTimeout(long requestTimeoutMs) {
            return edit(d -> d.requestTimeoutMs = requestTimeoutMs);
        }

        /** The deadline of RAFT.ADDNODE, RAFT.REMOVENODE and RAFT.TRANSFER (30 s by default). */
        public Settings withAdminTimeout(long adminTimeoutMs) {
            return edit(d -> d.adminTimeoutMs = adminTimeoutMs);
        }

        public Settings withClients(int maxClients, int maxPipeline, RespLimits limits) {
            return edit(d -> {
                d.maxClients = maxClients;
                d.maxPipeline = maxPipeline;
                d.limits = limits;
            });
        }

        public Settings withModes(Session.FollowerMode followerMode, Session.ReadMode readMode) {
            return edit(d -> {
                d.followerMode = followerMode;
                d.readMode = readMode;
            });
        }

        public Settings withInitialMembers(Map<String, String> initialMembers) {
            return edit(d -> d.initialMembers = initialMembers);
        }

        public Settings withSnapshotEvery(long entries) {
            return edit(d -> d.snapshotEveryEntries = entries);
        }

        /**
         * Refuse writes that may add data ({@code -OOM}) while the keys and values hold about this many
         * bytes of heap ({@link KvStateMachine#usedMemory}); 0 for no limit, the default.
         */
        public Settings withMaxMemory(long bytes) {
            return edit(d -> d.maxMemoryBytes = bytes);
        }

        /**
         * Refuse (and close) a client connection whose input would take what all clients' unfinished
         * and unanswered requests hold above this many bytes; 0 for no limit, the default here (the
         * command line's default is {@link ClientInputBudget#defaultLimit}).
         */
        public Settings withMaxClientInput(long bytes) {
            return edit(d -> d.maxClientInputBytes = bytes);
        }

        /** Tell clients and the other nodes to reach this node's RESP front at {@code address} (see above). */
        public Settings withAnnouncedClientAddress(HostPort address) {
            return edit(d -> d.announcedClientAddress = address);
        }

        /** Where clients and the other nodes are told to reach this node's RESP front; null if nowhere. */
        public HostPort clientAddressToAnnounce() {
            return announcedClientAddress != null ? announcedClientAddress : clientAddress;
        }

        /**
         * Forward to these nodes (id to {@code host:port}) at these client addresses when they lead,
         * not at the ones they registered; {@code -NOTLEADER} still names the registered one.
         */
        public Settings withForwardTo(Map<String, String> forwardTo) {
            return edit(d -> d.forwardTo = forwardTo);
        }

        /** These settings with {@code change} made to a copy of their fields; checked as any settings are. */
        private Settings edit(Consumer<Draft> change) {
            Draft d = new Draft(this);
            change.accept(d);
            return d.settings();
        }

        /**
         * The fields of settings being edited: each {@code with} method changes a few, so the list of
         * all of them is written here once, not in every method (a new field went into eleven).
         */
        private static final class Draft {
            private final String nodeId;
            private Map<String, String> initialMembers;
            private final HostPort clientAddress;
            private long tickMillis;
            private int electionTicks;
            private int heartbeatTicks;
            private long requestTimeoutMs;
            private long adminTimeoutMs;
            private int maxClients;
            private int maxPipeline;
            private RespLimits limits;
            private Session.FollowerMode followerMode;
            private Session.ReadMode readMode;
            private long snapshotEveryEntries;
            private long maxMemoryBytes;
            private Map<String, String> forwardTo;
            private long maxClientInputBytes;
            private HostPort announcedClientAddress;

            Draft(Settings s) {
                nodeId = s.nodeId;
                initialMembers = s.initialMembers;
                clientAddress = s.clientAddress;
                tickMillis = s.tickMillis;
                electionTicks = s.electionTicks;
                heartbeatTicks = s.heartbeatTicks;
                requestTimeoutMs = s.requestTimeoutMs;
                adminTimeoutMs = s.adminTimeoutMs;
                maxClients = s.maxClients;
                maxPipeline = s.maxPipeline;
                limits = s.limits;
                followerMode = s.followerMode;
                readMode = s.readMode;
                snapshotEveryEntries = s.snapshotEveryEntries;
                maxMemoryBytes = s.maxMemoryBytes;
                forwardTo = s.forwardTo;
                maxClientInputBytes = s.maxClientInputBytes;
                announcedClientAddress = s.announcedClientAddress;
            }

            Settings settings() {
                return new Settings(nodeId, initialMembers, clientAddress, tickMillis, electionTicks, heartbeatTicks,
                        requestTimeoutMs, adminTimeoutMs, maxClients, maxPipeline, limits, followerMode, readMode,
                        snapshotEveryEntries, maxMemoryBytes, forwardTo, maxClientInputBytes, announcedClientAddress);
            }
        }
    }

    private final Settings settings;
    private final KvStateMachine stateMachine = new KvStateMachine();
    private final RaftNode<Reply> raft;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final LeaderForwarder forwarder;
    private final KvServer server = new KvServer();
    private final ClientInputBudget inputBudget;
    private final String clientAddress;
    private boolean closed;

    /**
     * Builds and starts the node: the client port first, then Raft.
     *
     * @param serveClients false for a node without a RESP front (the embedded benchmark)
     * @throws IllegalStateException if the client address cannot be bound
     */
    public KvNode(Settings settings, Transport transport, LogStorage storage, SnapshotStore snapshots, boolean serveClients) {
        this.settings = settings;
        this.inputBudget = new ClientInputBudget(settings.maxClientInputBytes());
        this.clientAddress = settings.clientAddressToAnnounce() == null ? "" : settings.clientAddressToAnnounce().toString();
        RaftConfig.Builder protocol = RaftConfig.builder(settings.nodeId())
                .groupId(NodeStorage.GROUP)
                .initialMembers(settings.initialMembers())
                .electionTimeoutTicks(settings.electionTicks())
                .heartbeatIntervalTicks(settings.heartbeatTicks())
                .snapshotEveryEntries(settings.snapshotEveryEntries());
        if (!storage.writesWithoutBlocking()) {
            // A follower here syncs each write on its loop: one append in flight per follower lets
            // everything proposed meanwhile go in its next append and its next write, where
            // pipelining would send it appends it can only step after its sync (a fifth more
            // commits per second at 64 clients; docs/performance.md).
            protocol.maxInflightMessages(1);
        }
        RaftConfig config = protocol.build();
        RaftNode.Builder<Reply> builder = RaftNode.builder(config, stateMachine)
                .transport(transport).storage(storage).tickMillis(settings.tickMillis())
                // One group per process, with its transport's event loop to itself: sync on it, and
                // apply there too (a map update; snapshots fix a view and write it elsewhere).
                .persistOnLoop(true).applyOnLoop(true);
        if (snapshots != null) {
            builder.snapshots(snapshots);
        }
        ClientAddressRegistrar registrar = new ClientAddressRegistrar(settings.nodeId(), clientAddress, stateMachine);
        if (serveClients) {
            builder.leadershipListener(registrar);
        }
        this.raft = builder.build();
        registrar.proposeThrough(raft);
        this.boss = EventLoops.newGroup(1, new DefaultThreadFactory("kv-accept-" + settings.nodeId(), true));
        this.workers = EventLoops.newGroup(Math.min(4, Math.max(2, Runtime.getRuntime().availableProcessors())),
                new DefaultThreadFactory("kv-io-" + settings.nodeId(), true));
        this.forwarder = new LeaderForwarder(workers, 2, settings.limits(), 1000);
        try {
            // The client port is bound before Raft starts, which writes the bootstrap membership: a
            // port taken by another process since the start checked it fails the start with nothing
            // written. A command that comes before Raft runs finds no leader and waits for one.
            if (serveClients) {
                CommandProcessor processor = new CommandProcessor(settings.nodeId(), clientAddress, raft, stateMachine,
                        forwarder, settings.requestTimeoutMs(), settings.adminTimeoutMs(), settings.maxMemoryBytes(),
                        server::connectedClients, inputBudget, () -> snapshots.latest().map(s -> s.meta().lastIndex()).orElse(0L),
                        settings.forwardTo(), settings.limits());
                server.start(boss, workers, settings.clientAddress(), processor, settings.limits(), settings.maxClients(),
                        settings.maxPipeline(), settings.followerMode(), settings.readMode(), inputBudget);
            }
            raft.start();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Before a planned stop: if this node leads, hands leadership to the voter furthest ahead and
     * waits for it to lead (at most two election timeouts), so clients wait a round trip for a new
     * leader instead of an election timeout. Clients are still served meanwhile (forwarded once the
     * other node leads).
     *
     * @return the new leader, or {@code null} if this node did not lead, is the only voter, or the
     *         handover failed
     */
    public String handOverLeadership() {
        if (!raft.isLeader() || !hasOtherVoter(raft.status().config(), settings.nodeId())) {
            return null; // a lone voter has no one to hand over to: nothing failed, nothing to say
        }
        long waitMs = 2L * settings.electionTicks() * settings.tickMillis();
        try {
            String to = raft.transferLeadership().get(waitMs, TimeUnit.MILLISECONDS);
            LOG.info("{}: handed leadership over to {}", settings.nodeId(), to);
            return to;
        } catch (ExecutionException e) {
            LOG.info("{}: could not hand leadership over: {}", settings.nodeId(), e.getCause().toString());
            return null;
        } catch (TimeoutException e) {
            LOG.info("{}: could not hand leadership over: no other voter took it within {} ms", settings.nodeId(), waitMs);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Whether {@code config} has a voter other than {@code self}, in either half of a joint one. */
    static boolean hasOtherVoter(ClusterConfig config, String self) {
        return config.voters().stream().anyMatch(v -> !v.equals(self))
                || config.outgoingVoters().stream().anyMatch(v -> !v.equals(self));
    }

    /** The Raft node. */
    public RaftNode<Reply> raft() {
        return raft;
    }

    /** The state machine. */
    public KvStateMachine stateMachine() {
        return stateMachine;
    }

    /** What clients' input holds of this node's memory, and its limit. */
    public ClientInputBudget clientInputBudget() {
        return inputBudget;
    }

    /** The port the client front is bound to. */
    public int clientPort() {
        return server.port();
    }

    public String nodeId() {
        return settings.nodeId();
    }

    /** Stops serving clients, then stops Raft. Closes nothing that was handed in. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (RuntimeException e) {
            LOG.warn("{}: closing the client port failed", settings.nodeId(), e);
        }
        forwarder.close();
        raft.close();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

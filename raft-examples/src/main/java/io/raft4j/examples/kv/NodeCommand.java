package io.raft4j.examples.kv;

import io.raft4j.core.RaftConfig;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.StorageException;
import io.raft4j.transport.netty.NettyTransport;
import io.raft4j.transport.netty.NettyTransportConfig;
import io.raft4j.transport.netty.TlsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.CountDownLatch;

/**
 * The key-value node's command line. Runs in the foreground until SIGTERM or Ctrl-C, then stops
 * the client port, Raft, the transport and the log, in that order.
 */
@Command(name = "raft-kv", mixinStandardHelpOptions = true, version = "raft-kv 0.1.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"A replicated key-value node speaking the Redis protocol (RESP2), on raft4j.",
                "The benchmark: raft-kv bench --help"},
        footer = {"", "Example (one of three nodes):",
                "  java -jar raft-kv.jar --id n1 --raft-address 127.0.0.1:7001 --client-address 127.0.0.1:6379 \\",
                "    --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 --data-dir data/n1"})
public final class NodeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(NodeCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "This node's id, unique in the cluster.")
    String id;

    @Option(names = "--raft-address", required = true, paramLabel = "HOST:PORT",
            description = "Where this node listens for the other nodes (Raft traffic).")
    String raftAddress;

    @Option(names = "--client-address", required = true, paramLabel = "HOST:PORT",
            description = "Where this node listens for Redis-protocol clients.")
    String clientAddress;

    @Option(names = "--announce-client-address", paramLabel = "HOST:PORT",
            description = "Where clients and the other nodes reach this node's Redis-protocol port, when not at"
                    + " --client-address: needed when that is the wildcard (0.0.0.0, as in a container) or behind NAT."
                    + " Named in -NOTLEADER replies and used by followers forwarding to this node.")
    String announceClientAddress;

    @Option(names = "--peers", required = true, paramLabel = "ID=HOST:PORT,...",
            description = "The initial voters with the Raft addresses this node dials them at (this node included)."
                    + " With --join: the members to reach. A restart takes the membership from the data directory.")
    String peers;

    @Option(names = "--dial", paramLabel = "ID=HOST:PORT,...",
            description = "Dial these members' Raft ports at these addresses, whatever the membership records for them"
                    + " (a node that reaches some peers through NAT, a tunnel or a proxy). Not stored: give it at every start.")
    String dialOverrides = "";

    @Option(names = "--forward-to", paramLabel = "ID=HOST:PORT,...",
            description = "Forward clients' commands to these nodes, when they lead, at these client addresses instead of"
                    + " the ones they registered (-NOTLEADER still names those).")
    String forwardTo = "";

    @Option(names = "--data-dir", required = true, paramLabel = "DIR",
            description = "Where the Raft log (RocksDB) and snapshots are kept; created if absent.")
    Path dataDir;

    @Option(names = "--join", description = "Start without bootstrapping a cluster and wait to be added"
            + " (RAFT.ADDNODE on the leader). Ignored by a restart.")
    boolean join;

    @Option(names = "--redirect", description = "Followers answer -NOTLEADER <leader client address> instead of"
            + " forwarding to the leader (per connection: RAFT.REDIRECT ON|OFF).")
    boolean redirect;

    @Option(names = "--read-mode", defaultValue = "linearizable", paramLabel = "MODE",
            description = "linearizable (ReadIndex: the leader confirms it still leads, on a follower too, default), lease (leader lease, assumes bounded clock drift)"
                    + " or stale (this node's state as it is)."
                    + " Per connection: RAFT.READMODE.")
    String readMode;

    @Option(names = "--tick-ms", defaultValue = "100", description = "Length of a Raft tick (default ${DEFAULT-VALUE}).")
    long tickMillis;

    @Option(names = "--election-ticks", defaultValue = "10",
            description = "Minimum election timeout in ticks; the actual one is random in [n, 2n) (default ${DEFAULT-VALUE}).")
    int electionTicks;

    @Option(names = "--heartbeat-ticks", defaultValue = "1", description = "Heartbeat interval in ticks (default ${DEFAULT-VALUE}).")
    int heartbeatTicks;

    @Option(names = "--request-timeout-ms", defaultValue = "5000",
            description = "Deadline of a client command; then -TRYAGAIN (nothing done) or -TIMEOUT (outcome unknown)"
                    + " (default ${DEFAULT-VALUE}).")
    long requestTimeoutMs;

    @Option(names = "--max-clients", defaultValue = "10000", description = "Most client connections (default ${DEFAULT-VALUE}).")
    int maxClients;

    @Option(names = "--max-pipeline", defaultValue = "1024",
            description = "Most replies owed on one connection before it stops being read (default ${DEFAULT-VALUE}).")
    int maxPipeline;

    @Option(names = "--max-bulk-bytes", defaultValue = "16777216",
            description = "Largest argument (bulk string) accepted (default ${DEFAULT-VALUE}).")
    int maxBulkBytes;

    @Option(names = "--max-request-bytes", defaultValue = "33554432",
            description = "Largest command, all arguments together (default ${DEFAULT-VALUE}).")
    long maxRequestBytes;

    @Option(names = "--max-array-length", defaultValue = "1048576",
            description = "Most arguments in one command (default ${DEFAULT-VALUE}).")
    int maxArrayLength;

    @Option(names = "--max-inline-bytes", defaultValue = "65536",
            description = "Longest inline (telnet-style) command (default ${DEFAULT-VALUE}).")
    int maxInlineBytes;

    @Option(names = "--max-client-input-bytes", defaultValue = "auto", paramLabel = "SIZE",
            description = "Most memory all clients' unfinished and unanswered requests may hold together; when a"
                    + " connection's input would take it above this, the connections holding the most are closed"
                    + " (-ERR where they owe no reply) until it fits, or that connection itself if it holds the most;"
                    + " never one another node forwards over (RAFT.FORWARDED, not authenticated)."
                    + " Bytes or a size (512mb);"
                    + " 0 for no limit; auto (default) for a quarter of the JVM's direct memory or heap, the smaller."
                    + " At least --max-request-bytes.")
    String maxClientInput;

    @Option(names = "--snapshot-every", defaultValue = "100000",
            description = "Take a snapshot after this many applied entries (default ${DEFAULT-VALUE}).")
    long snapshotEvery;

    @Option(names = "--maxmemory", defaultValue = "auto",
            description = "Refuse writes that may add data (-OOM) while the keys and values hold more than this:"
                    + " bytes, or with a unit as Redis takes them (100mb, 1gb; k/m/g are powers of 1000); 0 for no"
                    + " limit; auto (default) for half the JVM's maximum heap.")
    String maxMemory;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Mutual TLS between the nodes (with --tls-key and --tls-ca): this node's PEM certificate (then"
                    + " any intermediates), issued for TLS server and client authentication and naming this node's --id"
                    + " as the URI subject alternative name raft4j://node/<id>. Without the three, Raft traffic is plain"
                    + " TCP, neither encrypted nor authenticated.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The certificate's private key: PEM, PKCS#8; encrypted only with --tls-key-password-file"
                    + " (keep the file readable by the node only).")
    Path tlsKey;

    @Option(names = "--tls-key-password-file", paramLabel = "FILE",
            description = "With an encrypted --tls-key (BEGIN ENCRYPTED PRIVATE KEY): the file holding its password,"
                    + " UTF-8; line endings at its end are not part of it. Keep it readable by the node only.")
    Path tlsKeyPasswordFile;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "PEM file of the authorities whose certificates the nodes accept (the cluster's own).")
    Path tlsCa;

    @Option(names = "--tls-no-node-id-check",
            description = "Accept certificates that name no node id (issued before ids were checked): any node with a"
                    + " certificate from --tls-ca may then send as any node. Warned of at start.")
    boolean tlsNoNodeIdCheck;

    @Option(names = "--cluster-id", defaultValue = "raft-kv",
            description = "Cluster id carried in every Raft frame; nodes of another cluster are refused (default ${DEFAULT-VALUE}).")
    String clusterId;

    /** Completed with how the node started once it runs (call() blocks until the node stops). */
    final CompletableFuture<StartMode> started = new CompletableFuture<>();
    private volatile Thread shutdownHook;
    /** For tests: runs during the start once the log is open and before the node is built. */
    Runnable afterLogOpened = () -> { };

    @Override
    public Integer call() throws Exception {
        KvNode.Settings settings = validate();
        HostPort raft = HostPort.parse(raftAddress);
        Map<String, String> peerMap = parsePeers();
        Path data = dataDir.toAbsolutePath().normalize();

        Map<String, String> dialMap = idAddresses("--dial", dialOverrides);
        Map<String, String> dial = DialOverrides.apply(dialMap, peerMap);
        dial.remove(id);
        // The hook is registered before anything is opened: a SIGTERM during the start closes what
        // the start had opened by then (the JVM would exit without closing it).
        StartedResources resources = new StartedResources();
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean shuttingDown = new AtomicBoolean();
        AtomicReference<KvNode> running = new AtomicReference<>();
        Thread hook = new Thread(() -> {
            shuttingDown.set(true);
            LOG.info("{}: stopping", id);
            try {
                KvNode node = running.get();
                if (node != null) {
                    node.handOverLeadership();
                }
                resources.close();
            } catch (RuntimeException e) {
                LOG.warn("{}: error while stopping", id, e);
            } finally {
                LOG.info("{}: stopped", id);
                stopped.countDown();
            }
        }, "raft-kv-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        shutdownHook = hook;
        KvNode node;
        StartMode mode;
        try {
            Started start = start(resources, settings, raft, peerMap, dial, dialMap, data);
            node = start.node();
            mode = start.mode();
            running.set(node);
        } catch (RuntimeException | Error e) {
            if (shuttingDown.get()) {
                // Stopped during the start (StoppedDuringStart, or a step failed on what the hook
                // closed under it): the hook closes what was opened; nothing to report.
                stopped.await();
                return 0;
            }
            resources.close();
            removeShutdownHook(hook);
            throw e;
        }
        String clients = settings.announcedClientAddress() == null ? settings.clientAddress().toString()
                : settings.clientAddress() + " (announced as " + settings.announcedClientAddress() + ")";
        LOG.info("{}: Raft on {}, clients on {}, data in {}: {}", id, raft, clients, dataDir,
                mode.describe(node.raft().status(), raft));
        ownAddressMismatch(mode, node.raft().status().config(), raft).ifPresent(LOG::warn);
        started.complete(mode);
        // Wakes up when the node stops: by itself, or on SIGTERM, whose hook may still be closing the
        // transport and the log then (the exit that follows waits for the hook to finish).
        node.raft().whenStopped().thenRun(stopped::countDown);
        stopped.await();
        if (shuttingDown.get()) {
            return 0;
        }
        // The node stopped by itself: removed from the cluster, or after a failure. Exit, so that the
        // process does not go on holding its ports without Raft (and a supervisor sees it); the shutdown
        // hook, run by the exit, closes the rest.
        Throwable failure = node.raft().failure();
        if (failure != null) {
            LOG.error("{}: Raft stopped after a failure ({}); exiting with status 1. Fix the cause and"
                    + " restart the node with the same data directory", id, failure.toString());
            return 1;
        }
        LOG.info("{}: removed from the cluster; exiting", id);
        return 0;
    }

    /** The node built by {@link #start}, and how it started. */
    private record Started(KvNode node, StartMode mode) { }

    /**
     * Opens the transport and the log, checks the data directory and builds the node, each through
     * {@code resources}, which the caller closes if this throws.
     */
    private Started start(StartedResources resources, KvNode.Settings settings, HostPort raft,
                          Map<String, String> peerMap, Map<String, String> dial, Map<String, String> dialMap,
                          Path data) {
        TlsSettings tls = tlsSettings();
        NettyTransportConfig transportConfig;
        try {
            transportConfig = NettyTransportConfig.builder(clusterId).listen(raft.host(), raft.port()).peers(dial)
                    .tls(tls).build();
        } catch (IllegalArgumentException e) {
            if (tls == null) {
                throw e;
            }
            throw refused(tlsProblem(e.getMessage()));   // a file missing, a key in another format
        }
        NettyTransport transport = resources.open(() -> {
            try {
                return NettyTransport.start(transportConfig);
            } catch (Exception e) { // Netty throws its (checked) bind errors without declaring them
                if (tls != null && (e.getCause() instanceof IllegalArgumentException
                        || e.getCause() instanceof javax.net.ssl.SSLException)) {
                    // Checked before binding: the certificate fails a handshake with itself, names no
                    // node id, or a file holds no certificate.
                    throw refused(tlsProblem(e.getCause().getMessage() + rootCauseNote(e.getCause())));
                }
                throw refused("--raft-address: cannot listen on " + raft + ": " + bindProblem(e));
            }
        });
        // Before anything is written: the node would register with the transport only once built.
        transport.problemWithLocalId(id).ifPresent(problem -> {
            throw refused("--tls-cert: " + problem);
        });
        checkClientAddressFree(settings.clientAddress());
        // Only once both ports are free: a start refused for a port left an empty data directory.
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw refused("--data-dir: cannot create " + PathErrors.describe(e));
        }
        try {
            DataDirIdentity.check(data, clusterId, id);
        } catch (IllegalArgumentException e) {
            throw refused(e.getMessage());
        }
        refuseNewLogBesideSnapshots(data);
        NodeStorage storage = resources.open(() -> {
            try {
                return NodeStorage.open(data, dataDir);
            } catch (IllegalArgumentException e) {
                throw refused(e.getMessage());
            }
        });
        afterLogOpened.run();
        Optional<LogOwner> owner = storage.log.owner();
        if (owner.isPresent() && !owner.get().equals(new LogOwner(NodeStorage.GROUP, id))) {
            // Raft would refuse it too; said here in the operator's terms. Without the identity file
            // (deleted, or a directory copied without it) this is what catches another node's log.
            throw refused("--data-dir: " + dataDir + " holds the log of " + owner.get() + ", not of node " + id
                    + ": start " + owner.get().nodeId() + " on it, or give this node a directory of its own."
                    + " Its log was opened but not written");
        }
        StartMode mode = startMode(StartMode.holdsState(storage.log, storage.snapshots), peerMap);
        KvNode node = resources.open(() -> {
            try {
                // The membership keeps the --peers addresses: --dial is this node's own way to its peers.
                return new KvNode(mode == StartMode.BOOTSTRAP ? settings.withInitialMembers(peerMap) : settings,
                        new DialOverrides(transport, dialMap), storage.log, storage.snapshots, true);
            } catch (RuntimeException e) {
                throw refusal(e);
            }
        });
        try {
            // Only once the node runs: a refused start leaves the directory as it found it.
            DataDirIdentity.record(data, clusterId, id);
        } catch (IOException e) {
            throw refused("--data-dir: cannot record this node's identity in " + dataDir + ": " + PathErrors.describe(e));
        }
        return new Started(node, mode);
    }

    private static final String TLS_OPTIONS = "--tls-cert, --tls-key, --tls-ca";

    /**
     * A TLS problem the transport found, prefixed with the options it comes from and in their
     * words: the transport's messages name its API (TlsSettings methods, privateKeyPassword).
     */
    private String tlsProblem(String problem) {
        String options = tlsKeyPasswordFile == null ? TLS_OPTIONS : TLS_OPTIONS + ", --tls-key-password-file";
        if (tlsKeyPasswordFile != null && problem.contains("does not contain valid private key")) {
            // What Netty says when the password does not decrypt the key: name the likelier cause.
            problem += " (is the password in --tls-key-password-file the key's?)";
        }
        return options + ": " + problem.replace("TlsSettings.withoutNodeIdCheck()", "--tls-no-node-id-check")
                .replace("but no password is given", "but no password is given (--tls-key-password-file)")
                .replace("but a privateKeyPassword is given", "but a password is given (--tls-key-password-file)");
    }

    /**
     * The innermost cause of {@code e}, where it is not {@code e}: Netty's "File does not contain
     * valid private key" is a wrong password only in its third cause (a BadPaddingException).
     */
    private static String rootCauseNote(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? "" : " (" + root + ")";
    }

    /** The transport's TLS settings from the options, or {@code null} for plain TCP. */
    private TlsSettings tlsSettings() {
        if (tlsCert == null) {
            return null;
        }
        String password = null;
        if (tlsKeyPasswordFile != null) {
            try {
                password = KeyPasswordFile.read(tlsKeyPasswordFile);
            } catch (IllegalArgumentException e) {
                throw refused("--tls-key-password-file: " + e.getMessage());
            }
        }
        TlsSettings tls = new TlsSettings(tlsCert, tlsKey, password, tlsCa);
        return tlsNoNodeIdCheck ? tls.withoutNodeIdCheck() : tls;
    }

    /** Drops the hook of a start that failed (its resources closed): the JVM may run on (tests). */
    private static void removeShutdownHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already: the hook runs, and finds nothing left to close
        }
    }

    /**
     * Stops the node as SIGTERM does, from this JVM: for tests, which cannot signal their own JVM.
     * During the start, closes what it opened so far and ends it. Does nothing before the start or
     * once the shutdown has begun.
     */
    void stop() {
        Thread hook = shutdownHook;
        if (hook != null && Runtime.getRuntime().removeShutdownHook(hook)) {
            hook.run();
        }
    }

    /**
     * What building the node threw, as the one-line refusal it is when it is about the client
     * address or the stored state; anything else (a bug) is left to show its stack trace.
     */
    private RuntimeException refusal(RuntimeException e) {
        if (e instanceof ParameterException) {
            return e;
        }
        String message = String.valueOf(e.getMessage());
        if (message.startsWith("cannot listen for clients")) {
            return refused("--client-address: " + message);
        }
        if (e instanceof StorageException || e instanceof IllegalStateException) {
            // Raft refuses, before recording anything, a state it cannot recover or that is not this
            // node's: chiefly a log compacted past its latest usable snapshot (that snapshot is
            // corrupt or was deleted, which FileSnapshotStore logged as it skipped it), or a log
            // another node owns.
            return refused("--data-dir: cannot start from " + dataDir + ": " + message + ". Restore this node's data"
                    + " directory (its snapshots/ first) from a backup, or remove the node from the cluster and add"
                    + " a fresh one under a new id (docs/operations.md). Nothing was changed");
        }
        return e;
    }

    /**
     * Where the membership this node runs with says the other members dial it, when that is not
     * where it listens. That membership is --peers for a bootstrap, but for a restart the one stored
     * in the data directory: --peers does not change it, and a node restarted at another
     * --raft-address is reached by no member (until it is removed and added again at the new one).
     */
    Optional<String> ownAddressMismatch(StartMode mode, ClusterConfig config, HostPort raft) {
        String recorded = config.addresses().get(id);
        if (recorded == null || mode == StartMode.JOIN || !config.isMember(id)) {
            return Optional.empty();
        }
        try {
            HostPort at = HostPort.parse(recorded);
            // Listening on the wildcard, a node is reached at any of its addresses on that port; and
            // localhost:7001 is 127.0.0.1:7001 (a name of its own address resolves: it was just bound).
            if (raft.isWildcard() ? at.port() == raft.port() : at.sameEndpointAs(raft)) {
                return Optional.empty();
            }
        } catch (IllegalArgumentException e) {
            // Not host:port (a membership written by another tool): said as it is below.
        }
        if (mode == StartMode.BOOTSTRAP) {
            return Optional.of("--peers gives " + id + " the address " + recorded + " but --raft-address is " + raft
                    + ": other nodes dial the --peers one");
        }
        return Optional.of("the membership stored in its data directory gives " + id + " the address " + recorded
                + ", where the other members dial it, but --raft-address is " + raft + " (--peers does not change"
                + " the membership of a restarted node): they do not reach it here. Restart it at " + recorded
                + ", or move it: RAFT.REMOVENODE " + id + " on the leader, then RAFT.ADDNODE " + id + " " + raft
                + " (docs/membership.md)");
    }

    /** How this node starts ({@link StartMode}), or why it cannot. */
    private StartMode startMode(boolean holdsState, Map<String, String> peerMap) {
        try {
            return StartMode.decide(holdsState, join, peerMap.containsKey(id), id + "=" + raftAddress);
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    /**
     * Binds the client address once and lets it go, before the data directory is created: a start
     * refused for a port in use leaves no empty directory. Another process may take the port after
     * this check: {@link KvNode} binds it for good before Raft writes anything, so that start fails
     * too, still without the --peers of the failed start becoming the cluster's membership for good.
     */
    private void checkClientAddressFree(HostPort client) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(client.host(), client.port()));
        } catch (IOException | RuntimeException e) {
            throw refused("--client-address: cannot listen for clients on " + client + ": " + bindProblem(e));
        }
    }

    /**
     * Why a port could not be bound, ending in what to do. A port in use is said plainly: Netty's
     * message for it names its native exception class, which tells an operator nothing.
     */
    private static String bindProblem(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).endsWith("Address already in use")) {
                return "Address already in use: another process listens there (is this node already running?);"
                        + " stop it or choose another port. Nothing was changed";
            }
        }
        return e.getMessage() + ". Nothing was changed";
    }

    /**
     * The log is gone but snapshots are still there (the log was deleted or moved, or a disk is not
     * mounted): creating a new log would make this node forget its term and vote. Refused, like the
     * storage refuses a new log beside payload segment files.
     */
    private void refuseNewLogBesideSnapshots(Path data) {
        if (Files.exists(data.resolve("log"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.exists(data.resolve(DataDirIdentity.FILE))) {
            // The identity is recorded only once a node ran here, which creates log/: it was deleted.
            throw refused("--data-dir: " + dataDir + " holds " + DataDirIdentity.FILE + " (a node ran here) but no log in"
                    + " log/: the log was lost or moved, and a new one would make this node forget its term, vote and"
                    + " entries. Restore it, or remove this node from the cluster and add a fresh one under a new id"
                    + " (docs/operations.md). Nothing was changed");
        }
        Path snapshotDir = data.resolve("snapshots");
        if (!Files.isDirectory(snapshotDir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.list(snapshotDir)) {
            if (files.anyMatch(Files::isRegularFile)) {
                throw refused("--data-dir: " + dataDir + " holds snapshots in snapshots/ but no log in log/: the log was"
                        + " lost or moved, and a new one would make this node forget its term and vote. Restore it,"
                        + " or remove this node from the cluster and add a fresh one under a new id"
                        + " (docs/operations.md). Nothing was changed");
            }
        } catch (IOException e) {
            throw refused("--data-dir: cannot list " + snapshotDir + ": " + PathErrors.describe(e));
        }
    }

    private static String linkTarget(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            return "(unreadable: " + PathErrors.describe(e) + ")";
        }
    }

    /** What a node id must be: it is written in --peers lists ("n1=host:port,...") and INFO lines. */
    static final String ID_RULE = "must be non-empty, at most " + ClusterConfig.MAX_ID_LENGTH
            + " characters, without whitespace, control characters, commas or '='";

    /** The core's rule for ids (ClusterConfig.problemWithId), and no separators of the --peers syntax. */
    static boolean isValidId(String id) {
        return ClusterConfig.problemWithId(id).isEmpty()
                && id.chars().noneMatch(ch -> Character.isWhitespace(ch) || ch == ',' || ch == '=');
    }

    /**
     * An id as a message quotes it: control characters escaped (printed as they are, "n\u0001"
     * showed as 'n' in a refusal saying it "must be non-empty"), and a long one cut short.
     */
    static String shownId(String id) {
        StringBuilder sb = new StringBuilder("'");
        id.codePoints().limit(64).forEach(cp -> {
            if (Character.isISOControl(cp)) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        sb.append('\'');
        return id.codePointCount(0, id.length()) > 64 ? sb + " (" + id.length() + " characters)" : sb.toString();
    }

    /** TLS takes the three files or none; the files themselves are read at start. */
    private void checkTlsOptions() {
        List<String> missing = new ArrayList<>();
        if (tlsCert == null) {
            missing.add("--tls-cert");
        }
        if (tlsKey == null) {
            missing.add("--tls-key");
        }
        if (tlsCa == null) {
            missing.add("--tls-ca");
        }
        if (!missing.isEmpty() && missing.size() < 3) {
            throw bad(TLS_OPTIONS + ": give all three for TLS, or none; missing " + String.join(", ", missing));
        }
        if (tlsNoNodeIdCheck && missing.size() == 3) {
            throw bad("--tls-no-node-id-check: only with TLS (" + TLS_OPTIONS + ")");
        }
        if (tlsKeyPasswordFile != null && missing.size() == 3) {
            throw bad("--tls-key-password-file: only with TLS (" + TLS_OPTIONS + "), for an encrypted --tls-key");
        }
    }

    /** Checks every option, naming the bad one. */
    KvNode.Settings validate() {
        if (!isValidId(id)) {
            throw bad("--id: " + shownId(id) + " " + ID_RULE);
        }
        if (clusterId.isBlank()) {
            throw bad("--cluster-id: must be non-empty");
        }
        // The transport's rule, checked here: the transport refused it as it started, and the
        // refusal read "--raft-address: cannot listen on ...", blaming the wrong option.
        Optional<String> clusterIdProblem = ClusterConfig.problemWithId(clusterId);
        if (clusterIdProblem.isPresent()) {
            throw bad("--cluster-id: " + shownId(clusterId) + ": " + clusterIdProblem.get().replace("an id", "a cluster id"));
        }
        checkTlsOptions();
        HostPort raft = address("--raft-address", raftAddress);
        HostPort client = address("--client-address", clientAddress);
        if (raft.equals(client)) {
            throw bad("--client-address: must differ from --raft-address (" + raft + ")");
        }
        HostPort announced = announcedClientAddress(client);
        Map<String, String> peerMap = parsePeers();
        refuseOwnAddress("--dial", idAddresses("--dial", dialOverrides), "--raft-address", raft);
        Map<String, String> forwardMap = idAddresses("--forward-to", forwardTo);
        refuseOwnAddress("--forward-to", forwardMap, "--client-address", client);
        if (!Files.exists(dataDir.resolve("log")) && !Files.exists(dataDir.resolve("snapshots"))) {
            // A new directory holds no state: a node that can neither bootstrap nor join is refused
            // before anything is bound or written. Otherwise the log decides, once it is open.
            startMode(false, peerMap);
        }
        if (tickMillis < 1 || tickMillis > 10_000) {
            throw bad("--tick-ms: " + tickMillis + " is outside 1..10000");
        }
        if (electionTicks < 2 || electionTicks > RaftConfig.MAX_ELECTION_TIMEOUT_TICKS) {
            throw bad("--election-ticks: must be at least 2 and at most " + RaftConfig.MAX_ELECTION_TIMEOUT_TICKS
                    + ", was " + electionTicks);
        }
        if (heartbeatTicks < 1 || heartbeatTicks >= electionTicks) {
            throw bad("--heartbeat-ticks: must be at least 1 and below --election-ticks (" + electionTicks
                    + "), was " + heartbeatTicks);
        }
        if (requestTimeoutMs < 10 || requestTimeoutMs > KvNode.Settings.MAX_TIMEOUT_MS) {
            throw bad("--request-timeout-ms: " + requestTimeoutMs + " is outside 10.." + KvNode.Settings.MAX_TIMEOUT_MS);
        }
        if (maxClients < 1) {
            throw bad("--max-clients: must be positive, was " + maxClients);
        }
        if (maxPipeline < 1) {
            throw bad("--max-pipeline: must be positive, was " + maxPipeline);
        }
        if (maxBulkBytes < 1) {
            throw bad("--max-bulk-bytes: must be positive, was " + maxBulkBytes);
        }
        if (maxRequestBytes < maxBulkBytes) {
            throw bad("--max-request-bytes: must be at least --max-bulk-bytes (" + maxBulkBytes + "), was " + maxRequestBytes);
        }
        if (maxArrayLength < 1) {
            throw bad("--max-array-length: must be positive, was " + maxArrayLength);
        }
        if (maxInlineBytes < 16) {
            throw bad("--max-inline-bytes: must be at least 16, was " + maxInlineBytes);
        }
        if (snapshotEvery < 1) {
            throw bad("--snapshot-every: must be positive, was " + snapshotEvery);
        }
        long maxMemoryBytes;
        try {
            maxMemoryBytes = maxMemory.equalsIgnoreCase("auto") ? Runtime.getRuntime().maxMemory() / 2
                    : MemorySize.parse(maxMemory);
        } catch (IllegalArgumentException e) {
            throw bad("--maxmemory: " + e.getMessage());
        }
        long maxClientInputBytes;
        try {
            maxClientInputBytes = maxClientInput.equalsIgnoreCase("auto") ? ClientInputBudget.defaultLimit()
                    : MemorySize.parse(maxClientInput);
        } catch (IllegalArgumentException e) {
            throw bad("--max-client-input-bytes: " + e.getMessage());
        }
        if (maxClientInputBytes > 0 && maxClientInputBytes < maxRequestBytes && !maxClientInput.equalsIgnoreCase("auto")) {
            // No request at the limit could ever be received: every one would be refused half way.
            throw bad("--max-client-input-bytes: must be 0 (no limit) or at least --max-request-bytes (" + maxRequestBytes
                    + "), was " + maxClientInputBytes);
        }
        Session.ReadMode mode = switch (readMode.toLowerCase(java.util.Locale.ROOT)) {
            case "linearizable" -> Session.ReadMode.LINEARIZABLE;
            case "lease" -> Session.ReadMode.LEASE;
            case "stale" -> Session.ReadMode.STALE;
            default -> throw bad("--read-mode: '" + readMode + "' is not linearizable, lease or stale");
        };
        if (dataDir.toString().isBlank()) {
            throw bad("--data-dir: must name a directory (an empty path would put the data in the working directory)");
        }
        if (Files.isSymbolicLink(dataDir) && !Files.exists(dataDir)) {
            // Never created through the link: on a disk not mounted yet, the data would go to the
            // mount point's directory and be hidden once the disk is mounted (the log's own rule).
            throw refused("--data-dir: " + dataDir + " is a symbolic link to " + linkTarget(dataDir) + ", which does"
                    + " not exist (a disk not mounted?); a data directory is never created through a link. Mount it,"
                    + " create the directory it names, or give a directory. Nothing was changed");
        }
        if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
            throw bad("--data-dir: " + dataDir + " exists and is not a directory");
        }
        // No initial members: they are given only once the log turns out to be empty (StartMode.BOOTSTRAP).
        return KvNode.Settings.defaults(id, Map.of(), client)
                .withTiming(tickMillis, electionTicks, heartbeatTicks)
                .withRequestTimeout(requestTimeoutMs)
                .withClients(maxClients, maxPipeline, new RespLimits(maxBulkBytes, maxArrayLength, maxInlineBytes, maxRequestBytes))
                .withModes(redirect ? Session.FollowerMode.REDIRECT : Session.FollowerMode.FORWARD, mode)
                .withSnapshotEvery(snapshotEvery)
                .withMaxMemory(maxMemoryBytes)
                .withMaxClientInput(maxClientInputBytes)
                .withForwardTo(forwardMap)
                .withAnnouncedClientAddress(announced);
    }

    /**
     * What the node tells clients and peers its RESP front is at: --announce-client-address, or
     * --client-address itself. A wildcard there would be announced as is, and a follower forwarding
     * to "0.0.0.0:6379" reaches a node on its own host, never this one; so it needs an announced address.
     */
    private HostPort announcedClientAddress(HostPort client) {
        if (announceClientAddress == null) {
            if (client.isWildcard()) {
                throw bad("--client-address: " + client + " is the wildcard address, which clients and the other"
                        + " nodes cannot be told to reach: give --announce-client-address HOST:PORT, where they reach"
                        + " this node");
            }
            return null;
        }
        HostPort announced = address("--announce-client-address", announceClientAddress);
        if (announced.isWildcard()) {
            throw bad("--announce-client-address: " + announced + " is the wildcard address: give where clients and"
                    + " the other nodes reach this node");
        }
        return announced;
    }

    private Map<String, String> parsePeers() {
        Map<String, String> map = parseIdAddresses("--peers", peers);
        if (map.isEmpty()) {
            throw bad("--peers: no peers given; expected ID=HOST:PORT,...");
        }
        refuseWildcardAddresses(map);
        refuseSharedAddresses(map);
        return map;
    }

    /**
     * n1=0.0.0.0:7001 went into the membership as n1's address, which every other node then dials:
     * itself. (On one host that reached n1 by accident; across hosts never.) RAFT.ADDNODE refuses
     * it too.
     */
    private void refuseWildcardAddresses(Map<String, String> members) {
        for (Map.Entry<String, String> member : members.entrySet()) {
            String problem = HostPort.problemAsMemberAddress(HostPort.parse(member.getValue()));
            if (problem != null) {
                throw bad("--peers: " + member.getKey() + ": " + problem);
            }
        }
    }

    /**
     * Two voters at one address (a copy-paste slip: n2=127.0.0.1:7001 beside n1=127.0.0.1:7001) made a
     * cluster whose second voter is the first one again: Raft frames meant for n2 reach n1, which
     * refuses them, and a quorum never forms. RAFT.ADDNODE refuses such an address (the core does);
     * the first configuration is refused here the same way, by address as written (no name lookups
     * at start-up, when the other nodes' names may not resolve yet).
     */
    private void refuseSharedAddresses(Map<String, String> members) {
        Map<HostPort, String> owners = new HashMap<>();
        for (Map.Entry<String, String> member : members.entrySet()) {
            HostPort at = HostPort.parse(member.getValue());
            String owner = owners.putIfAbsent(new HostPort(at.host().toLowerCase(Locale.ROOT), at.port()), member.getKey());
            if (owner != null) {
                throw bad("--peers: " + owner + " and " + member.getKey() + " are both at " + at
                        + "; each member needs a Raft address of its own");
            }
        }
    }

    /**
     * Another node given this node's own address (a copy-paste slip) in {@code --dial} or
     * {@code --forward-to}: found in a sweep, a node with --forward-to n1=<its own client address>
     * forwarded every write to itself, answered itself -NOTLEADER, and its clients got only
     * "-TRYAGAIN leader n1 answered NOTLEADER ...", blaming n1. Compared as endpoints (localhost and
     * 127.0.0.1 alike); a name that does not resolve yet is taken as another host.
     */
    private void refuseOwnAddress(String option, Map<String, String> others, String ownOption, HostPort own) {
        for (Map.Entry<String, String> other : others.entrySet()) {
            if (HostPort.parse(other.getValue()).sameEndpointAs(own)) {
                throw bad(option + ": " + other.getKey() + " is given " + other.getValue() + ", which is this node's own "
                        + ownOption + " (" + own + ")");
            }
        }
    }

    /** An optional list of other nodes' addresses ({@code --dial}, {@code --forward-to}). */
    private Map<String, String> idAddresses(String option, String text) {
        Map<String, String> map = parseIdAddresses(option, text);
        if (map.containsKey(id)) {
            throw bad(option + ": " + id + " is this node; list other nodes only");
        }
        return map;
    }

    private Map<String, String> parseIdAddresses(String option, String text) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw bad(option + ": '" + p + "' is not ID=HOST:PORT");
            }
            String peerId = p.substring(0, eq).trim();
            String address = p.substring(eq + 1).trim();
            if (!isValidId(peerId)) {
                // Checked for --peers too: a voter "n 2" or one with a control character was written
                // into the new cluster's membership (or refused by Raft with a stack trace), and no
                // node can ever start under an id --id refuses.
                throw bad(option + ": " + shownId(peerId) + " " + ID_RULE);
            }
            try {
                HostPort.parse(address);
            } catch (IllegalArgumentException e) {
                throw bad(option + ": " + peerId + ": " + e.getMessage());
            }
            if (map.put(peerId, address) != null) {
                throw bad(option + ": " + peerId + " is listed twice");
            }
        }
        return map;
    }

    private HostPort address(String option, String value) {
        try {
            return HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw bad(option + ": " + e.getMessage());
        }
    }

    /** A usage error: a bad option or combination of options. */
    private ParameterException bad(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Options that are fine, but a start that is refused on what was found ({@link StartRefused}). */
    private ParameterException refused(String message) {
        return new StartRefused(spec.commandLine(), message);
    }
}

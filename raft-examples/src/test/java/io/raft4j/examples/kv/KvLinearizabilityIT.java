package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;
import io.raft4j.examples.kv.lin.Excerpt;
import io.raft4j.examples.kv.lin.Op;
import io.raft4j.examples.kv.lin.RegisterChecker;
import io.raft4j.examples.kv.resp.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Jepsen-style: three {@code raft-kv.jar} JVMs whose links all go through proxies the test controls
 * ({@link ProxyNetwork}), clients reading, writing and compare-and-setting a few keys through every
 * node while a {@link Nemesis} partitions the network (blackholes and refusals, both ways and one
 * way), freezes processes with SIGSTOP and kills them with {@code kill -9}. Every answer any node
 * gave must be linearizable: the history of each key is checked with {@link RegisterChecker}, writes
 * of unknown outcome allowed to take effect at any later time or never. Lease reads (some clients
 * use {@code RAFT.READMODE LEASE}) must be linearizable too: the nodes' clocks behave here, and a
 * frozen leader must notice on waking that its lease ran out.
 *
 * <p>What the proxies carry: all Raft traffic (the followers' read-index requests and the
 * snapshots included), and the commands a follower forwards to the leader's client port, with
 * their replies (each node is told {@code --dial} and {@code --forward-to} its proxies): a cut pair
 * can neither exchange Raft messages nor forward. The test's own clients connect to the nodes'
 * client ports directly. The end checks that no node's transport ever moved a peer off its proxy
 * and that forwarding did go through them.
 *
 * <p>Snapshots are frequent ({@link #SNAPSHOT_EVERY}): each node takes one about every second, so
 * many faults overlap one being taken, sent or installed. One fault of each run is a long outage
 * (a node kept down until the others commit {@link #OUTAGE_ENTRIES} entries), after which the node
 * can only be caught up by InstallSnapshot; the snapshots each node took and installed over the run
 * are printed, and a run in which that outage happened yet no node installed one fails.
 *
 * <p>Membership changes too: now and then (at least once a run) a node is removed with
 * {@code RAFT.REMOVENODE}, exits, and is restarted and added back with {@code RAFT.ADDNODE}; each
 * node must end a voter of the same three.
 *
 * <p>At the end the faults are healed and the cluster must serve every node again within a minute
 * (how long it took is printed), then each key is read through each node, into the history.
 *
 * <p>{@code -Draftkv.lin.seconds=N} (default 60) sets how long faults are injected; the whole test
 * then takes about N + 30 s. {@code -Draftkv.lin.seed=S} (default 20261201, printed first and with
 * any failure) picks the faults and the clients' choices; the machine's timing does the rest, so
 * a run is not replayed exactly, but the same seed gives the same schedule of faults. Other seeds,
 * over longer runs, explore more.
 *
 * <p>{@code -Draftkv.lin.mixedSettings=true} runs each node with timing of its own, as during a
 * rolling change of settings ({@link #MIXED_TIMING}), and moves a node to the next timing each time
 * it is restarted: lease reads must stay linearizable with a leader whose election timeout or tick
 * differs from its followers', and across a follower's restart with a shorter timeout.
 */
@Timeout(value = 3, unit = TimeUnit.HOURS) // a hang's bound; longer runs than ~2.5 h need it raised
class KvLinearizabilityIT {
    private static final long SEED = Long.getLong("raftkv.lin.seed", 20261201L);
    private static final int SECONDS = Integer.getInteger("raftkv.lin.seconds", 60);
    private static final boolean MIXED_SETTINGS = Boolean.getBoolean("raftkv.lin.mixedSettings");
    /**
     * With {@link #MIXED_SETTINGS}, each node's timing: the defaults (a 1 s election timeout), one
     * 2.5 times as long, and one of 50 ms ticks and a 0.6 s timeout (each heartbeat interval stays
     * well below every other node's timeout, as configuration.md asks).
     */
    private static final List<List<String>> MIXED_TIMING = List.of(
            List.of(),
            List.of("--election-ticks", "25"),
            List.of("--tick-ms", "50", "--election-ticks", "12"));

    /**
     * Node {@code nK}'s timing at its current start: the K-th of {@link #MIXED_TIMING} first, the next
     * one at each restart, as a rolling change of settings goes; from 2.5 s to 0.6 s the window a node
     * announced before it stopped outlasts its new timeout, which it must still honour.
     */
    private static List<String> timingAt(Node n) {
        int first = Integer.parseInt(n.id.substring(1)) - 1;
        return MIXED_TIMING.get((first + n.starts - 1) % MIXED_TIMING.size());
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
    /** Clients with a home node (two per node), then as many roaming ones (see {@link LinClient}). */
    private static final int CLIENTS = 12;
    private static final int HOMED_CLIENTS = 6;
    /** Few keys: operations on each overlap often, and each key's history stays quick to check. */
    private static final List<String> KEYS = List.of("lin-a", "lin-b", "lin-c", "lin-d", "lin-e");
    /** How long the cluster may take to serve every node again once all faults are healed. */
    private static final long RECOVERY_TIMEOUT_MS = 60_000;
    private static final int FINAL_READER = 1000;
    /**
     * Snapshots every 200 applied entries: every node takes one every second or so under the
     * clients' load, so a snapshot is being taken, sent or installed during most faults.
     */
    private static final long SNAPSHOT_EVERY = 200;
    /**
     * How many entries the long outage's node misses: more than the leader keeps behind its
     * latest snapshot (1,024, RaftConfig.snapshotTrailingEntries, plus up to SNAPSHOT_EVERY since
     * that snapshot), so it can only be caught up by InstallSnapshot.
     */
    private static final long OUTAGE_ENTRIES = 2_000;
    /** A node that answers clients no sooner than this after a fault is healed is named in the report. */
    private static final double SLOW_RECOVERY_SECONDS = 3;

    private KvProcessCluster cluster;
    private ProxyNetwork network;
    private Nemesis nemesis;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> clients = new ArrayList<>();
    private final LinHistory history = new LinHistory();
    private final SnapshotTally snapshots = new SnapshotTally();

    @BeforeEach
    void setUp() throws IOException {
        cluster = KvProcessCluster.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        stopClients();
        if (nemesis != null) {
            nemesis.healAll(); // no frozen process left behind (kill -9 would end it, but say so)
        }
        if (network != null) {
            network.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyAnswerIsLinearizableUnderPartitionsPausesCrashesAndMembershipChanges() throws Exception {
        System.out.println("[KvLinearizabilityIT] seed " + SEED + " (-Draftkv.lin.seed=" + SEED + "), "
                + SECONDS + " s of faults (-Draftkv.lin.seconds)"
                + (MIXED_SETTINGS ? ", nodes timed differently " + MIXED_TIMING : ""));
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 1; i <= 3; i++) {
            List<String> args = new ArrayList<>(List.of("--snapshot-every", Long.toString(SNAPSHOT_EVERY)));
            cluster.add("n" + i, InMemoryKvCluster.freePort(), InMemoryKvCluster.freePort(), false, args);
        }
        List<Node> nodes = new ArrayList<>(cluster.nodes.values());
        network = new ProxyNetwork(nodes);
        cluster.routeArgs = MIXED_SETTINGS ? n -> concat(network.routeArgs(n), timingAt(n)) : network::routeArgs;
        long start = System.nanoTime();
        nemesis = new Nemesis(random.split(), cluster, nodes, network, start, snapshots, OUTAGE_ENTRIES);
        try {
            cluster.startAndAwaitServing(nodes);
            for (int p = 0; p < CLIENTS; p++) {
                Node home = p < HOMED_CLIENTS ? nodes.get(p % nodes.size()) : null;
                // Lease reads through one homed client per node and a third of the roaming ones;
                // the others read linearizably (ReadIndex), the default.
                boolean lease = home != null ? p < nodes.size() : p % 3 == 0;
                startClient(new LinClient(p, nodes, home, KEYS, lease, random.split(), history, running));
            }

            nemesis.run(System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS));
            nemesis.healAll();
            long healed = System.nanoTime();
            awaitServiceThroughEveryNode(nodes);
            long recovered = System.nanoTime();
            log(String.format(Locale.ROOT, "all healed; every node served a write and a read %.1f s later",
                    (recovered - healed) / 1e9));
            // Pacing: some load on the healed cluster, where writes of unknown outcome settle.
            Thread.sleep(3000);
            stopClients();
            readEveryKeyThroughEveryNode(nodes);
            reportNodes(nodes);
            checkEveryNodeIsAVoter(nodes);
            checkRoutes(nodes);
            long installed = reportSnapshots(nodes);

            List<RegisterChecker.Result> violations = check(start);
            reportRecovery(nodes, start, healed, recovered);
            if (!violations.isEmpty()) {
                cluster.printLogs();
                fail("not linearizable (seed " + SEED + "): keys "
                        + violations.stream().map(RegisterChecker.Result::key).toList() + ", excerpts above");
            }
            Nemesis.Outage outage = nemesis.outage();
            if (outage != null && outage.entriesMissed() >= OUTAGE_ENTRIES && installed == 0) {
                fail(outage.node().id + " missed " + outage.entriesMissed() + " entries, more than the leader keeps"
                        + " behind its snapshots, yet no node installed a snapshot (seed " + SEED + ")");
            }
        } catch (Throwable t) {
            System.err.println("[KvLinearizabilityIT] seed " + SEED + " failed after faults: "
                    + nemesis.faults().stream().map(Nemesis.Fault::what).toList());
            throw t;
        }
    }

    /** Checks each key's history; prints the verdicts, and an excerpt for each violation. */
    private List<RegisterChecker.Result> check(long start) {
        RegisterChecker checker = new RegisterChecker();
        Map<String, List<Op>> byKey = new TreeMap<>(history.byKey());
        List<RegisterChecker.Result> violations = new ArrayList<>();
        StringBuilder verdicts = new StringBuilder();
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            long t0 = System.nanoTime();
            RegisterChecker.Result result = checker.check(e.getKey(), e.getValue());
            verdicts.append(String.format(Locale.ROOT, " %s: %d ops %s (%d configurations, %d ms);", e.getKey(),
                    result.opsChecked(), result.verdict(), result.configurations(), (System.nanoTime() - t0) / 1_000_000));
            if (result.verdict() == RegisterChecker.Verdict.NOT_LINEARIZABLE) {
                violations.add(result);
                System.err.println("[KvLinearizabilityIT] VIOLATION, seed " + SEED + ", "
                        + Excerpt.of(result, e.getValue(), start));
            } else if (result.verdict() == RegisterChecker.Verdict.UNKNOWN) {
                // Not a pass: the history was too hard to decide, which must be looked at.
                fail("could not decide key " + e.getKey() + " within the checker's budget (seed " + SEED + ")");
            }
        }
        log("seed " + SEED + ", " + nemesis.faults().size() + " faults; " + history.summary());
        log("checked:" + verdicts);
        List<String> odd = history.oddAnswers();
        if (!odd.isEmpty()) {
            log(odd.size() + " answers of no documented meaning, e.g. " + odd.subList(0, Math.min(5, odd.size())));
        }
        return violations;
    }

    /**
     * How long after each fault was healed every node answered clients again (the longest wait of
     * any node, up to the next fault), the slow recoveries named: a liveness report, not checked.
     */
    private void reportRecovery(List<Node> nodes, long start, long finalHeal, long finalRecovery) {
        double worst = 0;
        StringBuilder slow = new StringBuilder();
        List<Nemesis.Fault> faults = nemesis.faults();
        for (int i = 0; i < faults.size(); i++) {
            Nemesis.Fault f = faults.get(i);
            long until = i + 1 < faults.size() ? faults.get(i + 1).startNanos() : finalHeal;
            for (Node n : nodes) {
                OptionalLong next = history.firstServedAfter(n.id, f.healedAtNanos());
                boolean inTime = next.isPresent() && next.getAsLong() < until;
                double s = ((inTime ? next.getAsLong() : until) - f.healedAtNanos()) / 1e9;
                worst = Math.max(worst, s);
                if (s > SLOW_RECOVERY_SECONDS) {
                    slow.append(String.format(Locale.ROOT, " [+%.1fs %s: %s %s %.1f s]", (f.startNanos() - start) / 1e9,
                            f.what(), n.id, inTime ? "after" : "nothing before the next fault,", s));
                }
            }
        }
        log("faults: " + faults.stream().map(Nemesis.Fault::what).toList());
        log(String.format(Locale.ROOT, "every node answered clients again at most %.1f s after a fault was healed%s;"
                        + " every node served %.1f s after the final heal", worst,
                slow.length() == 0 ? "" : ", slow (over " + SLOW_RECOVERY_SECONDS + " s):" + slow,
                (finalRecovery - finalHeal) / 1e9));
    }

    /**
     * Waits until every node serves again: a linearizable read and a write through each (on a key
     * of its own, not checked), within {@link #RECOVERY_TIMEOUT_MS}: a cluster that stays
     * unavailable once healed fails the test (liveness).
     */
    private void awaitServiceThroughEveryNode(List<Node> nodes) {
        for (Node n : nodes) {
            cluster.awaitServing(n);
        }
        for (Node n : nodes) {
            InMemoryKvCluster.await(n.id + " to serve a write and a read after the heal", RECOVERY_TIMEOUT_MS, () -> {
                try (RespSocket s = new RespSocket(n.clientPort, LinClient.SOCKET_TIMEOUT_MS)) {
                    return s.call("SET", "lin-health-" + n.id, "x").equals(Reply.OK)
                            && s.call("GET", "lin-health-" + n.id) instanceof Reply.Bulk;
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    /** Reads each key through each node (linearizably) into the history: the last word on every write. */
    private void readEveryKeyThroughEveryNode(List<Node> nodes) throws IOException {
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            try (RespSocket s = new RespSocket(n.clientPort, LinClient.SOCKET_TIMEOUT_MS)) {
                for (String key : KEYS) {
                    long invoke = System.nanoTime();
                    Reply r = KvProcessCluster.callRetrying(s, "GET", key);
                    long complete = System.nanoTime();
                    String value = r instanceof Reply.Bulk b && b.value() != null ? RespSocket.text(r) : null;
                    history.add(Op.read(FINAL_READER + i, key, value, invoke, complete).withNote(n.id + " final read"));
                }
            }
        }
    }

    /** What the faults did to each node, from its counters (since its last start). */
    private void reportNodes(List<Node> nodes) throws IOException {
        for (Node n : nodes) {
            String info = KvProcessCluster.info(n);
            StringBuilder sb = new StringBuilder(n.id + ":");
            for (String field : List.of("term", "elections_started", "terms_led", "commit_index", "snapshot_index",
                    "reads_served", "reads_given_up")) {
                sb.append(' ').append(field).append('=').append(KvProcessCluster.infoField(info, field));
            }
            log(sb.toString() + " (since its last start, of " + n.starts + ")");
        }
    }

    /** The membership faults left the cluster as it began: each node a voter, by its own account. */
    private void checkEveryNodeIsAVoter(List<Node> nodes) throws IOException {
        List<String> ids = nodes.stream().map(n -> n.id).sorted().toList();
        for (Node n : nodes) {
            String info = KvProcessCluster.info(n);
            List<String> voters = List.of(KvProcessCluster.infoField(info, "voters").split(",")).stream().sorted().toList();
            if (!voters.equals(ids) || !KvProcessCluster.infoField(info, "joint").equals("no")) {
                fail(n.id + " ends with voters " + voters + " (joint: " + KvProcessCluster.infoField(info, "joint")
                        + "), not " + ids);
            }
        }
    }

    /**
     * The cuts were what they say: no node's transport ever moved a peer to another address (to the
     * one the membership records, e.g. on installing a snapshot: it would dial around its proxies
     * then), and the followers' forwarding went through the proxies (a cut pair cannot forward).
     */
    private void checkRoutes(List<Node> nodes) {
        for (Node n : nodes) {
            for (Path log : n.logs()) {
                String moved = KvProcessCluster.firstLine(log, " moved from ");
                if (moved != null) {
                    fail(n.id + " dialled a peer at another address than through its proxy: " + moved);
                }
            }
        }
        Map<String, Integer> forwarding = network.forwardingConnections();
        log("forwarding connections through the proxies: " + forwarding);
        if (forwarding.values().stream().mapToInt(Integer::intValue).sum() == 0) {
            fail("no node forwarded through its proxies: the forwarding went around them");
        }
    }

    /** Prints each node's snapshots taken and installed over the run; returns how many were installed. */
    private long reportSnapshots(List<Node> nodes) throws IOException {
        Map<Node, SnapshotTally.Counts> totals = snapshots.totals(nodes);
        StringBuilder sb = new StringBuilder("snapshots over the run (taken/installed):");
        totals.forEach((n, c) -> sb.append(' ').append(n.id).append('=').append(c.taken()).append('/').append(c.installed()));
        if (snapshots.lost() > 0) {
            sb.append(" (at least: the counts of ").append(snapshots.lost()).append(" killed starts were lost)");
        }
        Nemesis.Outage outage = nemesis.outage();
        if (outage != null) {
            sb.append(String.format(Locale.ROOT, "; the long outage of %s: %d entries missed, caught up in %.1f s, %d"
                    + " snapshot(s) installed", outage.node().id, outage.entriesMissed(), outage.catchUpSeconds(),
                    outage.snapshotsInstalled()));
        }
        log(sb.toString());
        return totals.values().stream().mapToLong(SnapshotTally.Counts::installed).sum();
    }

    private void startClient(LinClient client) {
        Thread t = new Thread(client, "lin-client-" + clients.size());
        t.setDaemon(true);
        clients.add(t);
        t.start();
    }

    private void stopClients() throws InterruptedException {
        running.set(false);
        for (Thread t : clients) {
            t.join(2L * LinClient.SOCKET_TIMEOUT_MS);
        }
    }

    private static void log(String what) {
        System.out.println("[KvLinearizabilityIT] " + what);
    }
}

package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

import static io.raft4j.examples.kv.RespSocket.text;

/**
 * The faults of {@link KvLinearizabilityIT}, one at a time, chosen by a seeded random: a node (or
 * the leader) cut off from the others, with its connections blackholed (kept open, nothing passes:
 * the case where nobody is told) or refused; one pair cut (the third node still reaches both); the
 * leader unable to send, or to hear, in one direction only; a node or the leader frozen with
 * SIGSTOP, sometimes past the election timeout, then woken; a node or the leader killed with
 * {@code kill -9} and restarted on its data directory. Each fault lasts a few seconds, is healed,
 * and the cluster gets a moment to recover under load before the next.
 *
 * <p>One fault of every run, early on (the second to fourth), is a long outage: a node killed and
 * kept down until the others have committed {@code outageEntries} more entries, enough for the
 * leader to have compacted its log past the dead node's end (see {@link KvLinearizabilityIT}), so
 * that the node, restarted, must be caught up by InstallSnapshot. The short faults may need one too,
 * but not reliably.
 *
 * <p>Now and then (at least once a run, soon after the long outage) a node is removed from the
 * cluster and, after a few seconds, added back ({@link MembershipChanges}): the history must stay
 * linearizable through both changes, and the cluster end with all three nodes serving. Like every
 * fault here, it runs alone: no other fault is in effect meanwhile.
 *
 * <p>The seed picks the faults, their targets and durations; the timing of everything else is the
 * machine's, so a seed does not replay a run exactly.
 */
final class Nemesis {
    /** A fault injected and healed, for the report: what, when it began and when it was healed. */
    record Fault(String what, long startNanos, long healedAtNanos) {
    }

    private final SplittableRandom random;
    private final KvProcessCluster cluster;
    private final List<Node> nodes;
    private final ProxyNetwork network;
    private final long startNanos;
    private final SnapshotTally snapshots;
    private final long outageEntries;
    /** Which fault (0-based) is the long outage. */
    private final int outageAt;
    /** Which fault is surely a membership change (others may be, by chance). */
    private final int membershipAt;
    private final MembershipChanges membership;
    private final List<Fault> faults = new ArrayList<>();
    private final Set<Node> paused = new HashSet<>();
    /** What the long outage's node reported once caught up; null until it ran. */
    private volatile Outage outage;

    /** The long outage, once its node caught up again. */
    record Outage(Node node, long entriesMissed, long snapshotsInstalled, double catchUpSeconds) {
    }

    Nemesis(SplittableRandom random, KvProcessCluster cluster, List<Node> nodes, ProxyNetwork network, long startNanos,
            SnapshotTally snapshots, long outageEntries) {
        this.random = random;
        this.cluster = cluster;
        this.nodes = nodes;
        this.network = network;
        this.startNanos = startNanos;
        this.snapshots = snapshots;
        this.outageEntries = outageEntries;
        this.outageAt = 1 + random.nextInt(3);
        this.membershipAt = outageAt + 1 + random.nextInt(2);
        this.membership = new MembershipChanges(cluster, nodes);
    }

    /** The long outage, if the run lasted long enough for it. */
    Outage outage() {
        return outage;
    }

    List<Fault> faults() {
        return List.copyOf(faults);
    }

    /** Injects faults, one after another, until {@code deadlineNanos}. */
    void run(long deadlineNanos) throws Exception {
        while (System.nanoTime() < deadlineNanos) {
            long start = System.nanoTime();
            String what = injectOne();
            faults.add(new Fault(what, start, System.nanoTime()));
            // Pacing: the cluster recovers under the clients' load before the next fault.
            sleepMillis(1000 + random.nextInt(2000));
        }
    }

    /** Ends whatever is still in effect: the network healed, every node running. */
    void healAll() throws Exception {
        network.heal();
        for (Node n : new ArrayList<>(paused)) {
            n.resume();
            paused.remove(n);
        }
        for (Node n : nodes) {
            if (!n.alive()) {
                n.start();
            }
        }
    }

    /** One fault, held for its duration and healed; returns what it was. */
    private String injectOne() throws Exception {
        if (faults.size() == outageAt) {
            return longOutage();
        }
        boolean change = random.nextDouble() < 0.1;
        if (faults.size() == membershipAt || change) {
            return removeAndAddBack();
        }
        double d = random.nextDouble();
        long holdMs = 1000 + random.nextInt(5000); // the election timeout is 1-2 s: some last past several
        Link.Mode mode = random.nextBoolean() ? Link.Mode.BLACKHOLE : Link.Mode.REFUSE;
        String what;
        if (d < 0.25) {
            Target victim = leaderOrRandom();
            what = "isolate " + victim + " (" + mode(mode) + ")";
            log(what + " for " + holdMs + " ms");
            network.isolate(victim.node(), nodes, mode);
            sleepMillis(holdMs);
            network.heal();
        } else if (d < 0.35) {
            Target a = leaderOrRandom();
            Node b = otherThan(a.node());
            what = "cut " + a + " <-> " + b.id + " (" + mode(mode) + "), " + otherThan(a.node(), b).id + " reaches both";
            log(what + " for " + holdMs + " ms");
            network.cutBoth(a.node(), b, mode);
            sleepMillis(holdMs);
            network.heal();
        } else if (d < 0.5) {
            Target target = leader();
            Node leader = target.node();
            boolean mute = random.nextBoolean();
            what = (mute ? "mute " : "deafen ") + target + " (blackhole, one way: it "
                    + (mute ? "hears the others, they do not hear it" : "is heard, hears nothing") + ")";
            log(what + " for " + holdMs + " ms");
            for (Node other : nodes) {
                if (other != leader) {
                    network.cut(mute ? leader : other, mute ? other : leader, Link.Mode.BLACKHOLE);
                }
            }
            sleepMillis(holdMs);
            network.heal();
        } else if (d < 0.75) {
            Target target = leaderOrRandom();
            Node victim = target.node();
            long pauseMs = 300 + random.nextInt(4000);
            what = "SIGSTOP " + target + " for " + pauseMs + " ms";
            log(what);
            victim.pause();
            paused.add(victim);
            sleepMillis(pauseMs);
            victim.resume();
            paused.remove(victim);
        } else {
            Target target = leaderOrRandom();
            Node victim = target.node();
            long downMs = random.nextInt(3000);
            what = "kill -9 " + target + ", restarted " + downMs + " ms later";
            log(what);
            snapshots.bankBeforeKill(victim);
            victim.kill9();
            sleepMillis(downMs);
            victim.start();
            cluster.awaitServing(victim);
        }
        log("healed");
        return what;
    }

    /**
     * Kills a node and keeps it down while the others commit {@link #outageEntries} entries (or for
     * at most a minute: the report then says how many), restarts it and waits for it to catch up.
     */
    private String longOutage() throws Exception {
        Target target = leaderOrRandom();
        Node victim = target.node();
        log("long outage: kill -9 " + target + " until the others commit " + outageEntries + " more entries");
        long from = othersCommitIndex(victim);
        snapshots.bankBeforeKill(victim);
        victim.kill9();
        long downAt = System.nanoTime();
        try {
            InMemoryKvCluster.await(outageEntries + " entries committed without " + victim.id, 60_000,
                    () -> othersCommitIndex(victim) >= from + outageEntries);
        } catch (AssertionError e) {
            log("the others did not commit " + outageEntries + " entries within 60 s; restarting " + victim.id + " anyway");
        }
        long missed = othersCommitIndex(victim) - from;
        String what = String.format(Locale.ROOT, "long outage: kill -9 %s, restarted %.1f s and %d committed entries later",
                target, (System.nanoTime() - downAt) / 1e9, missed);
        log(what);
        victim.start();
        long restarted = System.nanoTime();
        cluster.awaitServing(victim);
        long catchUpTo = othersCommitIndex(victim);
        InMemoryKvCluster.await(victim.id + " to catch up after its outage", 60_000, () -> {
            try {
                return Long.parseLong(KvProcessCluster.infoField(KvProcessCluster.info(victim), "applied_index")) >= catchUpTo;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        });
        double catchUp = (System.nanoTime() - restarted) / 1e9;
        long installed = SnapshotTally.read(victim).installed();
        outage = new Outage(victim, missed, installed, catchUp);
        log(String.format(Locale.ROOT, "%s caught up %.1f s after its restart, %s", victim.id, catchUp,
                installed > 0 ? "by InstallSnapshot (" + installed + " installed)" : "by log entries alone"));
        return what;
    }

    /** Removes a node (or the leader) from the cluster, and some seconds later adds it back. */
    private String removeAndAddBack() throws Exception {
        Target target = leaderOrRandom();
        Node victim = target.node();
        long outMs = 1000 + random.nextInt(4000);
        log("RAFT.REMOVENODE " + target + ", added back " + outMs + " ms after it exits");
        snapshots.bankBeforeKill(victim);
        String removed = membership.remove(victim);
        long exited = System.nanoTime();
        log(victim.id + " removed (" + removed + ") and exited");
        sleepMillis(outMs);
        String added = membership.addBack(victim);
        log(String.format(Locale.ROOT, "%s added back (%s), serving %.1f s after it exited", victim.id, added,
                (System.nanoTime() - exited) / 1e9));
        return "remove " + target + ", add it back " + outMs + " ms after it exited";
    }

    /** The highest commit index the live, unfrozen nodes other than {@code not} report (0 if none answers). */
    private long othersCommitIndex(Node not) {
        long best = 0;
        for (Node n : nodes) {
            if (n == not || !n.alive() || paused.contains(n)) {
                continue;
            }
            try {
                best = Math.max(best, Long.parseLong(KvProcessCluster.infoField(KvProcessCluster.info(n), "commit_index")));
            } catch (IOException | RuntimeException e) {
                // not answering now
            }
        }
        return best;
    }

    /** A node a fault is aimed at, named "leader n2" if it led when chosen. */
    private record Target(Node node, boolean leader) {
        @Override
        public String toString() {
            return (leader ? "leader " : "") + node.id;
        }
    }

    /** The leader or, as often, a random node (which may be the leader too). */
    private Target leaderOrRandom() {
        if (random.nextBoolean()) {
            return leader();
        }
        return new Target(randomNode(), false);
    }

    /**
     * The node that says it leads (the one with the highest term if, during a fault, two do), or a
     * random node if none does within a few seconds; a frozen or dead node is not asked.
     */
    private Target leader() {
        Node[] found = new Node[1];
        try {
            InMemoryKvCluster.await("a leader", 3000, () -> (found[0] = askForLeader()) != null);
        } catch (AssertionError e) {
            return new Target(randomNode(), false); // e.g. right after a fault: aim at anyone
        }
        return new Target(found[0], true);
    }

    private Node askForLeader() {
        Node best = null;
        long bestTerm = -1;
        for (Node n : nodes) {
            if (!n.alive() || paused.contains(n)) {
                continue;
            }
            try (RespSocket s = new RespSocket(n.clientPort, 1000)) {
                String info = text(s.call("INFO", "raft"));
                long term = Long.parseLong(KvProcessCluster.infoField(info, "term"));
                if (KvProcessCluster.infoField(info, "role").equals("leader") && term > bestTerm) {
                    best = n;
                    bestTerm = term;
                }
            } catch (IOException | RuntimeException e) {
                // not answering now: not a leader we can name
            }
        }
        return best;
    }

    private Node randomNode() {
        return nodes.get(random.nextInt(nodes.size()));
    }

    private Node otherThan(Node... excluded) {
        List<Node> others = new ArrayList<>(nodes);
        others.removeAll(List.of(excluded));
        return others.get(random.nextInt(others.size()));
    }

    private static String mode(Link.Mode mode) {
        return mode == Link.Mode.BLACKHOLE ? "blackhole" : "refused";
    }

    private double seconds(long nanos) {
        return (nanos - startNanos) / 1e9;
    }

    private void log(String what) {
        System.out.printf(Locale.ROOT, "[KvLinearizabilityIT] +%.3fs %s%n", seconds(System.nanoTime()), what);
    }

    /** The nemesis's deliberate waits: how long a fault lasts, and the pause between faults. */
    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}

package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How many snapshots each node took and installed over a whole run. A node counts them in memory
 * ({@code INFO}'s {@code snapshots_taken}, {@code snapshots_installed}), from 0 at each start: what
 * a node counted is banked here just before it is killed, and the count of its last start added at
 * the end. A node that does not answer just before its kill loses that start's count (said in
 * {@link #lost}): the totals are then lower bounds.
 */
final class SnapshotTally {
    /** Counts of one node, e.g. over its earlier starts. */
    record Counts(long taken, long installed) {
        Counts plus(Counts other) {
            return new Counts(taken + other.taken, installed + other.installed);
        }
    }

    private final Map<Node, Counts> banked = new LinkedHashMap<>();
    private int lost;

    /** Banks what {@code node} counted since it started; call just before killing it. */
    synchronized void bankBeforeKill(Node node) {
        try {
            banked.merge(node, read(node), Counts::plus);
        } catch (IOException | RuntimeException e) {
            lost++;
        }
    }

    /** Each node's counts over the whole run: banked, plus its current start's. */
    synchronized Map<Node, Counts> totals(List<Node> nodes) throws IOException {
        Map<Node, Counts> totals = new LinkedHashMap<>();
        for (Node n : nodes) {
            totals.put(n, banked.getOrDefault(n, new Counts(0, 0)).plus(read(n)));
        }
        return totals;
    }

    /** Starts whose counts were lost (the node did not answer before its kill). */
    synchronized int lost() {
        return lost;
    }

    static Counts read(Node node) throws IOException {
        String info = KvProcessCluster.info(node);
        return new Counts(Long.parseLong(KvProcessCluster.infoField(info, "snapshots_taken")),
                Long.parseLong(KvProcessCluster.infoField(info, "snapshots_installed")));
    }
}

package io.raft4j.examples.kv;

import io.raft4j.NodeStatus;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.SnapshotStore;

import java.util.TreeSet;

/**
 * How a node starts. What its data directory holds decides first: a node with a log or a snapshot
 * restarts from them, whatever {@code --join} and {@code --peers} say (its membership is in its
 * log, and Raft ignores initial members once there is state). Only a node without state bootstraps
 * a cluster from {@code --peers} or, with {@code --join}, waits to be added.
 */
enum StartMode {
    /** The data directory holds state: the node goes on from it. */
    RESTART,
    /** No state, no {@code --join}: the node writes {@code --peers} as the cluster's first configuration. */
    BOOTSTRAP,
    /** No state and {@code --join}: the node waits for a leader to add it. */
    JOIN;

    /**
     * @param holdsState       whether the data directory holds a log or a snapshot ({@link #holdsState})
     * @param peersIncludeSelf whether {@code --peers} lists this node
     * @param self             this node as {@code --peers} would list it, for the message
     * @throws IllegalArgumentException for a node without state that could neither bootstrap nor join
     */
    static StartMode decide(boolean holdsState, boolean join, boolean peersIncludeSelf, String self) {
        if (holdsState) {
            return RESTART;
        }
        if (join) {
            return JOIN;
        }
        if (!peersIncludeSelf) {
            throw new IllegalArgumentException("--peers: must include this node (" + self + ") to bootstrap a cluster; use --join"
                    + " for a node that is added later (a node whose data directory holds state restarts from it"
                    + " whatever --peers says)");
        }
        return BOOTSTRAP;
    }

    /**
     * Whether the log has anything (entries, a compaction point, a term or vote) or there is a
     * snapshot: the same test by which Raft decides that initial members no longer apply, plus
     * the snapshots, so a node is never told to bootstrap over a state it already has.
     */
    static boolean holdsState(LogStorage log, SnapshotStore snapshots) {
        return log.lastIndex() > 0 || log.firstIndex() > 1 || log.hardState().term() > 0
                || snapshots.latest().isPresent();
    }

    /** The start-up log line's account of what this node does, from its status once built. */
    String describe(NodeStatus status, HostPort raftAddress) {
        String id = status.nodeId();
        String waiting = "waiting to be added: RAFT.ADDNODE " + id + " " + raftAddress + " on the leader";
        return switch (this) {
            case BOOTSTRAP -> "bootstrapping a new cluster with voters " + members(status.config()) + " (--peers)";
            case JOIN -> "new node, " + waiting;
            case RESTART -> {
                String from = "restarting from its data directory (term " + status.term() + ", log up to "
                        + status.lastIndex() + "); the membership is the stored one, --peers and --join do not change it";
                yield status.config().isMember(id)
                        ? from + ": members " + members(status.config())
                        : from + "; not a member of " + members(status.config()) + " yet, " + waiting;
            }
        };
    }

    private static String members(ClusterConfig config) {
        return new TreeSet<>(config.allMembers()).toString();
    }
}

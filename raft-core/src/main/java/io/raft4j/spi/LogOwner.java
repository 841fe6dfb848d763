package io.raft4j.spi;

import java.util.Objects;

/**
 * The node a {@link LogStorage} belongs to: its group and its id. A log, its term and its vote are
 * one node's own; given to another node they would let that node vote twice in a term, so the
 * runtime records the owner in a new store and refuses to start a node on a store that another
 * one owns.
 *
 * @param groupId the Raft group
 * @param nodeId  the node's id in that group
 */
public record LogOwner(String groupId, String nodeId) {
    public LogOwner {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(nodeId, "nodeId");
    }

    @Override
    public String toString() {
        return "node " + nodeId + " of group " + groupId;
    }
}

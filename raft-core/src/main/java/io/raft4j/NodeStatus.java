package io.raft4j;

import io.raft4j.core.Role;
import io.raft4j.message.ClusterConfig;

/**
 * A snapshot of a node's state, for monitoring and admin commands.
 *
 * @param nodeId       this node
 * @param role         its role
 * @param term         its current term
 * @param leaderId     the leader it knows of, or {@code null}
 * @param commitIndex  highest index known committed
 * @param appliedIndex highest index applied to the state machine
 * @param lastIndex    last index in the log
 * @param config       the configuration in force
 * @param bootstrapFingerprint the fingerprint of the bootstrap its group comes from, the same on
 *                     every member of one group (see {@link io.raft4j.message.HardState#bootstrapFingerprint()});
 *                     0 while unknown
 */
public record NodeStatus(String nodeId, Role role, long term, String leaderId, long commitIndex,
                         long appliedIndex, long lastIndex, ClusterConfig config, long bootstrapFingerprint) {

    /** A status with no bootstrap fingerprint known. */
    public NodeStatus(String nodeId, Role role, long term, String leaderId, long commitIndex, long appliedIndex,
                      long lastIndex, ClusterConfig config) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, lastIndex, config, 0);
    }
}

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
 */
public record NodeStatus(String nodeId, Role role, long term, String leaderId, long commitIndex,
                         long appliedIndex, long lastIndex, ClusterConfig config) {
}

package io.raft4j.core;

import io.raft4j.message.ClusterConfig;

import java.util.Set;
import java.util.TreeSet;

/**
 * Which configuration entries a membership change needs (Raft §6), as pure functions: a change of
 * at most one voter goes in one step, since any majority of the old voters then overlaps any
 * majority of the new ones; anything else goes through a joint configuration.
 */
final class MembershipPlanner {
    private MembershipPlanner() {
    }

    /** Whether going from {@code current} to {@code target} changes more than one voter. */
    static boolean needsJoint(ClusterConfig current, ClusterConfig target) {
        Set<String> added = new TreeSet<>(target.voters());
        added.removeAll(current.voters());
        Set<String> removed = new TreeSet<>(current.voters());
        removed.removeAll(target.voters());
        return added.size() + removed.size() > 1;
    }

    /** The first configuration entry to append for the change: {@code target}, or C_old,new. */
    static ClusterConfig firstStep(ClusterConfig current, ClusterConfig target) {
        return needsJoint(current, target)
                ? new ClusterConfig(target.voters(), target.learners(), current.voters(), target.addresses())
                : target;
    }

    /** C_new: the joint configuration's incoming half alone. */
    static ClusterConfig leaveJoint(ClusterConfig joint) {
        return new ClusterConfig(joint.voters(), joint.learners(), Set.of(), joint.addresses());
    }
}

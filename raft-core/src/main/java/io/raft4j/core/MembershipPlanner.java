package io.raft4j.core;

import io.raft4j.message.ClusterConfig;

import java.util.HashMap;
import java.util.Map;
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

    /** The voters of {@code current} that {@code target} makes learners, sorted. */
    static Set<String> votersMadeLearners(ClusterConfig current, ClusterConfig target) {
        Set<String> demoted = new TreeSet<>(target.learners());
        demoted.retainAll(current.voters());
        return demoted;
    }

    /**
     * The first configuration entry to append for the change: {@code target}, or C_old,new, which
     * keeps the outgoing voters' addresses (they still vote, so they must still be reached).
     */
    static ClusterConfig firstStep(ClusterConfig current, ClusterConfig target) {
        if (!needsJoint(current, target)) {
            return target;
        }
        Map<String, String> addresses = new HashMap<>();
        for (String outgoing : current.voters()) {
            String address = current.addresses().get(outgoing);
            if (address != null) {
                addresses.put(outgoing, address);
            }
        }
        addresses.putAll(target.addresses()); // a member that stays may move
        return new ClusterConfig(target.voters(), target.learners(), current.voters(), addresses);
    }

    /** C_new: the joint configuration's incoming half alone, with the addresses of its members only. */
    static ClusterConfig leaveJoint(ClusterConfig joint) {
        Map<String, String> addresses = new HashMap<>(joint.addresses());
        addresses.keySet().removeIf(id -> !joint.voters().contains(id) && !joint.learners().contains(id));
        return new ClusterConfig(joint.voters(), joint.learners(), Set.of(), addresses);
    }
}

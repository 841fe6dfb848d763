package io.raft4j;

import io.raft4j.message.ClusterConfig;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** The target configurations of the single-member admin operations, as pure functions. */
final class MembershipEdits {
    private MembershipEdits() {
    }

    static ClusterConfig addLearner(ClusterConfig c, String id, String address) {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("a member id must not be blank");
        }
        if (c.isMember(id)) {
            throw new MembershipChangeException(id + " is already a member");
        }
        for (Map.Entry<String, String> e : c.addresses().entrySet()) {
            if (address != null && !address.isEmpty() && address.equals(e.getValue())) {
                // Found by an operator: accepted, it made the member there refuse every frame meant for the newcomer.
                throw new MembershipChangeException("address " + address + " is already " + e.getKey()
                        + "'s: two members cannot share one");
            }
        }
        Map<String, String> addresses = new HashMap<>(c.addresses());
        addresses.put(id, address);
        return new ClusterConfig(c.voters(), with(c.learners(), id), Set.of(), addresses);
    }

    /**
     * {@link #addLearner}, or {@code c} itself if {@code id} is already a member at {@code address}
     * (a retried add: proposing {@code c} again then confirms it is committed).
     */
    static ClusterConfig addLearnerUnlessAdded(ClusterConfig c, String id, String address) {
        if (c.isMember(id) && Objects.equals(address, c.addresses().getOrDefault(id, ""))) {
            return c;
        }
        if (c.isMember(id)) {
            throw new MembershipChangeException(id + " is already a member at " + c.addresses().get(id)
                    + ", not " + address);
        }
        return addLearner(c, id, address);
    }

    static ClusterConfig promote(ClusterConfig c, String id) {
        if (!c.learners().contains(id)) {
            throw new MembershipChangeException(id + " is not a learner");
        }
        return new ClusterConfig(with(c.voters(), id), without(c.learners(), id), Set.of(), c.addresses());
    }

    static ClusterConfig remove(ClusterConfig c, String id) {
        if (!c.isMember(id)) {
            throw new MembershipChangeException(id + " is not a member");
        }
        Map<String, String> addresses = new HashMap<>(c.addresses());
        addresses.remove(id);
        return new ClusterConfig(without(c.voters(), id), without(c.learners(), id), Set.of(), addresses);
    }

    private static Set<String> with(Set<String> set, String id) {
        Set<String> copy = new TreeSet<>(set);
        copy.add(id);
        return copy;
    }

    private static Set<String> without(Set<String> set, String id) {
        Set<String> copy = new TreeSet<>(set);
        copy.remove(id);
        return copy;
    }
}

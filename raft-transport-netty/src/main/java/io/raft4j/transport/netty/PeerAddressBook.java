package io.raft4j.transport.netty;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which address each peer id has: the one the group that announced it last gave, otherwise the
 * configured one. Node ids are the transport's, so groups may disagree on an id (a node that moved,
 * updated group by group); the freshest news wins, whatever the hash order of the groups.
 *
 * <p>An announcement or a retirement costs work in proportion to that group's members (and a
 * logarithm of the groups naming each), never to the number of groups: a process starting G groups
 * announces G times. Not thread-safe: the transport calls it under its lock.
 */
final class PeerAddressBook {
    /** A group's last announcement, numbered in the order announcements came. */
    private record Announcement(long sequence, Map<String, String> addresses) {
    }

    /** Reports that a group gave an id another address than the group that spoke before it. */
    interface Disagreement {
        void report(String id, String address, String earlier);
    }

    private final Map<String, String> configured;
    private final Map<String, Announcement> byGroup = new HashMap<>();
    /** Per id, the addresses groups gave it by announcement number: the last entry wins. */
    private final Map<String, NavigableMap<Long, String>> claims = new HashMap<>();
    private long sequence;
    private long claimsVisited;

    PeerAddressBook(Map<String, String> configured) {
        this.configured = Map.copyOf(configured);
    }

    /**
     * Takes {@code addresses} as {@code groupId}'s members, replacing what it announced before.
     *
     * @return the ids whose address may have changed (gained, lost or moved)
     */
    Set<String> announce(String groupId, Map<String, String> addresses, Disagreement disagreement) {
        Set<String> touched = withdraw(groupId);
        long number = ++sequence;
        addresses.forEach((id, address) -> {
            claimsVisited++;
            NavigableMap<Long, String> forId = claims.computeIfAbsent(id, i -> new TreeMap<>());
            Map.Entry<Long, String> earlier = forId.lastEntry();
            if (earlier != null && !earlier.getValue().equals(address)) {
                disagreement.report(id, address, earlier.getValue());
            }
            forId.put(number, address);
            touched.add(id);
        });
        byGroup.put(groupId, new Announcement(number, Map.copyOf(addresses)));
        return touched;
    }

    /**
     * Forgets what {@code groupId} announced (no local node hosts it any more).
     *
     * @return the ids whose address may have changed
     */
    Set<String> retire(String groupId) {
        return withdraw(groupId);
    }

    private Set<String> withdraw(String groupId) {
        Set<String> touched = new HashSet<>();
        Announcement previous = byGroup.remove(groupId);
        if (previous != null) {
            previous.addresses().keySet().forEach(id -> {
                claimsVisited++;
                NavigableMap<Long, String> forId = claims.get(id);
                forId.remove(previous.sequence());
                if (forId.isEmpty()) {
                    claims.remove(id);
                }
                touched.add(id);
            });
        }
        return touched;
    }

    /** The address of {@code id}, or {@code null} if neither a group nor the configuration gives one. */
    String addressOf(String id) {
        NavigableMap<Long, String> forId = claims.get(id);
        return forId != null ? forId.lastEntry().getValue() : configured.get(id);
    }

    /** Announced addresses added or withdrawn so far (tests: the work announcements do). */
    long claimsVisited() {
        return claimsVisited;
    }
}

package io.raft4j.examples.kv;

import io.raft4j.message.RaftMessage;
import io.raft4j.spi.EventLoop;
import io.raft4j.spi.Transport;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A transport that dials some members at addresses of this node's own ({@code --dial}), whatever
 * the cluster's configuration records for them. The configuration is replicated, so it holds one
 * address per member, the same on every node (the one {@code --peers} or {@code RAFT.ADDNODE} gave
 * it, carried on by log entries and snapshots); a node that reaches a peer some other way (NAT, a
 * tunnel, a proxy of its own) needs that address to win over the configuration's, and to go on
 * winning when a snapshot or a membership change announces the configuration's again.
 *
 * <p>Only what the node dials changes: members are still the configuration's, and only the
 * configuration's members are dialled (an override for a node that is not one is not used).
 */
final class DialOverrides implements Transport {
    private final Transport transport;
    private final Map<String, String> overrides;

    DialOverrides(Transport transport, Map<String, String> overrides) {
        this.transport = transport;
        this.overrides = Map.copyOf(overrides);
    }

    /** {@code addresses} with the overridden members' addresses replaced (a new, mutable map). */
    static Map<String, String> apply(Map<String, String> overrides, Map<String, String> addresses) {
        Map<String, String> dialled = new LinkedHashMap<>(addresses);
        dialled.replaceAll((id, address) -> overrides.getOrDefault(id, address));
        return dialled;
    }

    @Override
    public void updatePeers(String groupId, Map<String, String> addresses) {
        transport.updatePeers(groupId, apply(overrides, addresses));
    }

    @Override
    public void register(String groupId, String localId, Inbound inbound) {
        transport.register(groupId, localId, inbound);
    }

    @Override
    public void unregister(String groupId, String localId) {
        transport.unregister(groupId, localId);
    }

    @Override
    public void send(RaftMessage message) {
        transport.send(message);
    }

    @Override
    public long maxMessageBytes() {
        return transport.maxMessageBytes();
    }

    @Override
    public Optional<String> problemWithAddress(String address) {
        return transport.problemWithAddress(address);
    }

    @Override
    public EventLoop eventLoopFor(String groupId, String localId) {
        return transport.eventLoopFor(groupId, localId);
    }
}

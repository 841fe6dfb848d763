package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Raft network between the nodes of a {@link KvProcessCluster}, with a {@link LinkProxy} on
 * every directed pair, so that any link can be cut, in one direction or both, and healed. Install
 * it ({@link #dialAddress}) before the nodes first start: a node dials the addresses its first
 * start's {@code --peers} gave it, kept in its log.
 */
final class ProxyNetwork implements AutoCloseable {
    private final Map<String, Link> links = new LinkedHashMap<>();
    private final Map<String, LinkProxy> proxies = new LinkedHashMap<>();

    ProxyNetwork(List<Node> nodes) throws IOException {
        for (Node a : nodes) {
            for (Node b : nodes) {
                if (a != b) {
                    links.put(a.id + ">" + b.id, new Link(a.id, b.id));
                }
            }
        }
        for (Node a : nodes) {
            for (Node b : nodes) {
                if (a != b) {
                    proxies.put(a.id + ">" + b.id, new LinkProxy(link(a, b), link(b, a), b.raftPort));
                }
            }
        }
    }

    /** Where {@code from} is to dial {@code to}: its proxy. */
    String dialAddress(Node from, Node to) {
        return "127.0.0.1:" + proxies.get(from.id + ">" + to.id).port();
    }

    /** Cuts what {@code from} sends {@code to} (only that direction). */
    void cut(Node from, Node to, Link.Mode mode) {
        link(from, to).set(mode);
        if (mode == Link.Mode.REFUSE) {
            proxies.get(from.id + ">" + to.id).resetConnections();
        }
    }

    void cutBoth(Node a, Node b, Link.Mode mode) {
        cut(a, b, mode);
        cut(b, a, mode);
    }

    /** Cuts {@code node} off from every other node, both ways. */
    void isolate(Node node, List<Node> all, Link.Mode mode) {
        for (Node other : all) {
            if (other != node) {
                cutBoth(node, other, mode);
            }
        }
    }

    void heal() {
        links.values().forEach(l -> l.set(Link.Mode.OPEN));
    }

    /** The links not open now, e.g. {@code [n1->n2 BLACKHOLE]}. */
    List<String> cuts() {
        List<String> cut = new ArrayList<>();
        links.values().forEach(l -> {
            if (l.mode() != Link.Mode.OPEN) {
                cut.add(l + " " + l.mode());
            }
        });
        return cut;
    }

    private Link link(Node from, Node to) {
        return links.get(from.id + ">" + to.id);
    }

    @Override
    public void close() throws IOException {
        heal();
        for (LinkProxy p : proxies.values()) {
            p.close();
        }
    }
}

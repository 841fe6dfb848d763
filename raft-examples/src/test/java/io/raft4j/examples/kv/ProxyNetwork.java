package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The network between the nodes of a {@link KvProcessCluster}, with {@link LinkProxy}s on every
 * directed pair, so that any link can be cut, in one direction or both, and healed: one to the
 * other node's Raft port, one to its client port (where a follower forwards writes and admin
 * commands to the leader). Both follow the same {@link Link}s: a cut pair can neither exchange Raft
 * messages nor forward commands. Install it ({@link #routeArgs}) before the nodes start: each node
 * is told, at every start, to dial its peers through its own proxies ({@code --dial}, which the
 * replicated membership and the snapshots that carry it cannot override) and to forward through
 * them ({@code --forward-to}, over the client addresses the nodes register).
 */
final class ProxyNetwork implements AutoCloseable {
    private final Map<String, Link> links = new LinkedHashMap<>();
    private final Map<String, LinkProxy> proxies = new LinkedHashMap<>();
    private final Map<String, LinkProxy> clientProxies = new LinkedHashMap<>();
    private final List<Node> nodes;

    ProxyNetwork(List<Node> nodes) throws IOException {
        this.nodes = List.copyOf(nodes);
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
                    clientProxies.put(a.id + ">" + b.id, new LinkProxy(link(a, b), link(b, a), b.clientPort));
                }
            }
        }
    }

    /** The options that route {@code from}'s Raft traffic and forwarded commands through its proxies. */
    List<String> routeArgs(Node from) {
        StringBuilder dial = new StringBuilder();
        StringBuilder forward = new StringBuilder();
        for (Node to : nodes) {
            if (to != from) {
                String sep = dial.length() == 0 ? "" : ",";
                dial.append(sep).append(to.id).append("=127.0.0.1:").append(proxies.get(from.id + ">" + to.id).port());
                forward.append(sep).append(to.id).append("=127.0.0.1:")
                        .append(clientProxies.get(from.id + ">" + to.id).port());
            }
        }
        return List.of("--dial", dial.toString(), "--forward-to", forward.toString());
    }

    /**
     * How many connections each node's forwarding opened through its proxies, e.g. {@code n1>n2=3}:
     * none at all would mean the forwarding went around them.
     */
    Map<String, Integer> forwardingConnections() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        clientProxies.forEach((pair, proxy) -> counts.put(pair, proxy.relayedConnections()));
        return counts;
    }

    /** Cuts what {@code from} sends {@code to} (only that direction). */
    void cut(Node from, Node to, Link.Mode mode) {
        link(from, to).set(mode);
        if (mode == Link.Mode.REFUSE) {
            proxies.get(from.id + ">" + to.id).resetConnections();
            clientProxies.get(from.id + ">" + to.id).resetConnections();
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
        for (LinkProxy p : clientProxies.values()) {
            p.close();
        }
    }
}

package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;
import io.raft4j.examples.kv.lin.Op;
import io.raft4j.examples.kv.lin.Op.Outcome;
import io.raft4j.examples.kv.resp.Reply;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * One client process of {@link KvLinearizabilityIT}: one operation at a time (GET, SET with a value
 * of its own never used before, or compare-and-set {@code SET k new IFEQ old}) on a few shared
 * keys, through one node for a few operations and then another, recording each in the history with
 * what its answer means (docs/clients.md): ok, certainly not applied, or unknown.
 *
 * <p>A client with a home node sends everything there, reconnecting there after a broken
 * connection (once it is back, if it was killed): every node always has clients, the healthy ones
 * during a fault too, and how soon a node serves again after a fault shows. A roaming client moves
 * to a random node now and then, and after a broken connection, so that operations are also sent
 * to a frozen or cut-off node while the others go on: a read queued at a frozen leader and answered
 * when it wakes is invoked after writes the new leader acknowledged, and must see them. (Roaming
 * clients end up waiting at whichever node is slow, hence both kinds.) A connection is kept per
 * node, in this client's read mode (linearizable, or lease).
 */
final class LinClient implements Runnable {
    /** Above the nodes' 5 s request timeout, so that their own -TRYAGAIN or -TIMEOUT arrives first. */
    static final int SOCKET_TIMEOUT_MS = 12_000;
    /** Chance of a roaming client moving to another node after an operation. */
    private static final double MOVE = 0.25;

    private final int process;
    private final List<Node> nodes;
    /** Where all operations go; null for a roaming client. */
    private final Node home;
    private final List<String> keys;
    private final boolean lease;
    private final SplittableRandom random;
    private final LinHistory history;
    private final AtomicBoolean running;
    private final Map<Node, RespSocket> connections = new HashMap<>();
    /** The value this client last saw per key: what its compare-and-sets expect. */
    private final Map<String, String> lastSeen = new HashMap<>();
    private Node node;
    private int seq;

    LinClient(int process, List<Node> nodes, Node home, List<String> keys, boolean lease, SplittableRandom random,
              LinHistory history, AtomicBoolean running) {
        this.process = process;
        this.nodes = nodes;
        this.home = home;
        this.keys = keys;
        this.lease = lease;
        this.random = random;
        this.history = history;
        this.running = running;
    }

    @Override
    public void run() {
        node = nextNode();
        try {
            while (running.get()) {
                RespSocket s = connection(node);
                if (s == null) {
                    node = nextNode();
                    // Pacing, not waiting for an outcome: a node being restarted refuses at once.
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                    continue;
                }
                String key = keys.get(random.nextInt(keys.size()));
                double d = random.nextDouble();
                boolean ok;
                if (d < 0.5 || (d >= 0.8 && lastSeen.get(key) == null)) {
                    ok = read(s, key);
                } else if (d < 0.8) {
                    ok = write(s, key, null);
                } else {
                    ok = write(s, key, lastSeen.get(key));
                }
                if (!ok) {
                    disconnect(node);
                    node = nextNode();
                } else if (home == null && random.nextDouble() < MOVE) {
                    node = nextNode();
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(4))); // pacing
            }
        } finally {
            connections.values().forEach(LinClient::closeQuietly);
        }
    }

    /** A GET; false if the connection must be dropped. */
    private boolean read(RespSocket s, String key) {
        long invoke = System.nanoTime();
        Reply reply;
        try {
            reply = s.call("GET", key);
        } catch (IOException e) {
            history.readsWithoutValue.incrementAndGet(); // a read changes nothing: just not checked
            return false;
        }
        long complete = System.nanoTime();
        if (reply instanceof Reply.Error e) {
            history.readsWithoutValue.incrementAndGet();
            if (!e.code().equals("TRYAGAIN")) {
                history.odd("p" + process + " GET " + key + " via " + node.id + ": -" + e.text());
            }
            return true;
        }
        String value = reply == Reply.NIL || (reply instanceof Reply.Bulk b && b.value() == null) ? null : RespSocket.text(reply);
        history.add(Op.read(process, key, value, invoke, complete).withNote(where()));
        history.served(node.id, complete);
        lastSeen.put(key, value);
        return true;
    }

    /** A SET, or with {@code expected} a compare-and-set; false if the connection must be dropped. */
    private boolean write(RespSocket s, String key, String expected) {
        String value = "p" + process + "-" + seq++;
        long invoke = System.nanoTime();
        Reply reply;
        try {
            reply = expected == null ? s.call("SET", key, value) : s.call("SET", key, value, "IFEQ", expected);
        } catch (IOException e) {
            // Sent, maybe received and applied: only the answer is lost.
            record(key, expected, value, Outcome.INFO, false, invoke, 0, e.toString());
            return false;
        }
        long complete = System.nanoTime();
        if (reply instanceof Reply.Error e) {
            record(key, expected, value, meaning(e), false, invoke, complete, "-" + e.text());
        } else if (reply instanceof Reply.Simple ok && ok.text().equals("OK")) {
            record(key, expected, value, Outcome.OK, true, invoke, complete, "");
            lastSeen.put(key, value);
        } else if (expected != null && (reply == Reply.NIL || (reply instanceof Reply.Bulk b && b.value() == null))) {
            record(key, expected, value, Outcome.OK, false, invoke, complete, "");
        } else {
            history.odd("p" + process + " SET " + key + " via " + node.id + ": " + reply);
            record(key, expected, value, Outcome.INFO, false, invoke, 0, String.valueOf(reply));
        }
        return true;
    }

    /**
     * What an error answer to a write means (docs/clients.md): refused, nothing was done
     * (-TRYAGAIN, -NOTLEADER, -OOM, -ERR), or unknown (-TIMEOUT, -UNCERTAIN, and anything else).
     */
    private Outcome meaning(Reply.Error e) {
        return switch (e.code()) {
            case "TRYAGAIN", "NOTLEADER", "OOM" -> Outcome.FAIL;
            case "ERR" -> {
                // A well-formed SET should never be refused as a command: worth a look, but it did nothing.
                history.odd("p" + process + " SET via " + node.id + ": -" + e.text());
                yield Outcome.FAIL;
            }
            case "TIMEOUT", "UNCERTAIN" -> Outcome.INFO;
            default -> {
                history.odd("p" + process + " SET via " + node.id + ": -" + e.text());
                yield Outcome.INFO;
            }
        };
    }

    private void record(String key, String expected, String value, Outcome outcome, boolean applied, long invoke,
                        long complete, String answer) {
        Op op = expected == null
                ? Op.write(process, key, value, outcome, invoke, complete)
                : outcome == Outcome.OK ? Op.cas(process, key, expected, value, applied, invoke, complete)
                : Op.cas(process, key, expected, value, outcome, invoke, complete);
        history.add(op.withNote(where() + (answer.isEmpty() ? "" : " " + clip(answer))));
        if (outcome == Outcome.OK) {
            history.served(node.id, complete);
        }
        if (outcome == Outcome.INFO) {
            lastSeen.remove(key); // it may have changed the key: learn the value again before a CAS
        }
    }

    private String where() {
        return node.id + (lease ? " lease" : "");
    }

    /** The connection to {@code n}, opened (in this client's read mode) if needed; null if it cannot be. */
    private RespSocket connection(Node n) {
        RespSocket s = connections.get(n);
        if (s != null) {
            return s;
        }
        try {
            s = new RespSocket(n.clientPort, SOCKET_TIMEOUT_MS);
        } catch (IOException e) {
            return null; // nothing sent
        }
        if (lease) {
            try {
                Reply r = s.call("RAFT.READMODE", "LEASE");
                if (!(r instanceof Reply.Simple)) {
                    history.odd("p" + process + " RAFT.READMODE LEASE via " + n.id + ": " + r);
                    closeQuietly(s);
                    return null;
                }
            } catch (IOException e) {
                closeQuietly(s);
                return null;
            }
        }
        connections.put(n, s);
        return s;
    }

    private void disconnect(Node n) {
        RespSocket s = connections.remove(n);
        if (s != null) {
            closeQuietly(s);
        }
    }

    private Node nextNode() {
        return home != null ? home : nodes.get(random.nextInt(nodes.size()));
    }

    private static String clip(String s) {
        String one = s.replace('\n', ' ').replace('\r', ' ');
        return one.length() <= 60 ? one : one.substring(0, 60) + "...";
    }

    private static void closeQuietly(RespSocket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}

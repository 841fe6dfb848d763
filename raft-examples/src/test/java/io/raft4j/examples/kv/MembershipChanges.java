package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;
import io.raft4j.examples.kv.resp.Reply;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The membership fault of {@link Nemesis}, as an operator makes it (docs/membership.md): a node
 * removed with {@code RAFT.REMOVENODE} (sent to another node, which forwards it to the leader), its
 * process left to exit by itself once it learns of its removal, then restarted on its data directory
 * and added back with {@code RAFT.ADDNODE} at its own Raft address. Every step must end within
 * {@link #STEP_TIMEOUT_MS}, or the run fails: the cluster is to end with all three nodes serving.
 */
final class MembershipChanges {
    /** Each step's bound: the node's 30 s admin deadline, and a retry or two. */
    static final long STEP_TIMEOUT_MS = 90_000;
    /** Between attempts that were refused for now (a change in progress, a voter not heard lately). */
    private static final long RETRY_PAUSE_MS = 200;

    private final KvProcessCluster cluster;
    private final List<Node> nodes;

    MembershipChanges(KvProcessCluster cluster, List<Node> nodes) {
        this.cluster = cluster;
        this.nodes = nodes;
    }

    /** Removes {@code node} from the cluster and waits for its process to exit; returns how it went. */
    String remove(Node node) throws InterruptedException {
        String answer = admin(node, "-ERR " + node.id + " is not a member", "RAFT.REMOVENODE", node.id);
        if (!node.process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError(node.id + " was removed (" + answer + ") but did not exit within 30 s; "
                    + KvProcessCluster.state(node));
        }
        return answer;
    }

    /** Restarts the removed {@code node} on its data directory, adds it back and waits until it serves. */
    String addBack(Node node) throws IOException {
        node.start();
        String answer = admin(node, null, "RAFT.ADDNODE", node.id, "127.0.0.1:" + node.raftPort);
        cluster.awaitServing(node);
        return answer;
    }

    /**
     * Sends {@code cmd} through the nodes other than {@code about} in turn until one answers
     * {@code +OK} (or {@code alsoDone}: the change was made by an earlier attempt whose answer was
     * lost); returns that answer.
     */
    private String admin(Node about, String alsoDone, String... cmd) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STEP_TIMEOUT_MS);
        List<String> answers = new ArrayList<>();
        for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
            Node via = others(about).get(attempt % others(about).size());
            String answer;
            try (RespSocket s = new RespSocket(via.clientPort, 40_000)) {
                Reply r = s.call(cmd);
                answer = RespSocket.text(r);
            } catch (IOException e) {
                answer = e.toString();
            }
            if (answer.equals("OK") || answer.equals(alsoDone)) {
                return answer + " (attempt " + (attempt + 1) + ", via " + via.id + ")";
            }
            answers.add(via.id + ": " + answer);
            // Pacing between attempts, not a wait for an outcome: the next attempt asks again.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(RETRY_PAUSE_MS));
        }
        throw new AssertionError(String.join(" ", cmd) + " did not succeed within " + STEP_TIMEOUT_MS + " ms: "
                + answers.subList(Math.max(0, answers.size() - 5), answers.size()));
    }

    private List<Node> others(Node node) {
        List<Node> others = new ArrayList<>();
        for (Node n : nodes) {
            if (n != node && n.alive()) {
                others.add(n);
            }
        }
        if (others.isEmpty()) {
            throw new AssertionError("no node but " + node.id + " runs");
        }
        return others;
    }
}

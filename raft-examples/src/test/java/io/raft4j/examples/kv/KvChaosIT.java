package io.raft4j.examples.kv;

import io.raft4j.examples.kv.KvProcessCluster.Node;
import io.raft4j.examples.kv.resp.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static io.raft4j.examples.kv.KvProcessCluster.IO_TIMEOUT_MS;
import static io.raft4j.examples.kv.RespSocket.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random process faults against three {@code raft-kv.jar} JVMs while clients keep writing through
 * random nodes: each round {@code kill -9}s a random node or the leader, stops one with SIGTERM, or
 * kills two at once (the survivor has no quorum and must not acknowledge anything), waits for writes
 * to go on where a majority is left, and restarts what it stopped on the same data directory. At the
 * end every acknowledged write must be readable through every node, and all three must hold the same
 * number of keys (the writes whose outcome the clients never learned included: the nodes agree).
 * Beside them a client increments a counter in a session (RAFT.ONCE), retrying each increment
 * until answered: it must end at exactly the increments answered.
 *
 * <p>{@code -Draftkv.chaos.rounds=N} (default 5) and {@code -Draftkv.chaos.seed=S} (default
 * 20261130; the seed picks the faults and the nodes, the timing is the machine's).
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class KvChaosIT {
    private static final int ROUNDS = Integer.getInteger("raftkv.chaos.rounds", 5);
    private static final long SEED = Long.getLong("raftkv.chaos.seed", 20261130L);
    private static final int WRITERS = 2;
    /** Acknowledged writes each fault must let through (where a majority is left) before the next. */
    private static final int PROGRESS = 20;

    private KvProcessCluster cluster;
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final AtomicInteger uncertain = new AtomicInteger();
    private final List<Thread> writers = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        cluster = KvProcessCluster.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        writing.set(false);
        for (Thread t : writers) {
            t.join(60_000);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void randomKillsAndRestartsLoseNoAcknowledgedWrite() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        List<String> args = List.of("--snapshot-every", "300");
        for (int i = 0; i < 3; i++) {
            cluster.add("n" + (i + 1), InMemoryKvCluster.freePort(), InMemoryKvCluster.freePort(), false, args);
        }
        List<Node> nodes = new ArrayList<>(cluster.nodes.values());
        StringBuilder history = new StringBuilder();
        try {
            cluster.startAndAwaitServing(nodes);
            for (int w = 0; w < WRITERS; w++) {
                writers.add(startWriter(w, new SplittableRandom(SEED + 1 + w), nodes));
            }
            writers.add(startCounter(new SplittableRandom(SEED - 1), nodes));
            awaitProgress("writes before the first fault");

            for (int round = 1; round <= ROUNDS; round++) {
                List<Node> down = new ArrayList<>();
                double r = random.nextDouble();
                String fault;
                if (r < 0.4) {
                    Node victim = nodes.get(random.nextInt(nodes.size()));
                    victim.kill9();
                    down.add(victim);
                    fault = "kill -9 " + victim.id;
                } else if (r < 0.65) {
                    Node leader = cluster.awaitLeader(30_000, null);
                    leader.kill9();
                    down.add(leader);
                    fault = "kill -9 leader " + leader.id;
                } else if (r < 0.85) {
                    Node victim = nodes.get(random.nextInt(nodes.size()));
                    victim.stop();
                    down.add(victim);
                    fault = "SIGTERM " + victim.id;
                } else {
                    Node spared = nodes.get(random.nextInt(nodes.size()));
                    for (Node n : nodes) {
                        if (n != spared) {
                            n.kill9();
                            down.add(n);
                        }
                    }
                    fault = "kill -9 all but " + spared.id + " (no quorum)";
                }
                if (down.size() == 1) {
                    awaitProgress("writes after round " + round + " (" + fault + ")");
                } else {
                    // One node alone must not acknowledge a write sent after the others died: it
                    // waits for a quorum, then answers with an error (the outcome stays unknown).
                    Node spared = nodes.stream().filter(Node::alive).findFirst().orElseThrow();
                    try (RespSocket s = new RespSocket(spared.clientPort, IO_TIMEOUT_MS)) {
                        String reply = text(s.call("SET", "no-quorum-" + round, "x"));
                        if (reply.equals("OK")) {
                            throw new AssertionError(spared.id + " acknowledged a write alone: " + fault);
                        }
                        fault += ", a write through it answered " + reply;
                    }
                }
                for (Node n : down) {
                    n.start();
                }
                for (Node n : down) {
                    cluster.awaitServing(n);
                }
                awaitProgress("writes after the restart in round " + round);
                history.append(round).append(": ").append(fault).append("; ");
            }
            writing.set(false);
            for (Thread t : writers) {
                t.join(60_000);
            }
            for (Node n : nodes) {
                cluster.awaitCaughtUp(n);
            }
            cluster.checkAcknowledged(nodes);
            List<String> sizes = new ArrayList<>();
            for (Node n : nodes) {
                try (RespSocket s = new RespSocket(n.clientPort, IO_TIMEOUT_MS)) {
                    sizes.add(text(KvProcessCluster.callRetrying(s, "DBSIZE")));
                }
            }
            assertEquals(1, sizes.stream().distinct().count(), "keys per node after catching up: " + sizes);
            if (counterFailure.get() != null) {
                throw new AssertionError("the exactly-once counter: " + counterFailure.get());
            }
            for (Node n : nodes) {
                try (RespSocket s = new RespSocket(n.clientPort, IO_TIMEOUT_MS)) {
                    assertEquals(Long.toString(counted.get()), text(KvProcessCluster.callRetrying(s, "GET", COUNTER)),
                            "the exactly-once counter on " + n.id + " against the increments answered");
                }
            }
            System.out.printf("[KvChaosIT] seed %d, %d rounds: %s%d writes acknowledged, all read back through"
                            + " every node; %d with unknown outcome; %s keys on each node; the exactly-once counter"
                            + " at %d on every node after %d attempts%n",
                    SEED, ROUNDS, history, cluster.acknowledged.size(), uncertain.get(), sizes.get(0), counted.get(),
                    counterAttempts.get());
        } catch (Throwable t) {
            System.err.println("[KvChaosIT] seed " + SEED + " failed after: " + history);
            cluster.printLogs();
            throw t;
        }
    }

    /**
     * Writes unique keys through a random live node (followers forward to the leader), recording
     * each acknowledged one; a write sent that fails in any other way (an error other than
     * -TRYAGAIN, a lost connection) has an unknown outcome and is counted, never retried under the
     * same key.
     */
    private Thread startWriter(int id, SplittableRandom random, List<Node> nodes) {
        Thread t = new Thread(() -> {
            int i = 0;
            while (writing.get()) {
                RespSocket s = connectToALiveNode(random, nodes);
                if (s == null) {
                    // Pacing, not waiting for an outcome: a restarting node refuses at once, and a
                    // writer that retried without pause would take a core from the nodes starting.
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                    continue;
                }
                String key = "c" + id + "-" + i++;
                String value = Long.toHexString(random.nextLong());
                try (s) {
                    while (writing.get()) {
                        String reply = text(s.call("SET", key, value));
                        if (reply.equals("OK")) {
                            cluster.acknowledged.put(key, value);
                            break;
                        }
                        if (!reply.startsWith("-TRYAGAIN")) {
                            uncertain.incrementAndGet();
                            break;
                        }
                    }
                } catch (IOException e) {
                    uncertain.incrementAndGet();
                }
            }
        }, "chaos-writer-" + id);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static final String COUNTER = "once-counter";
    /** Increments of {@link #COUNTER} answered so far. */
    private final AtomicLong counted = new AtomicLong();
    private final AtomicLong counterAttempts = new AtomicLong();
    private final AtomicReference<String> counterFailure = new AtomicReference<>();

    /**
     * Increments {@link #COUNTER} in one client session (RAFT.ONCE), sending each increment again,
     * same number, through any live node after any failure (an error, a timeout, a node killed
     * with the command in flight) until it is answered. Applied exactly once each, the n-th
     * increment must answer n, and the counter end at the number answered: a retry applied twice,
     * or an answered one lost, shows. The increment in flight when the writers stop is finished.
     */
    private Thread startCounter(SplittableRandom random, List<Node> nodes) {
        Thread t = new Thread(() -> {
            try {
                String session = Long.toString(((Reply.Int) untilAnswered(random, nodes, "RAFT.SESSION")).value());
                for (long n = 1; writing.get(); n++) {
                    String number = Long.toString(n);
                    Reply r = untilAnswered(random, nodes, "RAFT.ONCE", session, number, number, "INCR", COUNTER);
                    if (!r.equals(Reply.integer(n))) {
                        counterFailure.compareAndSet(null, "increment " + n + " answered " + r);
                        return;
                    }
                    counted.set(n);
                }
            } catch (RuntimeException e) {
                counterFailure.compareAndSet(null, e.toString());
            }
        }, "chaos-counter");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Sends {@code cmd} through random live nodes until a reply that is not a failure of delivery comes. */
    private Reply untilAnswered(SplittableRandom random, List<Node> nodes, String... cmd) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            RespSocket s = connectToALiveNode(random, nodes);
            if (s == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // pacing, as the writers
                continue;
            }
            try (s) {
                counterAttempts.incrementAndGet();
                Reply r = s.call(cmd);
                if (!(r instanceof Reply.Error e) || !Set.of("TRYAGAIN", "TIMEOUT", "UNCERTAIN").contains(e.code())) {
                    return r;
                }
            } catch (IOException e) {
                // the node died or the answer was lost: the outcome is unknown, so send it again
            }
        }
        throw new IllegalStateException(String.join(" ", cmd) + " unanswered for two minutes");
    }

    /** A connection to a random live node, or {@code null} if none is up or it does not listen yet. */
    private static RespSocket connectToALiveNode(SplittableRandom random, List<Node> nodes) {
        List<Node> live = nodes.stream().filter(Node::alive).toList();
        if (live.isEmpty()) {
            return null;
        }
        try {
            return new RespSocket(live.get(random.nextInt(live.size())).clientPort, IO_TIMEOUT_MS);
        } catch (IOException e) {
            return null; // nothing was sent
        }
    }

    private void awaitProgress(String what) {
        long target = cluster.acknowledged.size() + PROGRESS;
        InMemoryKvCluster.await(what, 60_000, () -> cluster.acknowledged.size() >= target);
    }
}

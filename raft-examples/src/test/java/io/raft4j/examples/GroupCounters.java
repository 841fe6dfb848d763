package io.raft4j.examples;

import io.raft4j.IndeterminateException;
import io.raft4j.NotLeaderException;
import io.raft4j.RaftNode;
import io.raft4j.RaftStoppedException;
import io.raft4j.ReadConsistency;
import io.raft4j.message.Bytes;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Writes and reads of the multi-group tests, whose groups each keep a counter (their state machines
 * answer a write and a read with its value), over {@link GroupProcess}es by process id. A leader may
 * change under load (an election timeout missed on a busy machine), or stop (its store or transport
 * closed under it): a write refused by a non-leader is sent again, and one whose outcome is unknown
 * is settled by reading the counter, which the one write in flight either moved or did not.
 */
final class GroupCounters {
    private static final int ATTEMPTS = 20;

    private GroupCounters() {
    }

    /**
     * Proposes {@code command} to {@code group}'s leader, exactly once, which moves the counter from
     * {@code before} to {@code after}; returns {@code after}.
     */
    static long write(Map<String, GroupProcess> processes, String group, String command, long before, long after)
            throws Exception {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            RaftNode<Long> leader = awaitLeader(processes, group);
            try {
                assertEquals(after, leader.propose(Bytes.ofUtf8(command)).get(60, TimeUnit.SECONDS), group);
                return after;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NotLeaderException) {
                    continue; // nothing was done
                }
                if (!isOutcomeUnknown(e)) {
                    throw e;
                }
            }
            long now = read(processes, group);
            if (now == after) {
                return after;
            }
            assertEquals(before, now, group + ": the counter moved by something other than this write");
        }
        throw new AssertionError(group + ": no leader took the write in " + ATTEMPTS + " attempts");
    }

    /** A linearizable read of {@code group}'s counter, from whichever node leads it by then. */
    static long read(Map<String, GroupProcess> processes, String group) throws Exception {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try {
                return awaitLeader(processes, group).query(Bytes.EMPTY).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException || isOutcomeUnknown(e))) {
                    throw e;
                }
            }
        }
        throw new AssertionError(group + ": no leader answered a read in " + ATTEMPTS + " attempts");
    }

    /** Waits until every running node of each group in {@code expected} has applied up to its value. */
    static void assertEveryNodeApplied(Map<String, GroupProcess> processes, Map<String, Long> expected) {
        for (GroupProcess p : processes.values()) {
            expected.forEach((group, want) -> {
                RaftNode<Long> node = p.nodes.get(group);
                if (node != null) {
                    Await.until(() -> want.equals(node.query(Bytes.EMPTY, ReadConsistency.STALE).join()),
                            group + " on " + node.id() + " to reach " + want);
                }
            });
        }
    }

    /** The node that leads {@code group}, once one does. */
    static RaftNode<Long> awaitLeader(Map<String, GroupProcess> processes, String group) {
        AtomicReference<RaftNode<Long>> leader = new AtomicReference<>();
        Await.until(() -> leader.updateAndGet(seen -> leaderOf(processes, group)) != null, "a leader of " + group);
        return leader.get();
    }

    private static RaftNode<Long> leaderOf(Map<String, GroupProcess> processes, String group) {
        return processes.values().stream().map(p -> p.nodes.get(group)).filter(n -> n != null && n.isLeader())
                .findFirst().orElse(null);
    }

    private static boolean isOutcomeUnknown(ExecutionException e) {
        return e.getCause() instanceof IndeterminateException || e.getCause() instanceof RaftStoppedException;
    }
}

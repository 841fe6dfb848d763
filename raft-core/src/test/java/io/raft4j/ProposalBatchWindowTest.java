package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader with a proposal batch window ({@link RaftNode.Builder#proposalBatchWindow}) holds the
 * proposals of callers coming back after a commit, and loses none of them: every one commits, in
 * the order each caller made them, or fails when the node stops.
 */
class ProposalBatchWindowTest {
    private static final int CALLERS = 16;
    private static final int COMMANDS_EACH = 40;

    /** Three nodes as the key-value node runs them (followers syncing on their loop), with {@code window}. */
    private static LocalCluster batchingCluster(Duration window) {
        return new LocalCluster(3, LocalCluster.steadyLeader(b -> b), LocalCluster.Mode.LENT_LOOPS_PERSISTING,
                b -> b.proposalBatchWindow(window));
    }

    /** What one caller does, given its name ("c0", "c1", ...) and the node it proposes to. */
    private interface Caller<T> {
        T run(String name, RaftNode<String> leader) throws Exception;
    }

    /** Starts {@link #CALLERS} callers, each on its own thread of {@code threads}, proposing to {@code leader}. */
    private static <T> List<Future<T>> startCallers(ExecutorService threads, RaftNode<String> leader,
                                                    Caller<T> caller) {
        List<Future<T>> ends = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            String name = "c" + c;
            ends.add(threads.submit(() -> caller.run(name, leader)));
        }
        return ends;
    }

    @Test
    void callersThatWaitForEachCommandAreHeldAndEveryCommandCommitsInOrder() throws Exception {
        try (LocalCluster cluster = batchingCluster(Duration.ofMillis(2))) {
            RaftNode<String> leader = cluster.awaitLeader();
            ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
            try {
                List<Future<Void>> done = startCallers(callers, leader, (caller, to) -> {
                    for (int i = 0; i < COMMANDS_EACH; i++) {
                        to.propose(Bytes.ofUtf8(caller + ":" + i)).get(30, TimeUnit.SECONDS);
                    }
                    return null;
                });
                for (Future<Void> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                callers.shutdownNow();
            }
            assertTrue(leader.stats().proposalBatchesFull() + leader.stats().proposalBatchesAtWindowEnd() > 0,
                    "no proposal was ever held");
            for (var node : cluster.stateMachines.entrySet()) {
                LocalCluster.await(Duration.ofSeconds(30),
                        () -> node.getValue().applied.size() == CALLERS * COMMANDS_EACH);
                List<String> applied = node.getValue().applied;
                for (int c = 0; c < CALLERS; c++) {
                    String prefix = "c" + c + ":";
                    List<String> own = applied.stream().filter(a -> a.startsWith(prefix)).toList();
                    List<String> expected = new ArrayList<>();
                    for (int i = 0; i < COMMANDS_EACH; i++) {
                        expected.add(prefix + i);
                    }
                    assertEquals(expected, own, node.getKey() + " applied caller " + c + "'s commands out of order");
                }
            }
        }
    }

    @Test
    void proposalsHeldWhenTheLeaderStopsFailWithTheStop() throws Exception {
        try (LocalCluster cluster = batchingCluster(Duration.ofSeconds(1))) {
            RaftNode<String> leader = cluster.awaitLeader();
            ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
            try {
                List<Future<Throwable>> ends = startCallers(callers, leader, (caller, to) -> {
                    for (int i = 0; ; i++) {
                        try {
                            to.propose(Bytes.ofUtf8(caller + ":" + i)).get(30, TimeUnit.SECONDS);
                        } catch (ExecutionException e) {
                            return e.getCause();
                        }
                    }
                });
                // With a window of a second, a batch short of a caller or more waits long enough to see.
                LocalCluster.await(Duration.ofSeconds(30), () -> leader.heldProposals() > 0);
                leader.close();
                int stopped = 0;
                for (Future<Throwable> end : ends) {
                    Throwable cause = end.get(30, TimeUnit.SECONDS); // none waits for ever
                    assertInstanceOf(RaftStoppedException.class, cause, "a caller ended with " + cause);
                    stopped++;
                }
                assertEquals(CALLERS, stopped);
                assertEquals(0, leader.heldProposals());
            } finally {
                callers.shutdownNow();
            }
        }
    }

    @Test
    void aWindowOutsideZeroToASecondIsRefused() {
        RaftNode.Builder<String> builder = RaftNode.builder(RaftConfig.builder("n1").initialMembers("n1").build(),
                new LocalCluster.RecordingStateMachine());
        assertThrows(IllegalArgumentException.class, () -> builder.proposalBatchWindow(Duration.ofNanos(-1)));
        assertThrows(IllegalArgumentException.class, () -> builder.proposalBatchWindow(Duration.ofMillis(1001)));
    }
}

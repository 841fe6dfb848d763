package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.ClusterConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Calls that wait on the loop for a condition (a leader to be known, a learner to catch up) are
 * forgotten once their caller gives up on them (cancels the future, or bounds it with
 * {@code orTimeout}): a caller that retries with a timeout, as the Javadoc advises, used to leave
 * one condition per attempt, re-checked every tick for as long as the node ran.
 */
class AbandonedCallsTest {
    private static final int CALLS = 1_000;

    @Test
    void whenLeaderKnownCallsGivenUpOnAreForgotten() {
        InMemoryTransport network = new InMemoryTransport();
        // A node of a cluster whose other members never start: no leader, ever.
        RaftNode<String> alone = RaftNode.builder(RaftConfig.builder("a").initialMembers("a", "b", "c").build(),
                new LocalCluster.RecordingStateMachine()).transport(network).storage(new InMemoryLogStorage())
                .tickMillis(10).build();
        alone.start();
        try {
            // First: once the loop has taken up every call after it, its condition is surely watched.
            CompletableFuture<String> stillWaiting = alone.whenLeaderKnown();
            for (int i = 0; i < CALLS; i++) {
                CompletableFuture<String> known = alone.whenLeaderKnown();
                if (i % 2 == 0) {
                    known.cancel(false);
                } else {
                    known.orTimeout(1, TimeUnit.MILLISECONDS);
                }
            }
            // Read before the loop had taken the calls up, the count could be 0 (seen once in CI).
            LocalCluster.await(Duration.ofSeconds(10), () -> alone.queuedAdminCalls() == 0 && alone.watchedConditions() == 1,
                    () -> "conditions still checked for calls given up on: " + alone.watchedConditions() + " of " + CALLS
                            + ", besides the one call still waiting");
            assertTrue(!stillWaiting.isDone());
        } finally {
            alone.close();
            network.close();
        }
    }

    @Test
    void addVoterGivenUpOnNoLongerWaitsForTheLearner() throws Exception {
        try (LocalCluster cluster = new LocalCluster(1)) {
            RaftNode<String> leader = cluster.awaitLeader();
            // n9 never runs: as a learner it never catches up, and the call waits (bound it with a timeout).
            for (int i = 0; i < 20; i++) {
                AtomicReference<CompletableFuture<ClusterConfig>> add = new AtomicReference<>(leader.addVoter("n9", ""));
                // Given up on once it waits for the learner to catch up. Refused while the learner's
                // addition is not yet known committed ("another membership change is in progress",
                // transient, as documented): asked again.
                LocalCluster.await(Duration.ofSeconds(10), () -> {
                    if (add.get().isCompletedExceptionally()) {
                        add.set(leader.addVoter("n9", ""));
                    }
                    return leader.watchedConditions() == 1;
                }, () -> "conditions checked: " + leader.watchedConditions() + ", expected this call's alone; the call: "
                        + add.get());
                add.get().orTimeout(1, TimeUnit.MILLISECONDS);
                LocalCluster.await(Duration.ofSeconds(10), () -> leader.watchedConditions() == 0,
                        () -> "conditions still checked for an addVoter call given up on: " + leader.watchedConditions());
            }
            assertTrue(leader.status().config().learners().contains("n9"), "the learner stays, without a vote");
        }
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.LogEntry;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a leader's waiting callers hear when it steps down: committed work is not reported as uncertain. */
class ApplierStepDownTest {
    private static final ClusterConfig ABC = ClusterConfig.ofVoters(java.util.Set.of("a", "b", "c"));
    private static final ClusterConfig AB = ClusterConfig.ofVoters(java.util.Set.of("a", "b"));

    private final InMemorySnapshotStore snapshots = new InMemorySnapshotStore();
    private final Applier<String> applier = new Applier<>("raft-apply-a", new Echo(), snapshots,
            RaftConfig.builder("a").build(), meta -> { }, t -> { }, new LeadershipNotifier("a", null), true,
            new NodeCounters(), new ApplyBacklog(Long.MAX_VALUE, () -> { }), Runnable::run);

    static final class Echo implements StateMachine<String> {
        @Override
        public String apply(long index, Bytes command) {
            return "applied " + command.toUtf8();
        }

        @Override
        public void restore(java.io.InputStream in) {
        }
    }

    @Test
    void committedProposalsWaitForTheirApplyTheOthersFail() throws Exception {
        CompletableFuture<String> committed = new CompletableFuture<>();
        CompletableFuture<String> notYet = new CompletableFuture<>();
        applier.expect(1, 2, committed);
        applier.expect(2, 2, notYet);
        applier.failUndecided(new IndeterminateException("lost leadership"), 1, from -> null);
        assertFalse(committed.isDone());
        assertInstanceOf(IndeterminateException.class, cause(notYet));
        applier.submit(List.of(LogEntry.command(1, 2, Bytes.ofUtf8("x"))), List.of());
        assertEquals("applied x", committed.get(1, TimeUnit.SECONDS));
    }

    @Test
    void aCommittedMembershipChangeIsReportedMadeAnOpenOneUncertain() throws Exception {
        CompletableFuture<ClusterConfig> made = new CompletableFuture<>();
        applier.expectConfig(5, AB, made);
        CompletableFuture<ClusterConfig> open = new CompletableFuture<>();
        applier.expectConfig(8, ABC, open);
        // The change from 5 ended in AB (committed at 6); the one from 8 has nothing committed.
        applier.failUndecided(new IndeterminateException("lost leadership"), 7, from -> from <= 6 ? AB : null);
        assertEquals(AB, made.get(1, TimeUnit.SECONDS), "settled at once, without waiting for its apply");
        assertInstanceOf(IndeterminateException.class, cause(open));
    }

    /**
     * Two changes committed, neither applied yet, when the leader steps down: the first is reported
     * with its own outcome, not measured against the second's configuration.
     */
    @Test
    void theFirstOfTwoCommittedChangesIsReportedWithItsOwnOutcome() throws Exception {
        CompletableFuture<ClusterConfig> first = new CompletableFuture<>();
        applier.expectConfig(5, AB, first);
        CompletableFuture<ClusterConfig> second = new CompletableFuture<>();
        applier.expectConfig(7, ABC, second);
        applier.failUndecided(new IndeterminateException("lost leadership"), 7,
                from -> from <= 6 ? AB : from <= 7 ? ABC : null);
        assertEquals(AB, first.get(1, TimeUnit.SECONDS));
        assertEquals(ABC, second.get(1, TimeUnit.SECONDS));
    }

    @Test
    void committedProposalsCoveredByAnInstalledSnapshotFailRatherThanWaitForever() throws Exception {
        CompletableFuture<String> covered = new CompletableFuture<>();
        applier.expect(3, 2, covered);
        applier.failUndecided(new IndeterminateException("lost leadership"), 3, from -> null);
        SnapshotMeta meta = new SnapshotMeta(10, 3, ABC);
        try (SnapshotStore.Sink sink = snapshots.begin(meta)) {
            sink.publish(null);
        }
        applier.submitRestore(meta);
        IndeterminateException e = assertInstanceOf(IndeterminateException.class, cause(covered));
        assertTrue(e.getMessage().contains("from a snapshot"), e.getMessage());
    }

    private static Throwable cause(CompletableFuture<?> future) {
        return assertThrows(ExecutionException.class, () -> future.get(1, TimeUnit.SECONDS)).getCause();
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What waits on the apply thread when the node stops while that thread is stuck in the state machine. */
class ApplierStopTest {

    /**
     * A read handed over with the entry whose apply hangs waits for that entry on the apply thread,
     * which alone failed the waiting reads, as it ended: the stop gave up waiting for it (10 s) and
     * the read stayed pending for as long as the apply hung, for ever if it never ends.
     */
    @Test
    void aStopThatGivesUpOnAHangingApplyFailsTheReadsAndProposalsWaitingForIt() throws Exception {
        CountDownLatch applying = new CountDownLatch(1);
        CountDownLatch hang = new CountDownLatch(1);
        StateMachine<String> stuck = (index, command) -> {
            applying.countDown();
            try {
                hang.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "applied";
        };
        Applier<String> applier = new Applier<>("raft-apply-a", stuck, new InMemorySnapshotStore(),
                RaftConfig.builder("a").build(), meta -> { }, t -> { }, new LeadershipNotifier("a", null), false,
                new NodeCounters(), new ApplyBacklog(Long.MAX_VALUE, () -> { }), Runnable::run);
        applier.start();
        try {
            CompletableFuture<String> proposal = new CompletableFuture<>();
            applier.expect(1, 1, proposal);
            CompletableFuture<String> read = new CompletableFuture<>();
            applier.submit(List.of(LogEntry.command(1, 1, Bytes.ofUtf8("x"))),
                    List.of(new Applier.PendingQuery<>(1, Bytes.ofUtf8("q"), read)));
            assertTrue(applying.await(10, TimeUnit.SECONDS));

            RaftStoppedException stopped = new RaftStoppedException("node a closed", null);
            applier.stop(stopped); // waits for the apply thread, in vain

            assertSame(stopped, cause(proposal));
            assertSame(stopped, cause(read));
        } finally {
            hang.countDown();
        }
    }

    private static Throwable cause(CompletableFuture<?> future) {
        return assertThrows(ExecutionException.class, () -> future.get(1, TimeUnit.SECONDS),
                "still pending").getCause();
    }
}

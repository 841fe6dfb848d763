package io.raft4j;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When a leader holds proposals, and that what it holds is stepped, in order, or failed. */
class ProposalBatcherTest {
    private static final long WINDOW = 100_000;

    /** A timer the test fires by hand; it fires a window even if closed, as a late cancel may. */
    private static final class HandTimer implements ProposalBatcher.Timer {
        final List<Runnable> tasks = new ArrayList<>();
        final List<Long> delays = new ArrayList<>();
        final List<Boolean> closed = new ArrayList<>();

        @Override
        public AutoCloseable after(Runnable task, long delayNanos) {
            int i = tasks.size();
            tasks.add(task);
            delays.add(delayNanos);
            closed.add(false);
            return () -> closed.set(i, true);
        }

        void fire(int i) {
            tasks.get(i).run();
        }
    }

    private final HandTimer timer = new HandTimer();
    private final NodeCounters counters = new NodeCounters();
    private final List<String> stepped = new ArrayList<>();

    private void offer(ProposalBatcher batcher, String name, boolean leader) {
        batcher.offer(() -> stepped.add(name), new CompletableFuture<>(), leader);
    }

    @Test
    void withoutAWindowEveryProposalIsSteppedAtOnce() {
        ProposalBatcher batcher = new ProposalBatcher(0, timer, counters);
        batcher.committed(64);
        offer(batcher, "a", true);
        offer(batcher, "b", true);
        assertEquals(List.of("a", "b"), stepped);
        assertTrue(timer.tasks.isEmpty());
    }

    @Test
    void aLoneCallerIsNeverHeld() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        offer(batcher, "first", true); // nothing committed yet: one expected
        batcher.committed(1);
        offer(batcher, "second", true);
        assertEquals(List.of("first", "second"), stepped);
        assertTrue(timer.tasks.isEmpty());
    }

    @Test
    void holdsUntilAsManyCameAsTheLastCommitCompleted() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        batcher.committed(3);
        offer(batcher, "a", true);
        offer(batcher, "b", true);
        assertEquals(List.of(), stepped);
        assertEquals(2, batcher.held());
        assertEquals(List.of(WINDOW), timer.delays, "one window, from the first held");
        offer(batcher, "c", true);
        assertEquals(List.of("a", "b", "c"), stepped);
        assertEquals(0, batcher.held());
        assertEquals(1, counters.proposalBatchesFull.get());
        assertEquals(0, counters.proposalBatchesAtWindowEnd.get());
    }

    @Test
    void theEndOfTheWindowStepsWhatIsHeld() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        batcher.committed(5);
        offer(batcher, "a", true);
        offer(batcher, "b", true);
        timer.fire(0);
        assertEquals(List.of("a", "b"), stepped);
        assertEquals(1, counters.proposalBatchesAtWindowEnd.get());
        offer(batcher, "c", true);
        assertEquals(List.of("a", "b"), stepped, "a new batch is held again, for a window of its own");
        assertEquals(2, timer.tasks.size());
    }

    @Test
    void aWindowRunsOnAfterAFullBatchAndEndsTheNextOne() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        batcher.committed(2);
        offer(batcher, "a", true);
        offer(batcher, "b", true); // full: stepped; the window runs on
        offer(batcher, "c", true); // held, in the same window
        assertEquals(1, timer.tasks.size(), "no second window while one runs");
        assertFalse(timer.closed.get(0));
        timer.fire(0);
        assertEquals(List.of("a", "b", "c"), stepped);
        assertEquals(1, counters.proposalBatchesAtWindowEnd.get());
        offer(batcher, "d", true);
        assertEquals(2, timer.tasks.size(), "held after a window ended: a new window");
    }

    @Test
    void aProposalOffASteppedLeaderStepsTheHeldOnesFirst() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        batcher.committed(4);
        offer(batcher, "a", true);
        offer(batcher, "b", true);
        offer(batcher, "c", false); // no longer leading: refused, after those before it
        assertEquals(List.of("a", "b", "c"), stepped);
    }

    @Test
    void aStoppedNodeGetsTheHeldFuturesToFail() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        batcher.committed(4);
        CompletableFuture<String> a = new CompletableFuture<>();
        CompletableFuture<String> b = new CompletableFuture<>();
        batcher.offer(() -> stepped.add("a"), a, true);
        batcher.offer(() -> stepped.add("b"), b, true);
        List<CompletableFuture<?>> dropped = batcher.dropAll();
        assertEquals(2, dropped.size());
        assertSame(a, dropped.get(0));
        assertSame(b, dropped.get(1));
        assertEquals(0, batcher.held());
        assertTrue(timer.closed.get(0));
        timer.fire(0);
        assertEquals(List.of(), stepped, "dropped proposals are never stepped");
    }

    @Test
    void aStepThatThrowsFailsItsCallerAndLeavesTheRestHeldForTheStop() {
        ProposalBatcher batcher = new ProposalBatcher(WINDOW, timer, counters);
        batcher.committed(3);
        CompletableFuture<String> failing = new CompletableFuture<>();
        CompletableFuture<String> after = new CompletableFuture<>();
        offer(batcher, "a", true);
        batcher.offer(() -> {
            throw new IllegalStateException("a plug-in bug");
        }, failing, true);
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> batcher.offer(() -> stepped.add("c"), after, true));
        assertEquals("a plug-in bug", thrown.getMessage());
        assertEquals(List.of("a"), stepped);
        assertTrue(failing.isCompletedExceptionally());
        assertFalse(after.isDone());
        assertEquals(List.of(after), batcher.dropAll());
    }

    @Test
    void aNegativeWindowIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ProposalBatcher(-1, timer, counters));
    }
}

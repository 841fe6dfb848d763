package io.raft4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Holds a leader's proposals for a moment when more are about to come, so that they reach the log
 * and the followers in one append and one sync instead of two.
 *
 * <p>Callers that wait for each command before sending the next (a service's request threads, a
 * benchmark's closed-loop clients) come back together when a commit completes theirs, but one by
 * one, tens of microseconds apart. Stepped as they come, the first of them starts the leader's next
 * write and the next append to each follower nearly alone, and the rest wait for those syncs to
 * end before theirs can start: each command then waits about two syncs. Held until as many have
 * come as the last commit completed, or until the window ends, they share one (measured in
 * {@code docs/performance.md}, "proposal batch window").
 *
 * <p>A proposal is held only on a leader, and only while fewer have come than the last commit
 * completed, so a lone caller (each commit completes one) is never held. A window of zero holds
 * nothing. Everything here runs on the node's loop.
 */
final class ProposalBatcher {
    /** Runs a task on the loop after a delay, until the handle is closed (the node's loop). */
    interface Timer {
        AutoCloseable after(Runnable task, long delayNanos);
    }

    /** A proposal's step on the core, and the caller's future, to fail if the step never runs. */
    private record Held(Runnable step, CompletableFuture<?> future) {
    }

    private final long windowNanos;
    private final Timer timer;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    /** Entries the last commit handed out: about how many callers are on their way back. */
    private int expected = 1;
    /** The window running, if any: it ends whatever is held when it ends. */
    private AutoCloseable deadline;
    /** Written on the loop only, read by tests from other threads: held.size(), which they must not read. */
    private volatile int heldCount;
    private final NodeCounters counters;

    ProposalBatcher(long windowNanos, Timer timer, NodeCounters counters) {
        if (windowNanos < 0) {
            throw new IllegalArgumentException("proposal batch window must not be negative, was " + windowNanos
                    + " ns");
        }
        this.windowNanos = windowNanos;
        this.timer = timer;
        this.counters = counters;
    }

    /**
     * Steps a proposal now, or holds it: held if this node leads and fewer proposals wait than the
     * last commit completed. Those held before it are stepped first, in the order they came.
     */
    void offer(Runnable step, CompletableFuture<?> future, boolean leader) {
        if (windowNanos == 0 || !leader) {
            flush();
            step.run();
            return;
        }
        held.add(new Held(step, future));
        heldCount = held.size();
        if (held.size() >= expected) {
            counters.proposalBatchesFull.incrementAndGet();
            flush();
        } else if (deadline == null) {
            deadline = timer.after(this::windowEnded, windowNanos);
        }
    }

    /** A commit on this leader handed out {@code entries}: expect about that many proposals back. */
    void committed(int entries) {
        if (entries > 0) {
            expected = entries;
        }
    }

    /**
     * Steps every held proposal, in order. The window runs on: started by the first of the batch
     * stepped, it ends the next batch early if one is held by then. Restarted at every batch, a
     * window would hold each batch that comes short (a caller slow to come back, a commit handed
     * out in two parts) for a whole window; the prototype that let it run on did at least as well.
     */
    void flush() {
        Held next;
        while ((next = held.poll()) != null) {
            heldCount = held.size();
            try {
                next.step().run();
            } catch (RuntimeException | Error e) {
                // The node stops on this; the rest stay held, for the stop to fail.
                next.future().completeExceptionally(e);
                throw e;
            }
        }
    }

    private void windowEnded() {
        deadline = null;
        if (!held.isEmpty()) {
            counters.proposalBatchesAtWindowEnd.incrementAndGet();
            flush();
        }
    }

    /** The futures of the proposals held, which will never be stepped (the node stopped); holds none after. */
    List<CompletableFuture<?>> dropAll() {
        if (deadline != null) {
            try {
                deadline.close();
            } catch (Exception ignored) {
                // a deadline that fires anyway finds nothing held
            }
            deadline = null;
        }
        List<CompletableFuture<?>> futures = new ArrayList<>(held.size());
        for (Held h : held) {
            futures.add(h.future());
        }
        held.clear();
        heldCount = 0;
        return futures;
    }

    /** Proposals held now; from any thread. */
    int held() {
        return heldCount;
    }
}

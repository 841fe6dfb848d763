package io.raft4j;

import io.raft4j.message.Bytes;
import io.raft4j.message.EntryType;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.StateMachine;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * The node's apply thread: applies committed entries to the {@link StateMachine} in order, completes
 * the proposers' futures, and serves read-index queries once the state has caught up with their
 * read index. Keeps a slow state machine from stalling the Raft event loop.
 *
 * @param <R> the state machine's result type
 */
final class Applier<R> {
    /** A proposal awaiting the apply of its entry. */
    record PendingProposal<R>(long term, CompletableFuture<R> future) {
    }

    /** A confirmed read waiting for the state machine to reach {@code readIndex}. */
    record PendingQuery<R>(long readIndex, Bytes query, CompletableFuture<R> future) {
    }

    private sealed interface Task permits ApplyTask, StopTask {
    }

    private record ApplyTask(List<LogEntry> entries, List<? extends PendingQuery<?>> queries) implements Task {
    }

    private record StopTask() implements Task {
    }

    private final StateMachine<R> stateMachine;
    private final Map<Long, PendingProposal<R>> proposals = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final ArrayDeque<PendingQuery<R>> waitingQueries = new ArrayDeque<>();
    private final Consumer<Throwable> onFailure;
    private final Thread thread;
    private volatile long appliedIndex;

    Applier(String name, StateMachine<R> stateMachine, long appliedIndex, Consumer<Throwable> onFailure) {
        this.stateMachine = stateMachine;
        this.appliedIndex = appliedIndex;
        this.onFailure = onFailure;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    long appliedIndex() {
        return appliedIndex;
    }

    /** Registers the future of a proposal accepted at ({@code index}, {@code term}). */
    void expect(long index, long term, CompletableFuture<R> future) {
        proposals.put(index, new PendingProposal<>(term, future));
    }

    /** Fails every proposal still waiting (leadership lost or node stopping). */
    void failAllProposals(RuntimeException error) {
        for (Long index : proposals.keySet()) {
            PendingProposal<R> p = proposals.remove(index);
            if (p != null) {
                p.future().completeExceptionally(error);
            }
        }
    }

    void submit(List<LogEntry> entries, List<PendingQuery<R>> queries) {
        queue.add(new ApplyTask(entries, queries));
    }

    void stop(RuntimeException error) {
        queue.add(new StopTask());
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failAllProposals(error);
        for (PendingQuery<R> q : waitingQueries) {
            q.future().completeExceptionally(error);
        }
        for (Task t : queue) {
            if (t instanceof ApplyTask a) {
                for (PendingQuery<?> q : a.queries()) {
                    q.future().completeExceptionally(error);
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void run() {
        try {
            while (true) {
                Task task = queue.take();
                if (task instanceof StopTask) {
                    return;
                }
                ApplyTask a = (ApplyTask) task;
                applyAll(a.entries());
                for (PendingQuery<?> q : a.queries()) {
                    waitingQueries.add((PendingQuery<R>) q);
                }
                serveQueries();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            onFailure.accept(t);
        }
    }

    private void applyAll(List<LogEntry> entries) {
        for (LogEntry e : entries) {
            if (e.index() != appliedIndex + 1) {
                throw new IllegalStateException("apply out of order: " + e.index() + " after " + appliedIndex);
            }
            R result = e.type() == EntryType.COMMAND ? stateMachine.apply(e.index(), e.data()) : null;
            appliedIndex = e.index();
            PendingProposal<R> p = proposals.remove(e.index());
            if (p == null) {
                continue;
            }
            if (p.term() == e.term() && e.type() == EntryType.COMMAND) {
                p.future().complete(result);
            } else {
                // Another leader's entry took this index: ours was never committed.
                p.future().completeExceptionally(new IndeterminateException(
                        "entry " + e.index() + " was replaced by a later leader"));
            }
        }
    }

    private void serveQueries() {
        while (!waitingQueries.isEmpty() && waitingQueries.peekFirst().readIndex() <= appliedIndex) {
            PendingQuery<R> q = waitingQueries.removeFirst();
            try {
                q.future().complete(stateMachine.query(q.query()));
            } catch (RuntimeException e) {
                q.future().completeExceptionally(e);
            }
        }
    }
}

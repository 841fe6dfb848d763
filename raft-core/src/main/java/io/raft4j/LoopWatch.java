package io.raft4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * Conditions the event loop re-checks after every batch and tick (a learner catching up, a transfer
 * finishing): each runs its action once, when its condition first holds. Each is on behalf of a
 * caller's future, which {@link #failAll} fails if the node stops first. Loop thread only (or the
 * stopping thread, once the loop has stopped).
 *
 * <p>A condition whose future is complete already is dropped unchecked, its action never run: its
 * caller gave up on it (cancelled the future, or bounded it with {@code orTimeout}) and has its
 * answer. Kept until it held, a caller retrying with a timeout, as the Javadoc of the calls advises
 * (a learner that never catches up, a node that knows no leader), left one condition per attempt,
 * each re-checked after every batch and tick for as long as the node ran, and each acting on behalf
 * of no one when it held at last (a learner promoted long after every call to add it timed out).
 */
final class LoopWatch {
    private record Watch(BooleanSupplier condition, Runnable action, CompletableFuture<?> future) {
    }

    private final List<Watch> watches = new ArrayList<>();
    /** Why {@link #failAll} failed everything: the node stopped, so no action may run any more. */
    private Throwable stoppedBy;

    /** Runs {@code action} once {@code condition} holds; {@code future} is what the action completes. */
    void add(BooleanSupplier condition, Runnable action, CompletableFuture<?> future) {
        if (stoppedBy != null) {
            future.completeExceptionally(stoppedBy); // nothing will check it again
            return;
        }
        if (future.isDone()) {
            return; // given up on before it was watched
        }
        watches.add(new Watch(condition, action, future));
    }

    void check() {
        if (watches.isEmpty()) {
            return;
        }
        List<Watch> due = new ArrayList<>();
        watches.removeIf(w -> {
            if (w.future().isDone()) {
                return true; // given up on by its caller
            }
            if (w.condition().getAsBoolean()) {
                due.add(w);
                return true;
            }
            return false;
        });
        for (int i = 0; i < due.size(); i++) {
            Watch w = due.get(i);
            if (stoppedBy != null) {
                // An action before this one completed a future whose callback, run here on the loop,
                // stopped the node. This one used to run all the same, on the stopped node: a
                // membership change was proposed and waited for an apply that never came.
                w.future().completeExceptionally(stoppedBy);
                continue;
            }
            try {
                w.action().run();
            } catch (RuntimeException | Error e) {
                // The loop fails on it and the node stops. This watch and the ones due after it were
                // off the list, so the stop failed none of them, and their callers waited for ever:
                // this one hears why, the others wait again, for failAll.
                w.future().completeExceptionally(e);
                watches.addAll(due.subList(i + 1, due.size()));
                throw e;
            }
        }
    }

    /** Conditions waiting (for tests). */
    int size() {
        return watches.size();
    }

    /** The node stopped: no condition will be checked again, so every waiting caller fails. */
    void failAll(Throwable reason) {
        stoppedBy = reason;
        for (Watch w : watches) {
            w.future().completeExceptionally(reason);
        }
        watches.clear();
    }
}

package io.raft4j;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Conditions the event loop re-checks after every batch and tick (a learner catching up, a transfer
 * finishing): each runs its action once, when its condition first holds. Loop thread only.
 */
final class LoopWatch {
    private record Watch(BooleanSupplier condition, Runnable action) {
    }

    private final List<Watch> watches = new ArrayList<>();

    void add(BooleanSupplier condition, Runnable action) {
        watches.add(new Watch(condition, action));
    }

    void check() {
        if (watches.isEmpty()) {
            return;
        }
        List<Watch> due = new ArrayList<>();
        watches.removeIf(w -> {
            if (w.condition().getAsBoolean()) {
                due.add(w);
                return true;
            }
            return false;
        });
        for (Watch w : due) {
            w.action().run();
        }
    }
}

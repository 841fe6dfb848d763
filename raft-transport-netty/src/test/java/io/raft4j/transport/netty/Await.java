package io.raft4j.transport.netty;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a deadline (polling every millisecond); fails the test on timeout. */
final class Await {
    private Await() {
    }

    static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, what, condition, () -> "");
    }

    /** As {@link #until(Duration, String, BooleanSupplier)}, adding {@code state} to the failure message. */
    static void until(Duration timeout, String what, BooleanSupplier condition, java.util.function.Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeout + ": " + what + " " + state.get());
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}

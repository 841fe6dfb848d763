package io.raft4j.transport.netty;

/**
 * Whether a recurring problem is warned of now: the first time, then at most once per interval,
 * so that a redial failing the same way every few seconds until an operator acts does not flood the
 * log (the repeats go to debug). Thread-safe.
 */
final class WarningInterval {
    private final long intervalNanos;
    private long lastWarnedNanos;
    private boolean warned;

    WarningInterval(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    /** @return whether to warn now (and counts it as warned); false: log it at debug level */
    synchronized boolean warnNow() {
        long now = System.nanoTime();
        if (warned && now - lastWarnedNanos < intervalNanos) {
            return false;
        }
        warned = true;
        lastWarnedNanos = now;
        return true;
    }
}

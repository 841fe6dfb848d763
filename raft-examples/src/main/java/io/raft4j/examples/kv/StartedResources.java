package io.raft4j.examples.kv;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * What a node's start has opened so far (transport, log, node), for the shutdown hook to close
 * whenever SIGTERM comes: during the start too, not only once the node runs. Each opening step runs
 * under this object's lock, so a stop that comes meanwhile waits for the step and then closes what
 * it opened as well, never a half-built resource; a step after the stop is not run.
 */
final class StartedResources {
    /** Thrown by {@link #open} once the stop has begun: the start ends without opening more. */
    static final class StoppedDuringStart extends RuntimeException {
        StoppedDuringStart() {
            super("stopped during the start", null, false, false);
        }
    }

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    /** Set before the lock is taken: a start must not open its next resource while the stop waits for the lock. */
    private volatile boolean closed;

    /**
     * Runs {@code step}, which opens one resource, and keeps it for {@link #close}.
     *
     * @throws StoppedDuringStart if {@link #close} has begun: the step is not run
     */
    synchronized <T extends AutoCloseable> T open(Supplier<T> step) {
        if (closed) {
            throw new StoppedDuringStart();
        }
        T resource = step.get();
        opened.push(resource);
        return resource;
    }

    /**
     * Closes what was opened, the last first, once: later calls and {@link #open} find nothing to
     * do. Waits for an opening step under way.
     *
     * @throws RuntimeException the first that a close threw, once all were closed
     */
    void close() {
        closed = true;
        synchronized (this) {
            closeOpened();
        }
    }

    private void closeOpened() {
        RuntimeException first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}

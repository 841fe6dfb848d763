package io.raft4j.spi;

import java.util.concurrent.Executor;

/**
 * One thread that runs submitted tasks in order, lent by a {@link Transport} so that a node can run
 * its protocol logic on the thread that already does its network I/O (see
 * {@link Transport#eventLoopFor}). Messages the node then sends and receives on that thread pass
 * between the network and the protocol without waking another thread, which on a machine with
 * few cores is a large part of the cost of every commit.
 *
 * <p>Everything run on the loop must return promptly: it shares the thread with the transport.
 */
public interface EventLoop extends Executor {

    /** Whether the calling thread is this loop's thread. */
    boolean inLoop();

    /**
     * Runs {@code task} on the loop every {@code delayNanos}, measured from the end of one run to the
     * start of the next (so that a stalled loop does not catch up in a burst), until the returned
     * handle is closed.
     */
    AutoCloseable scheduleWithFixedDelay(Runnable task, long delayNanos);
}

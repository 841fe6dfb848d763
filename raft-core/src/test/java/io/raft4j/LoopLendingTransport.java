package io.raft4j;

import io.raft4j.spi.EventLoop;
import io.raft4j.spi.Transport;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A transport that lends every node a single-threaded event loop of its own, as a network transport
 * lends its I/O threads, and otherwise delegates: runs the runtime's shared-loop mode on the
 * in-memory network, whose deliveries arrive from another thread.
 */
final class LoopLendingTransport extends ForwardingTransport implements AutoCloseable {
    private final List<ScheduledThreadPoolExecutor> loops = new CopyOnWriteArrayList<>();

    LoopLendingTransport(Transport delegate) {
        super(delegate);
    }

    @Override
    public EventLoop eventLoopFor(String groupId, String localId) {
        Thread[] thread = new Thread[1];
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "lent-loop-" + localId);
            t.setDaemon(true);
            thread[0] = t;
            return t;
        });
        executor.prestartAllCoreThreads();
        loops.add(executor);
        return new EventLoop() {
            @Override
            public boolean inLoop() {
                return Thread.currentThread() == thread[0];
            }

            @Override
            public void execute(Runnable task) {
                executor.execute(task);
            }

            @Override
            public AutoCloseable scheduleWithFixedDelay(Runnable task, long delayNanos) {
                ScheduledFuture<?> f = executor.scheduleWithFixedDelay(task, delayNanos, delayNanos, TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            }
        };
    }

    /** How many loops were lent (to check that the nodes took them). */
    int lentLoops() {
        return loops.size();
    }

    @Override
    public void close() {
        loops.forEach(ScheduledThreadPoolExecutor::shutdownNow);
    }
}

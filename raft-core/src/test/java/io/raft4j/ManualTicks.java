package io.raft4j;

import io.raft4j.spi.EventLoop;
import io.raft4j.spi.Transport;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A transport that lends one node an event loop whose clock the test drives: that node ticks only
 * when {@link #tick} says, so a test can put a leader's timers (CheckQuorum, a transfer's timeout)
 * in a known order. The other nodes are not lent a loop and tick on their own, in real time.
 */
final class ManualTicks extends ForwardingTransport implements AutoCloseable {
    private final String nodeId;
    private final ExecutorService loop;
    private volatile Thread loopThread;
    /** The node's tick, handed over when it started; run only by {@link #tick}. */
    private volatile Runnable tickTask;

    ManualTicks(Transport delegate, String nodeId) {
        super(delegate);
        this.nodeId = nodeId;
        this.loop = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "manual-ticks-" + nodeId);
            t.setDaemon(true);
            loopThread = t;
            return t;
        });
    }

    @Override
    public EventLoop eventLoopFor(String groupId, String localId) {
        if (!localId.equals(nodeId)) {
            return delegate.eventLoopFor(groupId, localId);
        }
        return new EventLoop() {
            @Override
            public boolean inLoop() {
                return Thread.currentThread() == loopThread;
            }

            @Override
            public void execute(Runnable task) {
                loop.execute(task);
            }

            @Override
            public AutoCloseable scheduleWithFixedDelay(Runnable task, long delayNanos) {
                tickTask = task;
                return () -> tickTask = null;
            }
        };
    }

    /** Ticks the node {@code ticks} times, each after the work queued before it, and returns once they ran. */
    void tick(int ticks) throws InterruptedException, ExecutionException, TimeoutException {
        for (int i = 0; i < ticks; i++) {
            Runnable task = tickTask;
            if (task == null) {
                throw new IllegalStateException(nodeId + " is not ticking (not started, or stopped)");
            }
            loop.submit(task).get(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}

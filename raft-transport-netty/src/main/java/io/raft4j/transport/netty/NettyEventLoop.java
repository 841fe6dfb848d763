package io.raft4j.transport.netty;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/** A Netty event loop lent to a Raft node (see {@link NettyTransport#eventLoopFor}). */
final class NettyEventLoop implements io.raft4j.spi.EventLoop {
    private final EventLoop loop;

    NettyEventLoop(EventLoop loop) {
        this.loop = loop;
    }

    @Override
    public boolean inLoop() {
        return loop.inEventLoop();
    }

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public AutoCloseable scheduleWithFixedDelay(Runnable task, long delayNanos) {
        ScheduledFuture<?> scheduled = loop.scheduleWithFixedDelay(task, delayNanos, delayNanos, TimeUnit.NANOSECONDS);
        return () -> scheduled.cancel(false);
    }

    @Override
    public AutoCloseable schedule(Runnable task, long delayNanos) {
        // Netty's epoll loop times with timerfd, to within a few µs (its NIO fallback to about a ms).
        ScheduledFuture<?> scheduled = loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> scheduled.cancel(false);
    }
}

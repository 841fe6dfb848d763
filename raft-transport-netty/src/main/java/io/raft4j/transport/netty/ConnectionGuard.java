package io.raft4j.transport.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Closes inbound connections that sent something unacceptable, or that the server has no room for,
 * logging why. Logging is rate-limited (a peer flooding bad frames or connections must not flood the
 * log): at most {@link #WARNINGS_PER_WINDOW} warnings per {@link #WINDOW_NANOS}, refusals of both
 * kinds together; the rest go to debug and are counted in the next warning.
 */
final class ConnectionGuard {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);
    static final int WARNINGS_PER_WINDOW = 10;
    static final long WINDOW_NANOS = 10_000_000_000L;

    private final String name;
    private final LongAdder rejected = new LongAdder();
    private final AtomicLong windowStart = new AtomicLong(System.nanoTime());
    private final AtomicLong warningsInWindow = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();

    ConnectionGuard(String name) {
        this.name = name;
    }

    /** Closes the connection of {@code ctx} because of {@code reason}. */
    void reject(ChannelHandlerContext ctx, String reason) {
        reject(ctx, reason, false);
    }

    /**
     * As {@link #reject(ChannelHandlerContext, String)}; with {@code tellSender}, writes the gist of
     * the reason back first (a {@link RefusalNotice}), for a peer whose well-formed frames are refused.
     */
    void reject(ChannelHandlerContext ctx, String reason, boolean tellSender) {
        rejected.increment();
        log(ctx.channel(), "closing connection from {} to {}: {}", reason);
        if (tellSender) {
            // After the decoder's loop, not inside it: closing there releases the buffer it reads.
            ctx.executor().execute(() -> ctx.writeAndFlush(RefusalNotice.encode(ctx.alloc(), RefusalNotice.gist(reason)))
                    .addListener(ChannelFutureListener.CLOSE));
        } else {
            ctx.close();
        }
    }

    /**
     * Closes {@code ch}, just accepted, for want of room ({@code reason}): not bad input, so not
     * counted in {@link #rejectedConnections()}; logged within the same limit, since a client
     * reconnecting in a loop would otherwise write one warning per connection.
     */
    void refuse(Channel ch, String reason) {
        log(ch, "refusing connection from {} to {}: {}", reason);
        ch.close();
    }

    /** Connections closed so far for bad input. */
    long rejectedConnections() {
        return rejected.sum();
    }

    /** Logs {@code format}, which takes the remote address, the local address and {@code reason}. */
    private void log(Channel ch, String format, String reason) {
        long now = System.nanoTime();
        long start = windowStart.get();
        if (now - start > WINDOW_NANOS && windowStart.compareAndSet(start, now)) {
            warningsInWindow.set(0);
        }
        if (warningsInWindow.incrementAndGet() <= WARNINGS_PER_WINDOW) {
            long skipped = suppressed.getAndSet(0);
            LOG.warn("{}: " + format + "{}", name, ch.remoteAddress(), ch.localAddress(), reason,
                    skipped > 0 ? " (" + skipped + " similar warnings suppressed)" : "");
        } else {
            suppressed.incrementAndGet();
            LOG.debug("{}: " + format, name, ch.remoteAddress(), ch.localAddress(), reason);
        }
    }
}

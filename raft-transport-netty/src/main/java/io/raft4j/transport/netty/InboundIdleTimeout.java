package io.raft4j.transport.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Closes an accepted connection that made no progress for {@code inboundIdleTimeoutMillis}: neither
 * a whole frame nor {@link #PROGRESS_BYTES} of one arrived. Without it, a client that connected and
 * went silent, or stopped in the middle of a frame, held the connection, one of the
 * {@link NettyTransport#MAX_INBOUND_CONNECTIONS} slots and the part of the frame already buffered,
 * forever.
 *
 * <p>Progress, not any byte: the {@link InboundHandler} reports it ({@link #progressed}). When any
 * byte counted, a client trickling a frame one byte at a time, each within the timeout, kept all of
 * that for as long as it liked; now it must send at least {@code PROGRESS_BYTES} per timeout, and so
 * completes its frame (to be delivered or refused) within {@code maxFrameBytes / PROGRESS_BYTES}
 * timeouts. A large frame on a slow link still arrives (64 KiB per 30 s is 2 KiB/s), and a client
 * that never completes the TLS handshake is closed too. Not a rejection (the connection sent nothing
 * wrong), so it is logged at debug and not counted in {@link NettyTransport#rejectedConnections()}:
 * between two followers, a connection legitimately carries nothing until the next election, and its
 * peer simply redials on its next send.
 */
final class InboundIdleTimeout extends IdleStateHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InboundIdleTimeout.class);

    /** Bytes of a frame that count as progress when no whole frame arrived. */
    static final int PROGRESS_BYTES = 64 * 1024;

    private final long timeoutMillis;

    InboundIdleTimeout(long timeoutMillis) {
        super(timeoutMillis, 0, 0, TimeUnit.MILLISECONDS);
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * A whole frame, or {@link #PROGRESS_BYTES} of one, arrived (called on the connection's event
     * loop): the timeout starts again.
     */
    void progressed() {
        resetReadTimeout();
    }

    /** Bytes alone are not progress: passed on without resetting the timeout (see the class comment). */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        LOG.debug("closing connection from {} to {}: neither a frame nor {} bytes of one received for {} ms",
                ctx.channel().remoteAddress(), ctx.channel().localAddress(), PROGRESS_BYTES, timeoutMillis);
        ctx.close();
    }
}

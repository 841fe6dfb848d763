package io.raft4j.transport.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Closes an accepted connection on which no whole frame arrived for {@code inboundIdleTimeoutMillis}.
 * Without it, a client that connected and went silent, or stopped in the middle of a frame, held
 * the connection, one of the {@link NettyTransport#MAX_INBOUND_CONNECTIONS} slots and the part of
 * the frame already buffered, forever.
 *
 * <p>Whole frames, not bytes: the {@link InboundHandler} reports each read that completed one
 * ({@link #frameArrived}). Counting bytes, a client trickling a frame one byte at a time, each within
 * the timeout, kept all of that for as long as it liked; and a client that never completes the TLS
 * handshake is closed the same way. Not a rejection (the connection sent nothing wrong), so it is
 * logged at debug and not counted in {@link NettyTransport#rejectedConnections()}: between two
 * followers, a connection legitimately carries nothing until the next election, and its peer
 * simply redials on its next send.
 */
final class InboundIdleTimeout extends IdleStateHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InboundIdleTimeout.class);

    private final long timeoutMillis;

    InboundIdleTimeout(long timeoutMillis) {
        super(timeoutMillis, 0, 0, TimeUnit.MILLISECONDS);
        this.timeoutMillis = timeoutMillis;
    }

    /** A whole frame arrived (on the connection's event loop): the timeout starts again. */
    void frameArrived() {
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
        LOG.debug("closing connection from {} to {}: no whole frame received for {} ms", ctx.channel().remoteAddress(),
                ctx.channel().localAddress(), timeoutMillis);
        ctx.close();
    }
}

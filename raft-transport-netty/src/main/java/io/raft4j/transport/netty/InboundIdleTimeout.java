package io.raft4j.transport.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Closes an accepted connection on which nothing arrived for {@code inboundIdleTimeoutMillis}.
 * Without it, a client that connected and went silent, or stopped in the middle of a frame, held
 * the connection, one of the {@link NettyTransport#MAX_INBOUND_CONNECTIONS} slots and the part of
 * the frame already buffered, forever.
 *
 * <p>First in the pipeline, so it counts raw bytes, TLS handshake included: a client that never
 * completes the handshake is closed too. Not a rejection (the connection sent nothing wrong), so
 * it is logged at debug and not counted in {@link NettyTransport#rejectedConnections()}: between
 * two followers, a connection legitimately carries nothing until the next election, and its peer
 * simply redials on its next send.
 */
final class InboundIdleTimeout extends IdleStateHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InboundIdleTimeout.class);

    private final long timeoutMillis;

    InboundIdleTimeout(long timeoutMillis) {
        super(timeoutMillis, 0, 0, TimeUnit.MILLISECONDS);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        LOG.debug("closing connection from {} to {}: nothing received for {} ms", ctx.channel().remoteAddress(),
                ctx.channel().localAddress(), timeoutMillis);
        ctx.close();
    }
}

package io.raft4j.transport.netty;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.raft4j.message.RaftMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.List;

/**
 * The end of an accepted connection's pipeline (after TLS, if any): splits the byte stream into
 * frames (see {@link Frames}), parses each in place, and hands it to the {@link InboundDispatcher}.
 * Nothing is passed further down the pipeline.
 *
 * <p>Closes the connection through the {@link ConnectionGuard}, and delivers nothing more from it,
 * on a length outside {@code 1..maxFrameBytes} (checked before a single byte of the frame is
 * buffered, so a connection never holds more than one maximal frame plus one socket read), a frame
 * that does not parse or holds an invalid message, a failed TLS handshake, or anything the
 * dispatcher refuses. Accepted connections only read (but for a {@link RefusalNotice} written before a refused
 * member's connection is closed): answers go out on this process's own
 * connection to the sender.
 */
final class InboundHandler extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(InboundHandler.class);

    private final int maxFrameBytes;
    private final InboundDispatcher dispatcher;
    private final ConnectionGuard guard;
    /**
     * Told after each read that completed a frame or brought {@link InboundIdleTimeout#PROGRESS_BYTES}
     * since it was last told (the idle timeout starts again).
     */
    private final Runnable progressed;
    /** Bytes received since {@link #progressed} was last told. */
    private long bytesSinceProgress;
    private final WireReader reader = new WireReader();
    private boolean rejected;
    /** This connection, as the incarnation check sees it (made at its first frame). */
    private Incarnations.Connection connection;
    /** Whether senders must be named by the peer's certificate (TLS with the node-id check). */
    private final boolean checkNodeIds;
    /**
     * The ids the peer's certificate names, read once its handshake completed; with
     * {@link #checkNodeIds} and before that (no frame comes before it), none.
     */
    private CertifiedNodeIds peerIds = NO_IDS;
    private static final CertifiedNodeIds NO_IDS = new CertifiedNodeIds(java.util.Set.of());

    InboundHandler(int maxFrameBytes, InboundDispatcher dispatcher, ConnectionGuard guard, Runnable progressed,
                   boolean checkNodeIds) {
        this.maxFrameBytes = maxFrameBytes;
        this.dispatcher = dispatcher;
        this.guard = guard;
        this.progressed = progressed;
        this.checkNodeIds = checkNodeIds;
    }

    /** Adds the inbound handler (after any TLS handler already in {@code pipeline}), without an idle timeout. */
    static void addTo(ChannelPipeline pipeline, int maxFrameBytes, InboundDispatcher dispatcher, ConnectionGuard guard) {
        addTo(pipeline, maxFrameBytes, dispatcher, guard, () -> { }, false);
    }

    /**
     * Adds the inbound handler (after any TLS handler already in {@code pipeline}); {@code progressed}
     * runs after each read that completed a frame or brought {@link InboundIdleTimeout#PROGRESS_BYTES}
     * since it last ran. With {@code checkNodeIds} (only with TLS), a frame whose sender the peer's
     * certificate does not name is refused.
     */
    static void addTo(ChannelPipeline pipeline, int maxFrameBytes, InboundDispatcher dispatcher, ConnectionGuard guard,
                      Runnable progressed, boolean checkNodeIds) {
        pipeline.addLast("inbound", new InboundHandler(maxFrameBytes, dispatcher, guard, progressed, checkNodeIds));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf bytes) {
            bytesSinceProgress += bytes.readableBytes();   // counted before decode() looks at them
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        CodedInputStream frames = null;   // one decoder for all complete frames of this read
        int framesBase = 0;
        while (!rejected && in.readableBytes() >= Frames.LENGTH_BYTES) {
            int start = in.readerIndex();
            int length = in.getInt(start);
            if (length <= 0 || length > maxFrameBytes) {
                reject(ctx, "frame length " + Integer.toUnsignedString(length) + " outside 1.." + maxFrameBytes
                        + (startsLikeTls(length) ? " (the peer speaks TLS, and this transport does not: is TLS"
                        + " configured on one member and not the other?)" : aboveLimit(length)));
                break;
            }
            if (in.readableBytes() < Frames.LENGTH_BYTES + length) {
                break;   // wait for the rest of the frame
            }
            try {
                if (frames == null) {
                    frames = WireReader.input(in, start, in.readableBytes());
                    framesBase = start;
                }
                frames.skipRawBytes(Frames.LENGTH_BYTES);
                RaftMessage message = reader.readFrame(frames, length, in, framesBase);
                if (connection == null) {
                    connection = connectionOf(ctx.channel());
                }
                String refusal = dispatcher.dispatch(reader.version(), reader.clusterId(), reader.incarnation(),
                        connection, checkNodeIds ? peerIds : null, message);
                if (refusal != null) {
                    rejected = true;
                    guard.reject(ctx, refusal, true);   // a member's frame: tell it why
                }
            } catch (InvalidProtocolBufferException e) {
                reject(ctx, "malformed frame" + versionNote() + ": " + e.getMessage());
            } catch (MalformedFrameException e) {
                reject(ctx, "malformed message" + versionNote() + ": " + e.getMessage());
            } catch (IOException e) {
                reject(ctx, "malformed frame: " + e);
            }
            in.readerIndex(start + Frames.LENGTH_BYTES + length);
        }
        if (rejected) {
            in.skipBytes(in.readableBytes());
        } else if (frames != null || bytesSinceProgress >= InboundIdleTimeout.PROGRESS_BYTES) {
            bytesSinceProgress = 0;
            progressed.run();
        }
    }

    /**
     * A length above the limit but plausible for a message is likelier a member with a larger
     * {@code maxFrameBytes} (and entries or chunks as large) than garbage: the sender resends it at
     * every reconnection and that member's replication to this one stops there, so say what to change.
     */
    private String aboveLimit(int length) {
        if (length <= maxFrameBytes || length > PLAUSIBLE_FRAME_BYTES) {
            return "";
        }
        return " (the maxFrameBytes of this member (" + maxFrameBytes + ") is below what a member sends: give every"
                + " member the same maxFrameBytes, above every member's RaftConfig.largestMessagePayload())";
    }

    /** Lengths above this are taken for garbage (another protocol, a stray client), not a member's frame. */
    private static final int PLAUSIBLE_FRAME_BYTES = 1 << 30;

    private static Incarnations.Connection connectionOf(io.netty.channel.Channel channel) {
        return new Incarnations.Connection() {
            @Override
            public boolean isOpen() {
                return channel.isActive();
            }

            @Override
            public String describe() {
                return String.valueOf(channel.remoteAddress());
            }
        };
    }

    /** A frame of another protocol version may fail to parse: say so, it is the likelier cause. */
    private String versionNote() {
        int v = reader.version();
        return v == NettyTransportConfig.PROTOCOL_VERSION || v == 0 ? "" : " (protocol version " + Integer.toUnsignedString(v) + ")";
    }

    private void reject(ChannelHandlerContext ctx, String reason) {
        rejected = true;
        guard.reject(ctx, reason);
    }

    /**
     * Whether a frame's first four bytes, read as its length, are those of a TLS handshake record
     * (content type 22, protocol version 3.x): what a TLS client sends first, its ClientHello.
     */
    static boolean startsLikeTls(int length) {
        int typeAndMajorVersion = length >>> 16;
        int minorVersion = (length >>> 8) & 0xFF;
        return typeAndMajorVersion == 0x1603 && minorVersion <= 4;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent hs && hs.isSuccess() && checkNodeIds) {
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            // Required by the server, so present; read once, checked per frame by a set lookup.
            peerIds = CertifiedNodeIds.of(tls.engine().getSession().getPeerCertificates()[0]);
        }
        if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            if (hs.cause() instanceof ClosedChannelException || hs.cause() instanceof SslHandshakeTimeoutException) {
                // Closed by the peer before a word (a TCP health check), or silent until the
                // handshake timed out: nothing wrong was sent, as with the idle timeout. Not a
                // rejection, and not worth a warning (health checks would fill the log).
                LOG.debug("connection from {} to {} ended before its TLS handshake: {}", ctx.channel().remoteAddress(),
                        ctx.channel().localAddress(), hs.cause().toString());
                ctx.close();
                return;
            }
            if (!rejected) {
                // Netty's message for plain bytes is a hex dump of all it read (kilobytes per log
                // line) that does not say what is wrong.
                reject(ctx, hs.cause() instanceof NotSslRecordException
                        ? "the peer does not speak TLS: is TLS configured on one member and not the other?"
                        : "TLS handshake failed: " + Causes.rootMessage(hs.cause()) + likelyCause(hs.cause()));
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (rejected) {
            return;
        }
        if (cause instanceof IOException) {
            // The peer went away (reset, broken pipe): ordinary, not bad input.
            LOG.debug("connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else if (cause instanceof DecoderException) {
            reject(ctx, "undecodable input: " + Causes.rootMessage(cause));
        } else {
            LOG.error("unexpected error on connection from {}", ctx.channel().remoteAddress(), cause);
            reject(ctx, "internal error: " + cause);
        }
    }

    /**
     * What the JDK's reason means, where it misleads: a JDK client offers only a certificate whose
     * issuer the server named as trusted, so a peer with a certificate from another authority
     * sends none, and the reason reads as if it had no certificate at all.
     */
    private static String likelyCause(Throwable handshakeFailure) {
        String message = Causes.rootMessage(handshakeFailure);
        return message.contains("Empty client certificate chain")
                ? " (the peer sent no certificate issued by an authority this member trusts: it has none, or one"
                + " from another authority)"
                : "";
    }
}

package io.raft4j.examples.kv.resp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A minimal asynchronous, pipelining RESP2 client on Netty (the benchmark's clients). Replies
 * complete the futures in request order; a closed connection fails every future still waiting.
 */
public final class RespClient implements AutoCloseable {
    private final Channel channel;
    private final Handler handler;

    private RespClient(Channel channel, Handler handler) {
        this.channel = channel;
        this.handler = handler;
    }

    /** Connects (blocking) to {@code host:port}. */
    public static RespClient connect(EventLoopGroup group, String host, int port) throws IOException {
        Handler handler = new Handler();
        try {
            Channel ch = new Bootstrap().group(group).channel(EventLoops.socketChannel(group))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            // Commands sent from other threads arrive as separate tasks.
                            ch.pipeline().addLast(EventLoops.consolidatedFlushes(),
                                    new RespReplyDecoder(RespLimits.DEFAULT), handler);
                        }
                    }).connect(host, port).sync().channel();
            return new RespClient(ch, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting to " + host + ":" + port, e);
        } catch (Exception e) {
            throw new IOException("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** Sends a command given as strings. */
    public CompletableFuture<Reply> send(String... args) {
        List<byte[]> list = new ArrayList<>(args.length);
        for (String a : args) {
            list.add(a.getBytes(StandardCharsets.UTF_8));
        }
        return send(list);
    }

    /** Sends a command; the future completes with its reply. */
    public CompletableFuture<Reply> send(List<byte[]> args) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            if (!channel.isActive()) {
                reply.completeExceptionally(new IOException("connection closed"));
                return;
            }
            // Encoded before it awaits a reply: one that cannot be, awaiting, would take the next one's.
            ByteBuf buf;
            try {
                buf = channel.alloc().buffer(RespWriter.estimateSize(args));
                try {
                    RespWriter.writeCommand(args, buf);
                } catch (RuntimeException e) {
                    buf.release();
                    throw e;
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                reply.completeExceptionally(new IOException("cannot encode the command: " + e, e));
                return;
            }
            handler.pending.add(reply);
            channel.writeAndFlush(buf, channel.voidPromise());
        });
        return reply;
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class Handler extends ChannelInboundHandlerAdapter {
        final ArrayDeque<CompletableFuture<Reply>> pending = new ArrayDeque<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            CompletableFuture<Reply> f = pending.poll();
            if (f != null) {
                f.complete((Reply) msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            CompletableFuture<Reply> f;
            while ((f = pending.poll()) != null) {
                f.completeExceptionally(new IOException("connection closed"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

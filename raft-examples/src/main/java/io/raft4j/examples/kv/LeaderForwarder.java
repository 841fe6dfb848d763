package io.raft4j.examples.kv;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.raft4j.examples.kv.resp.EventLoops;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.examples.kv.resp.RespReplyDecoder;
import io.raft4j.examples.kv.resp.RespWriter;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The follower's side of "any node serves any client": relays commands to the leader's client
 * port over RESP and hands back its replies. A few pipelined connections per leader address; each
 * client connection always uses the same one, so the leader sees its commands in order.
 *
 * <p>Every forwarding connection first sends {@code RAFT.FORWARDED}, which tells the receiving node
 * never to forward again and not to wait for a leader: if it is no longer the leader it answers
 * {@code -NOTLEADER}/{@code -TRYAGAIN} at once, and the forwarding node retries (nothing was done);
 * and never to evict it for its client input budget, since that would fail every write it carries.
 */
final class LeaderForwarder implements AutoCloseable {
    /** Why forwarding failed; {@code sent} says whether the leader may have received the command. */
    static final class ForwardException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final boolean sent;

        ForwardException(String message, boolean sent) {
            super(message);
            this.sent = sent;
        }
    }

    private static final List<byte[]> HELLO = List.of("RAFT.FORWARDED".getBytes(StandardCharsets.US_ASCII));
    private static final int MAX_ADDRESSES = 8;

    private final Bootstrap bootstrap;
    /** Slack on top of a command's own deadline before its connection is presumed dead. */
    private final long slackNanos;
    private final int connectionsPerLeader;
    private final RespLimits limits;
    private final Map<String, Conn[]> pools = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * A connection whose oldest command is still unanswered {@code connectTimeoutMillis} after the
     * deadline the leader gives that command is presumed dead (a paused leader, a cut link that
     * sends no reset) and is replaced by a fresh one for the next command. Each command's own
     * deadline counts, not one for all: a membership change may rightly run far longer than a write.
     */
    LeaderForwarder(EventLoopGroup group, int connectionsPerLeader, RespLimits limits, int connectTimeoutMillis) {
        this.slackNanos = TimeUnit.MILLISECONDS.toNanos(connectTimeoutMillis);
        this.connectionsPerLeader = connectionsPerLeader;
        this.limits = limits;
        this.bootstrap = new Bootstrap().group(group).channel(EventLoops.socketChannel(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
    }

    /**
     * Sends {@code args} to the node serving clients at {@code address}; completes with its reply,
     * or fails with {@link ForwardException}. {@code answerWithinMillis} is the deadline the leader
     * gives this command: it answers by then, even if only with {@code -TIMEOUT}.
     */
    CompletableFuture<Reply> send(String address, long hint, List<byte[]> args, long answerWithinMillis) {
        if (closed) {
            return CompletableFuture.failedFuture(new ForwardException("node is stopping", false));
        }
        Conn conn;
        Conn[] pool = pools.computeIfAbsent(address, a -> new Conn[connectionsPerLeader]);
        synchronized (pool) {
            int i = (int) Math.floorMod(hint, (long) pool.length);
            conn = pool[i];
            if (conn == null || conn.broken) {
                conn = new Conn(address);
                pool[i] = conn;
            }
        }
        if (pools.size() > MAX_ADDRESSES) {
            dropAllBut(address);
        }
        return conn.send(args, answerWithinMillis);
    }

    private void dropAllBut(String keep) {
        for (Map.Entry<String, Conn[]> e : pools.entrySet()) {
            if (!e.getKey().equals(keep) && pools.remove(e.getKey(), e.getValue())) {
                closePool(e.getValue());
            }
        }
    }

    private static void closePool(Conn[] pool) {
        synchronized (pool) {
            for (Conn c : pool) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Conn[] pool : new ArrayList<>(pools.values())) {
            closePool(pool);
        }
        pools.clear();
    }

    /** One pipelined connection; {@code pending} is touched only on its event loop. */
    private final class Conn extends ChannelInboundHandlerAdapter {
        private final ArrayDeque<CompletableFuture<Reply>> pending = new ArrayDeque<>();
        /** When each pending command was written, in the same order. */
        private final ArrayDeque<Long> sentAt = new ArrayDeque<>();
        /** How long each pending command may wait for its reply, in the same order. */
        private final ArrayDeque<Long> allowance = new ArrayDeque<>();
        /** The reply to RAFT.FORWARDED, which announces the leader's client limits. */
        private final CompletableFuture<Reply> helloReply = new CompletableFuture<>();
        /** The leader's client limits, once its answer to RAFT.FORWARDED told them; null if it did not. */
        private RespLimits leaderLimits;
        private boolean greeted;
        /** Commands held until RAFT.FORWARDED is answered, so that each is checked against the leader's limits. */
        private final ArrayDeque<Held> held = new ArrayDeque<>();
        private final ChannelFuture connected;
        private final String address;
        volatile boolean broken;

        Conn(String address) {
            this.address = address;
            HostPort hp = HostPort.parse(address);
            Conn self = this;
            connected = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    // Commands forwarded from connections on other event loops arrive as separate tasks.
                    ch.pipeline().addLast(EventLoops.consolidatedFlushes(),
                            new RespReplyDecoder(limits), self);
                }
            }).connect(hp.host(), hp.port());
            connected.addListener(f -> {
                if (!f.isSuccess()) {
                    broken = true;
                    return;
                }
                // The reply to RAFT.FORWARDED, which the leader answers at once.
                Channel ch = connected.channel();
                ByteBuf hello = encode(ch, HELLO);
                expect(helloReply, System.nanoTime(), 0);
                ch.writeAndFlush(hello, ch.voidPromise());
            });
        }

        CompletableFuture<Reply> send(List<byte[]> args, long answerWithinMillis) {
            CompletableFuture<Reply> reply = new CompletableFuture<>();
            connected.addListener(f -> {
                Channel ch = connected.channel();
                if (!f.isSuccess() || !ch.isActive()) {
                    broken = true;
                    reply.completeExceptionally(new ForwardException("cannot connect to the leader: "
                            + (f.cause() == null ? "connection closed" : f.cause().getMessage()), false));
                    return;
                }
                long now = System.nanoTime();
                if (!sentAt.isEmpty() && now - sentAt.peek() > allowance.peek()) {
                    broken = true;
                    ch.close();
                    reply.completeExceptionally(new ForwardException("no answer from the leader for "
                            + (now - sentAt.peek()) / 1_000_000 + " ms; reconnecting", false));
                    return;
                }
                if (greeted) {
                    write(ch, reply, args, now, answerWithinMillis);
                } else {
                    held.add(new Held(reply, args, answerWithinMillis));
                }
            });
            return reply;
        }

        /**
         * Sends a command on, unless the leader announced limits it is over: the leader would close
         * the connection at it, failing every other command on it with an unknown outcome.
         */
        private void write(Channel ch, CompletableFuture<Reply> reply, List<byte[]> args, long now, long answerWithinMillis) {
            Reply refusal = leaderLimits == null ? null : LeaderLimits.refusal(leaderLimits, args, address);
            if (refusal != null) {
                reply.complete(refusal);
                return;
            }
            ByteBuf command;
            try {
                command = encode(ch, args);
            } catch (RuntimeException | OutOfMemoryError e) {
                // No direct memory left, or larger than a buffer can be. Awaiting a reply, it would
                // take the next command's, and each later one the reply of the one before.
                reply.completeExceptionally(new ForwardException("cannot encode the command for the leader: "
                        + e, false));
                return;
            }
            expect(reply, now, answerWithinMillis);
            ch.writeAndFlush(command, ch.voidPromise());
        }

        private void expect(CompletableFuture<Reply> reply, long now, long answerWithinMillis) {
            pending.add(reply);
            sentAt.add(now);
            // toNanos saturates, and the sum cannot overflow: slack is a connect timeout.
            allowance.add(Math.min(TimeUnit.MILLISECONDS.toNanos(answerWithinMillis), Long.MAX_VALUE / 2) + slackNanos);
        }

        /** {@code args} as a command, encoded before it is counted as awaiting a reply. */
        private static ByteBuf encode(Channel ch, List<byte[]> args) {
            ByteBuf buf = ch.alloc().buffer(RespWriter.estimateSize(args));
            try {
                RespWriter.writeCommand(args, buf);
            } catch (RuntimeException e) {
                buf.release();
                throw e;
            }
            return buf;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            CompletableFuture<Reply> f = pending.poll();
            sentAt.poll();
            allowance.poll();
            if (f != null) {
                f.complete((Reply) msg);
            }
            if (f == helloReply) {
                leaderLimits = LeaderLimits.parse((Reply) msg);
                greeted = true;
                long now = System.nanoTime();
                Held h;
                while ((h = held.poll()) != null) {
                    write(ctx.channel(), h.reply, h.args, now, h.answerWithinMillis);
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            broken = true;
            sentAt.clear();
            allowance.clear();
            CompletableFuture<Reply> f;
            while ((f = pending.poll()) != null) {
                f.completeExceptionally(new ForwardException("connection to the leader closed", true));
            }
            Held h;
            while ((h = held.poll()) != null) {
                h.reply.completeExceptionally(new ForwardException("connection to the leader closed", false));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            broken = true;
            ctx.close();
        }

        void close() {
            broken = true;
            connected.channel().close();
        }
    }

    /** A command waiting for the answer to RAFT.FORWARDED. */
    private record Held(CompletableFuture<Reply> reply, List<byte[]> args, long answerWithinMillis) {
    }
}

package io.raft4j.examples.kv;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.raft4j.examples.kv.resp.ClientInputAccount;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.EventLoops;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.examples.kv.resp.RespRequestDecoder;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The RESP2 front of a node: a Netty server on the client address. Connections beyond
 * {@code maxClients} are told {@code -ERR max number of clients reached} and closed, as in Redis.
 * What all connections' input holds is bounded by a {@link ClientInputBudget}: each connection has
 * an account in it, given back whole once the connection has closed and the commands it started
 * have finished, or at once when the budget evicts the connection to make room for another's input.
 */
final class KvServer implements AutoCloseable {
    private static final byte[] TOO_MANY = "-ERR max number of clients reached\r\n".getBytes(StandardCharsets.US_ASCII);

    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicLong nextId = new AtomicLong();
    private Channel serverChannel;

    /** Connections currently open. */
    int connectedClients() {
        return connected.get();
    }

    /**
     * Binds {@code address} and serves.
     *
     * @throws IllegalStateException if the address cannot be bound
     */
    void start(EventLoopGroup boss, EventLoopGroup workers, HostPort address, CommandProcessor processor, RespLimits limits,
               int maxClients, int maxPipeline, Session.FollowerMode followerMode, Session.ReadMode readMode,
               ClientInputBudget inputBudget) {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(EventLoops.serverChannel(boss))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // A client that shuts down its output after its last command is still owed their
                // replies: ClientConnection closes once they are written.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        initClient(ch, processor::parse, limits, maxClients, maxPipeline, followerMode, readMode,
                                inputBudget);
                    }
                });
        try {
            serverChannel = b.bind(new InetSocketAddress(address.host(), address.port())).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + address, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen for clients on " + address + ": " + e.getMessage(), e);
        }
    }

    /** Sets up the pipeline of the client connection {@code ch}, just accepted; refuses it beyond {@code maxClients}. */
    void initClient(Channel ch, Function<List<byte[]>, Command> parser, RespLimits limits, int maxClients,
                    int maxPipeline, Session.FollowerMode followerMode, Session.ReadMode readMode,
                    ClientInputBudget inputBudget) {
        if (connected.incrementAndGet() > maxClients) {
            connected.decrementAndGet();
            ch.config().setAutoRead(false);
            ch.writeAndFlush(Unpooled.wrappedBuffer(TOO_MANY)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // Closed by the connection once it is closed and nothing runs on its behalf any more.
        ClientInputAccount input = inputBudget.openAccount(ch);
        ch.closeFuture().addListener(f -> connected.decrementAndGet());
        ch.pipeline().addLast(new RespRequestDecoder(limits, input),
                new ClientConnection(parser, nextId.incrementAndGet(), followerMode, readMode, maxPipeline,
                        limits.maxRequestBytes(), input));
    }

    /** The bound port (useful when started on port 0). */
    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }
}

package io.raft4j.examples.kv.resp;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;

import java.util.concurrent.ThreadFactory;

/**
 * Netty plumbing shared by the RESP front, its forwarding connections and its client: event loops
 * on native epoll where it loads (Linux), as the Raft transport uses, NIO elsewhere; and the
 * handler that consolidates flushes of commands written from other threads. On loopback at 64
 * connections with one command each in flight, most of the front's CPU is system calls, and Netty's
 * epoll transport makes fewer of them than the JDK selector (edge-triggered, no selected-key set).
 * Channels are picked by the group they run on, so a caller's own NIO group still works.
 */
public final class EventLoops {
    /** Flushes absorbed by one consolidated flush at most, so a steady stream still leaves promptly. */
    private static final int FLUSHES_BEFORE_FORCED = 64;

    private EventLoops() {
    }

    /**
     * A handler for the head of a client pipeline whose commands are written by tasks from other
     * threads or event loops: the writes queued together leave with one flush (one system call),
     * not one each.
     */
    public static FlushConsolidationHandler consolidatedFlushes() {
        return new FlushConsolidationHandler(FLUSHES_BEFORE_FORCED, true);
    }

    /** A group of {@code threads} event loops: epoll if available, NIO otherwise. */
    public static EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
        return Epoll.isAvailable() ? new EpollEventLoopGroup(threads, threadFactory)
                : new NioEventLoopGroup(threads, threadFactory);
    }

    /** The client socket channel class that runs on {@code group}. */
    public static Class<? extends SocketChannel> socketChannel(EventLoopGroup group) {
        return group instanceof EpollEventLoopGroup ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The server socket channel class that runs on {@code group}. */
    public static Class<? extends ServerSocketChannel> serverChannel(EventLoopGroup group) {
        return group instanceof EpollEventLoopGroup ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}

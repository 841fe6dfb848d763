package io.raft4j.transport.netty;

import com.google.protobuf.CodedOutputStream;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import io.raft4j.message.RaftMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The one outbound connection to one peer, shared by every Raft group of the process.
 *
 * <h2>Sending without blocking</h2>
 * {@link #send} only appends to one of two lock-free queues bounded in messages and bytes (see
 * {@link QueueAllowance}: data streamed by some groups never crowds out the small messages of the
 * others) and, if no drain is pending, schedules one on the connection's event loop, also when
 * called on that loop. The drain encodes every queued message, writes each frame without
 * flushing, and flushes once at the end: messages sent while the event loop was busy, or by the
 * tasks it was running, share one {@code writev} (flush coalescing). A full queue drops the message and reports the peer
 * unreachable to the sender, so memory stays bounded when a peer is slow or dead; the drain stops
 * while the socket's buffer is above its high-water mark, so a slow reader fills the bounded
 * queue, never the socket buffer. A message the encoder fails on (a bug, never expected) is dropped
 * alone, logged and counted like any other drop; the rest of the drain still goes.
 *
 * <h2>Small messages first</h2>
 * Bulk messages (appends carrying entries, snapshot chunks) wait in one queue, every other message
 * (heartbeats, votes, answers, read-index, TimeoutNow) in another, and the drain takes from the
 * second first: a heartbeat never waits behind the megabytes of appends or chunks queued for a slow
 * peer, only behind what is already in the socket's buffers. Each queue keeps its order; Raft
 * needs none between them: the core anchors every append without entries that is not a probe at
 * the follower's match index, so one that overtakes appends sent before it is not rejected (and a
 * leader probing has one append in flight at a time).
 *
 * <h2>Connecting</h2>
 * Lazily, on the first send, at the configured address only. While a dial is in flight, messages
 * queue. A failed dial, or a connection that dies young, starts an exponential backoff with jitter
 * ({@code reconnectMinMillis} doubling up to {@code reconnectMaxMillis}, each delay drawn in
 * [delay/2, delay]); during it sends are dropped and reported, and the first send after it dials
 * again. A connection that was up for a while and then drops is redialled at once. Everything queued
 * when a connection is lost is dropped: Raft resends what matters.
 */
final class PeerConnection {
    private static final Logger LOG = LoggerFactory.getLogger(PeerConnection.class);
    /** A connection that lived at least this long was healthy: its loss resets the backoff. */
    private static final long HEALTHY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Frames written per drain before flushing and yielding the event loop to other channels. */
    private static final int MAX_FRAMES_PER_DRAIN = 1024;
    /** Size of the buffers small frames are packed into. */
    private static final int BATCH_BUFFER_BYTES = 32 * 1024;
    /** TLS failures with one peer, and its refusals of our frames, are warned of at most this often. */
    static final long WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final String peerId;
    private final HostPort address;
    private final NettyTransport owner;
    private final Bootstrap bootstrap;
    private final int maxFrameBytes;
    /** Used only by {@link #drain}, which runs on one thread at a time. */
    private final WireCodec.Writer writer;

    /** Messages {@link QueueAllowance#isBulk bulk}: appends with entries, snapshot chunks. */
    private final Queue<RaftMessage> bulk = PlatformDependent.newMpscQueue();
    /** Every other message: drained before {@link #bulk}. */
    private final Queue<RaftMessage> control = PlatformDependent.newMpscQueue();
    private final QueueAllowance allowance;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;
    /** Senders (group + node) told the peer is unreachable since the queue last drained. */
    private final Set<String> notified = ConcurrentHashMap.newKeySet();

    /** The established connection (TCP up and, with TLS, handshake done), or null. */
    private volatile Channel channel;

    /** The channel being dialled, or null; written under the lock. */
    private volatile Channel dialing;

    // Guarded by this.
    private int failures;
    /** Dials failed since the last established connection: the first of a streak is logged at INFO. */
    private int failuresInARow;
    private long nextDialNanos;
    private long establishedAtNanos;
    /** Written under the lock; volatile because the drain reads it without. */
    private volatile boolean closed;
    private final WarningInterval tlsWarnings = new WarningInterval(WARNING_INTERVAL_NANOS);
    private final WarningInterval refusalWarnings = new WarningInterval(WARNING_INTERVAL_NANOS);
    private final WarningInterval identityWarnings = new WarningInterval(WARNING_INTERVAL_NANOS);

    PeerConnection(String peerId, HostPort address, NettyTransport owner, Bootstrap bootstrap,
                   NettyTransportConfig config) {
        this.peerId = peerId;
        this.address = address;
        this.owner = owner;
        this.bootstrap = bootstrap.clone().handler(owner.clientInitializer(this));
        this.allowance = new QueueAllowance(config.maxQueuedMessages(), config.maxQueuedBytes());
        this.maxFrameBytes = config.maxFrameBytes();
        this.writer = new WireCodec.Writer(config.clusterId(), owner.incarnation());
    }

    HostPort address() {
        return address;
    }

    /** Queues {@code message} for the peer, or drops it. Never blocks, never throws. */
    void send(RaftMessage message) {
        Channel ch = channel;
        if (ch == null && !dialOrWait()) {
            drop(message, "not connected");
            return;
        }
        boolean isBulk = QueueAllowance.isBulk(message);
        if (!allowance.tryTake(message, isBulk)) {
            drop(message, "queue full");
            return;
        }
        (isBulk ? bulk : control).offer(message);
        // Read after the offer: if the connection got established since, its first drain sees it;
        // if the dial failed since, nothing would ever take the message out, so drop it now.
        ch = channel;
        if (ch != null) {
            // A drain on the loop even when sent from it (a node running there): the drain then
            // runs once the loop's current tasks are done, so every message the node produces in that
            // batch shares one flush (one sendto per peer, not one per message: +14% throughput with
            // no fsync, see docs/performance.md). Only a node that syncs on the loop (a follower with
            // persistOnLoop) holds messages across a sync that way, and its acknowledgements wait for
            // that sync anyway; a leader syncs on its storage thread, so its appends never wait.
            scheduleDrain(ch);
        } else if (dialing == null) {
            dropQueued("not connected");
        }
    }

    /**
     * Whether messages may queue now: a connection is up or being dialled (this call may start the
     * dial). False during a backoff and after close.
     */
    private boolean dialOrWait() {
        synchronized (this) {
            if (closed) {
                return false;
            }
            if (channel != null || dialing != null) {
                return true;
            }
            if (failures > 0 && System.nanoTime() - nextDialNanos < 0) {
                return false;
            }
            ChannelFuture f = bootstrap.connect(address.unresolved());
            dialing = f.channel();
            f.addListener(done -> {
                if (!done.isSuccess()) {
                    dialFailed(f.channel(), done.cause());
                }
            });
            return true;
        }
    }

    /** The connection is ready for frames (TCP up and, with TLS, the handshake done). */
    void established(Channel ch) {
        int failedDials;
        synchronized (this) {
            if (dialing != ch || closed) {
                ch.close();
                return;
            }
            dialing = null;
            channel = ch;
            establishedAtNanos = System.nanoTime();
            failedDials = failuresInARow;
            failuresInARow = 0;
        }
        if (failedDials > 0) {
            LOG.info("connected to {} at {} after {} failed attempts", peerId, address, failedDials);
        } else {
            LOG.debug("connected to {} at {}", peerId, address);
        }
        notified.clear();
        scheduleDrain(ch);
    }

    private void dialFailed(Channel ch, Throwable cause) {
        int inARow;
        synchronized (this) {
            if (dialing != ch) {
                return;
            }
            dialing = null;
            failures++;
            inARow = ++failuresInARow;
            nextDialNanos = System.nanoTime() + backoffNanos(failures);
        }
        if (inARow == 1) {
            // Once per streak, where an operator looks: a peer that is down, or an address that
            // names no listener, is otherwise silent until it answers.
            LOG.info("cannot connect to {} at {}: {}; retrying with back-off (logged again once connected)",
                    peerId, address, cause.toString());
        } else {
            LOG.debug("cannot connect to {} at {} (failure {}): {}", peerId, address, failures, cause.toString());
        }
        dropQueued("connect failed");
    }

    /** The channel closed: a dial that never got established, or a lost connection. */
    void closed(Channel ch) {
        synchronized (this) {
            if (ch == channel) {
                channel = null;
                boolean healthy = System.nanoTime() - establishedAtNanos >= HEALTHY_NANOS;
                failures = healthy ? 0 : failures + 1;
                LOG.debug("connection to {} at {} lost", peerId, address);
            } else if (ch == dialing) {
                dialing = null;
                failures++;
            } else {
                return;
            }
            nextDialNanos = System.nanoTime() + (failures == 0 ? 0 : backoffNanos(failures));
        }
        dropQueued("connection lost");
    }

    private long backoffNanos(int failureCount) {
        NettyTransportConfig c = owner.config();
        long delayMillis = c.reconnectMinMillis() << Math.min(failureCount - 1, 20);
        delayMillis = Math.min(c.reconnectMaxMillis(), Math.max(c.reconnectMinMillis(), delayMillis));
        long jittered = delayMillis / 2 + ThreadLocalRandom.current().nextLong(delayMillis / 2 + 1);
        return TimeUnit.MILLISECONDS.toNanos(jittered);
    }

    void scheduleDrain(Channel ch) {
        if (drainScheduled.compareAndSet(false, true)) {
            ch.eventLoop().execute(drainTask);
        }
    }

    /** On the event loop: moves queued messages into the socket, flushing once. */
    private void drain() {
        drainScheduled.set(false);
        Channel ch = channel;
        if (ch == null || !ch.isActive() || closed) {
            // Closed for good (the peer moved or left): what is queued is not sent to the old
            // address but dropped and reported by closed(ch), next on this loop.
            return;
        }
        if (!ch.eventLoop().inEventLoop()) {
            // Scheduled for an earlier connection on another event loop: the queue has one consumer,
            // the current connection's loop.
            scheduleDrain(ch);
            return;
        }
        int frames = 0;
        ByteBuf batch = null;
        CodedOutputStream out = null;
        RaftMessage m;
        while (frames < MAX_FRAMES_PER_DRAIN && ch.isWritable() && (m = poll()) != null) {
            int intact = out == null ? 0 : out.getTotalBytesWritten();   // bytes of whole frames in batch
            try {
                int size = writer.envelopeSize(m);
                if (size > maxFrameBytes) {
                    owner.tooLarge(m, size);
                    drop(m, "larger than maxFrameBytes");
                    continue;
                }
                // Small frames share one buffer and one encoder: fewer buffers to allocate, track
                // and hand to writev.
                int needed = Frames.LENGTH_BYTES + size;
                if (batch != null && out.spaceLeft() < needed) {
                    ch.write(finish(batch, out), ch.voidPromise());
                    batch = null;
                }
                if (batch == null) {
                    batch = ch.alloc().ioBuffer(Math.max(BATCH_BUFFER_BYTES, needed));
                    out = WireCodec.output(batch, batch.writerIndex(), batch.writableBytes());
                    intact = 0;
                }
                writer.writeFrame(out, m, size);
                frames++;
            } catch (IOException | RuntimeException e) {
                // A bug in encoding this one message, not a network failure: drop it alone and keep
                // the connection. The encoder cannot take back what it wrote of the failed frame, so
                // the batch goes out cut after the last whole frame, and the next one starts afresh.
                if (batch != null) {
                    if (intact > 0) {
                        ch.write(batch.writerIndex(batch.writerIndex() + intact), ch.voidPromise());
                    } else {
                        batch.release();
                    }
                    batch = null;
                    out = null;
                }
                encodeFailed(m, e);
            }
        }
        if (batch != null) {
            ch.write(finish(batch, out), ch.voidPromise());
        }
        if (frames > 0) {
            ch.flush();
        }
        if (!control.isEmpty() || !bulk.isEmpty()) {
            if (ch.isWritable()) {
                scheduleDrain(ch);
            }
        } else if (!notified.isEmpty()) {
            notified.clear();
        }
    }

    /**
     * The next message to send, small ones first, its room given back; null if none is queued.
     * Only one thread at a time consumes (see {@link #dropQueued}).
     */
    private RaftMessage poll() {
        RaftMessage m = control.poll();
        if (m != null) {
            allowance.giveBack(m, false);
            return m;
        }
        m = bulk.poll();
        if (m != null) {
            allowance.giveBack(m, true);
        }
        return m;
    }

    private void encodeFailed(RaftMessage message, Exception e) {
        LOG.error("dropping {} to {}: cannot encode it", message.getClass().getSimpleName(), peerId, e);
        drop(message, "cannot encode");
    }

    private static ByteBuf finish(ByteBuf batch, CodedOutputStream out) {
        return batch.writerIndex(batch.writerIndex() + out.getTotalBytesWritten());
    }

    /**
     * Drops everything queued, while no connection is established (the drain, the queue's only
     * other consumer, runs only while one is). Under the lock, so two threads never consume at once
     * and no connection gets established meanwhile.
     */
    private synchronized void dropQueued(String why) {
        if (channel != null) {
            return;
        }
        RaftMessage m;
        while ((m = poll()) != null) {
            drop(m, why);
        }
    }

    private void drop(RaftMessage message, String why) {
        owner.countDrop();
        if (notified.add(message.groupId() + '\u0000' + message.from())) {
            LOG.debug("dropping messages from {} to {} in group {}: {}", message.from(), peerId,
                    message.groupId(), why);
            owner.reportUnreachable(message);
        }
    }

    /**
     * Closes the connection for good (the peer moved, left, or the transport closes); later sends
     * are dropped, and so is what is queued: counted and reported like any other drop.
     */
    void close() {
        Channel ch;
        Channel d;
        synchronized (this) {
            closed = true;
            ch = channel;
            d = dialing;
            dialing = null;
            // channel is left for closed(ch) to clear, on ch's event loop once the close below is
            // done: that is the loop the drain runs on, so the queue keeps one consumer at a time.
            // Cleared here, from another thread, a drain still running would go on polling while a
            // send finding no channel emptied the queue too (two consumers of a single-consumer
            // queue: one may spin forever on a slot the other took), and what was queued when a
            // peer moved vanished uncounted, its senders never told.
        }
        if (ch != null) {
            ch.close();   // then closed(ch), on its loop, drops what is queued
        }
        if (d != null) {
            d.close();
        }
        // No connection established: no drain runs, so the queue is dropped here (a no-op while
        // channel is set: closed(ch) does it then).
        dropQueued("connection closed");
    }

    /**
     * The peer refused this process's frames and said why: the one place the dialling side learns
     * of a wrong address for the peer (or another cluster's, or a duplicate node id). Warned at most
     * once a minute, as the connection is redialled with back-off and refused again.
     */
    private void refused(String reason) {
        boolean warn = refusalWarnings.warnNow();
        String format = "{} at {} refuses this process's frames: {} (its log says more; retrying with back-off; warned"
                + " at most once a minute)";
        if (warn) {
            LOG.warn(format, peerId, address, reason);
        } else {
            LOG.debug(format, peerId, address, reason);
        }
    }

    /**
     * Logs a TLS failure with the peer: a warning at most once per {@link #WARNING_INTERVAL_NANOS}
     * (each redial fails the same way until someone fixes a certificate, and used to warn every
     * time), debug otherwise.
     */
    private void tlsFailed(String format, Throwable cause) {
        boolean warn = tlsWarnings.warnNow();
        if (warn) {
            LOG.warn(format + " (retrying with back-off; warned at most once a minute)", peerId, address,
                    cause.toString());
        } else {
            LOG.debug(format, peerId, address, cause.toString());
        }
    }

    /**
     * The server dialled as {@link #peerId} is not that peer by its certificate: warned at most once
     * a minute, as the peer is redialled with back-off and the answer stays the same until someone
     * corrects the address or the certificate.
     */
    private void serverNotNamed(String why) {
        String format = "the TLS certificate of the server at {}, dialled as {}, {}: this process's address for {} reaches"
                + " another member, or {}'s certificate lacks the URI subject alternative name {}. Nothing is sent"
                + " there ({} reported unreachable; retrying with back-off; warned at most once a minute)";
        Object[] args = {address, peerId, why, peerId, peerId, CertifiedNodeIds.uriFor(peerId), peerId};
        if (identityWarnings.warnNow()) {
            LOG.warn(format, args);
        } else {
            LOG.debug(format, args);
        }
    }

    /** Cuts the current connection (tests: a connection lost mid-stream). */
    void disconnect() {
        Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    boolean isConnected() {
        return channel != null;
    }

    /** State for diagnostics. */
    synchronized String describe() {
        Channel ch = channel;
        return peerId + "@" + address + " channel=" + ch + (ch == null ? "" : " active=" + ch.isActive()
                + " writable=" + ch.isWritable()) + " dialing=" + dialing + " failures=" + failures
                + " queued=" + allowance.messages() + "/" + control.size() + "+" + bulk.size() + " drainScheduled=" + drainScheduled.get();
    }

    int queuedMessages() {
        return allowance.messages();
    }

    /** The client end's pipeline handler: connection lifecycle and writability. */
    final class ClientHandler extends ChannelInboundHandlerAdapter {
        private final boolean tls;

        ClientHandler(boolean tls) {
            this.tls = tls;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (!tls) {
                established(ctx.channel());
            }
            ctx.fireChannelActive();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent hs) {
                if (hs.isSuccess()) {
                    String wrong = owner.checksNodeIds() ? notTheDialledPeer(ctx) : null;
                    if (wrong == null) {
                        established(ctx.channel());
                    } else {
                        // Never established: nothing queued goes there; the close counts as a failed
                        // dial (back-off), and what is queued is dropped and reported.
                        serverNotNamed(wrong);
                        ctx.close();
                    }
                } else {
                    tlsFailed("TLS handshake with {} at {} failed: {}", hs.cause());
                    ctx.close();
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed(ctx.channel());
            ctx.fireChannelInactive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                scheduleDrain(ctx.channel());
            }
            ctx.fireChannelWritabilityChanged();
        }

        private final RefusalNotice.Reader notice = new RefusalNotice.Reader();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // Peers never answer on this connection, but for why they refuse it before closing it.
            try {
                if (msg instanceof io.netty.buffer.ByteBuf bytes) {
                    String reason = notice.read(bytes);
                    if (reason != null) {
                        refused(reason);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (tls && ctx.channel() == channel && causedBySsl(cause)) {
                // An alert from the peer after this end's handshake completed: with TLS 1.3, how a
                // server refuses the client's certificate. The reason is in the peer's log.
                tlsFailed("{} at {} refused this member's TLS connection, see its log for why: {}", cause);
            } else {
                LOG.debug("connection to {} at {} failed: {}", peerId, address, cause.toString());
            }
            ctx.close();
        }

        /**
         * Why the server reached is not to be sent {@link #peerId}'s messages, or {@code null}: its
         * certificate, trusted, names other node ids (this process's address for the peer reaches
         * another member, which would otherwise read, and refuse, what is meant for the peer).
         */
        private String notTheDialledPeer(ChannelHandlerContext ctx) {
            CertifiedNodeIds ids;
            try {
                ids = CertifiedNodeIds.of(ctx.pipeline().get(SslHandler.class).engine().getSession()
                        .getPeerCertificates()[0]);
            } catch (SSLPeerUnverifiedException e) {
                return "presented no certificate";   // not after a completed handshake: the client verifies it
            }
            return ids.names(peerId) ? null : "names " + ids.describe() + ", not " + peerId;
        }

        private static boolean causedBySsl(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof SSLException) {
                    return true;
                }
            }
            return false;
        }
    }
}

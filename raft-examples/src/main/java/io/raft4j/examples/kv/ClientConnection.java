package io.raft4j.examples.kv;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.raft4j.examples.kv.resp.ClientInputAccount;
import io.raft4j.examples.kv.resp.ClientInputEvicted;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespProtocolError;
import io.raft4j.examples.kv.resp.RespWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One client connection: runs its commands and writes the replies in request order (pipelining).
 * Everything here runs on the connection's event loop.
 *
 * <h2>Order</h2>
 * Commands are dispatched in arrival order. Writes may be in flight together (they enter the log in
 * the order they were proposed, or travel in order on one forwarding connection), and so may reads;
 * but a read waits for the writes before it to finish and a write for the reads before it, so a
 * pipelined {@code SET k v; GET k} reads its own write, as in Redis. Local commands (PING, INFO...)
 * go at once. Replies are queued in slots and written in order as they complete.
 *
 * <h2>Back-pressure</h2>
 * Reading from the socket pauses while {@code maxPipeline} replies are owed, while the commands
 * owed a reply hold {@code maxOwedBytes} of arguments or more (one large command at a time, then:
 * counting commands alone let one connection hold a thousand 32 MiB writes), or while the socket
 * cannot take more output, so a client that pipelines without reading cannot grow memory without
 * bound. Replies are encoded only while the socket takes output: a reply waiting in its slot holds
 * a reference to the value, an encoded one a copy in direct memory (found by an operator: 300
 * pipelined GETs of a 4 MB value, never read, ran the node out of direct memory).
 *
 * <p>The arguments of the commands owed a reply are counted in the connection's
 * {@link ClientInputAccount}, so the node-wide budget of client input sees them too; once the
 * connection closes, those of the commands still running stay counted until they finish
 * ({@link #channelInactive}).
 *
 * <h2>End of input</h2>
 * A client that shuts down its output (half-closes, as {@code nc -N} does at the end of its input)
 * still gets the replies it is owed; the connection closes once they are written, as Redis writes
 * the replies of the commands it read before it closes. (Closing at once dropped them, writes
 * applied included: every write and read here finishes later than it is read.)
 *
 * <h2>Eviction</h2>
 * When the budget evicts the connection to make room for another's input (it held the most), the
 * replies ready are written, the commands not started yet dropped, and the reason written only if
 * no reply is owed any more; then the channel closes. A command already running may still be done
 * (a write may be applied): the client cannot tell, as when any connection breaks; the arguments
 * of those running stay counted in the budget until they finish ({@link #countRunningAfterEviction}).
 * A connection that announced {@code RAFT.FORWARDED} is never evicted ({@link Session#forwarded}).
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);

    private static final class Slot {
        Reply reply;
        boolean close;
        /**
         * What the command holds: its arguments ({@link ClientInputAccount#argumentBytes}) and the rest
         * ({@link ClientInputAccount#COMMAND_OVERHEAD}), owed in {@link #input} until its reply is written.
         */
        long bytes;
        /** Its command started and has not finished. */
        boolean running;
    }

    private record Pending(Command command, Slot slot) {
    }

    /** Parses a request into its command: {@link CommandProcessor#parse} (a stand-in in tests). */
    private final Function<List<byte[]>, Command> parser;
    private final Session.FollowerMode followerMode;
    private final Session.ReadMode readMode;
    private final long id;
    private final int maxPipeline;
    private final long maxOwedBytes;
    /** The connection's account; once it is evicted, its successor for the commands still running. */
    private ClientInputAccount input;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private Session session;
    private int readsInFlight;
    private int writesInFlight;
    private boolean closing;
    private boolean drainScheduled;
    /** The client shut down its output: nothing more comes, and the connection closes once nothing is owed. */
    private boolean inputEnded;
    /** Commands started and not finished, of every kind. */
    private int running;
    /** The channel closed: nothing more is dispatched, and the account closes once nothing runs. */
    private boolean gone;

    ClientConnection(Function<List<byte[]>, Command> parser, long id, Session.FollowerMode followerMode,
                     Session.ReadMode readMode, int maxPipeline, long maxOwedBytes, ClientInputAccount input) {
        this.parser = parser;
        this.id = id;
        this.followerMode = followerMode;
        this.readMode = readMode;
        this.maxPipeline = maxPipeline;
        this.maxOwedBytes = maxOwedBytes;
        this.input = input;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.session = new Session(id, ctx.executor(), String.valueOf(ctx.channel().remoteAddress()), input,
                followerMode, readMode);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            return;
        }
        Slot slot = new Slot();
        slots.add(slot);
        if (msg instanceof RespProtocolError error) {
            slot.reply = Reply.error("ERR " + error.message());
            slot.close = true;
            closing = true;
            return;
        }
        List<byte[]> args = (List<byte[]>) msg;
        slot.bytes = ClientInputAccount.COMMAND_OVERHEAD;
        for (byte[] arg : args) {
            slot.bytes += ClientInputAccount.argumentBytes(arg.length);
        }
        input.owe(slot.bytes);
        Command command;
        try {
            command = parser.apply(args);
        } catch (RuntimeException e) {
            LOG.warn("cannot parse a command", e);
            command = Command.immediate(Reply.error("ERR " + e));
        }
        waiting.add(new Pending(command, slot));
        // Like Redis, nothing read after QUIT runs: its sender gets no reply for it, so could never
        // know whether it was done.
        closing = command.closesConnection();
        pump();
        updateAutoRead();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        drain();
    }

    /** Dispatches the waiting commands that may run now, in order. */
    private void pump() {
        while (!waiting.isEmpty()) {
            Pending p = waiting.peek();
            Command.Kind kind = p.command().kind();
            if ((kind == Command.Kind.READ && writesInFlight > 0) || (kind == Command.Kind.WRITE && readsInFlight > 0)) {
                return;
            }
            waiting.poll();
            p.slot().close = p.command().closesConnection();
            CompletableFuture<Reply> f;
            try {
                f = p.command().run(session);
            } catch (RuntimeException e) {
                LOG.warn("command failed", e);
                f = CompletableFuture.completedFuture(Reply.error("ERR " + e));
            }
            if (f.isDone()) {
                p.slot().reply = result(f);
                continue;
            }
            count(kind, +1);
            running++;
            p.slot().running = true;
            f.whenComplete((reply, error) -> {
                if (ctx.executor().inEventLoop()) {
                    finished(p, kind, reply, error);
                } else {
                    ctx.executor().execute(() -> finished(p, kind, reply, error));
                }
            });
        }
    }

    private void finished(Pending p, Command.Kind kind, Reply reply, Throwable error) {
        count(kind, -1);
        running--;
        p.slot().running = false;
        if (gone) {
            closeAccountIfIdle();
            return; // no one to answer, and nothing left waiting to start
        }
        p.slot().reply = error == null ? reply : Reply.error("ERR " + error);
        pump();
        if (!drainScheduled) {
            drainScheduled = true;
            ctx.executor().execute(() -> {
                drainScheduled = false;
                drain();
            });
        }
    }

    private void count(Command.Kind kind, int delta) {
        if (kind == Command.Kind.READ) {
            readsInFlight += delta;
        } else if (kind == Command.Kind.WRITE) {
            writesInFlight += delta;
        }
    }

    private static Reply result(CompletableFuture<Reply> f) {
        try {
            return f.join();
        } catch (RuntimeException e) {
            return Reply.error("ERR " + e.getCause());
        }
    }

    /** Writes the replies that are ready, in order, and flushes once. */
    private void drain() {
        boolean wrote = false;
        while (!slots.isEmpty() && slots.peek().reply != null && ctx.channel().isWritable()) {
            Slot slot = slots.peek();
            ByteBuf buf;
            try {
                buf = encode(slot.reply);
            } catch (RuntimeException | OutOfMemoryError e) {
                closeUnanswerable(e);
                return;
            }
            slots.poll(); // only once its reply is on its way: the next reply must never take its place
            input.paid(slot.bytes);
            if (slot.close) {
                ctx.writeAndFlush(buf).addListener(ChannelFutureListener.CLOSE);
                closing = true;
                slots.clear();
                waiting.clear();
                return;
            }
            ctx.write(buf, ctx.voidPromise());
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
        if (inputEnded && slots.isEmpty()) {
            ctx.close();
            return;
        }
        updateAutoRead();
    }

    /**
     * Closes the connection after the replies already written, since the oldest reply owed cannot be
     * encoded: not even the short error that stands in for a reply too large ({@link #encode}), so
     * direct memory is exhausted. Leaving it unwritten would give its command the next command's
     * reply, and every later command the reply of the one before; closed, the client knows that
     * whatever it still waits for may or may not have been done, as when any connection breaks.
     */
    private void closeUnanswerable(Throwable cause) {
        LOG.warn("client connection {}: closing, a reply owed cannot be encoded: {}", session.remoteAddress,
                cause.toString());
        closing = true;
        slots.clear();
        waiting.clear();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** The largest buffer one reply is encoded into (Netty's buffers are indexed by int). */
    static final long MAX_REPLY_BYTES = Integer.MAX_VALUE - 8;

    /**
     * {@code reply} encoded; or, if it cannot be (larger than {@link #MAX_REPLY_BYTES}, or than the
     * direct memory left), an error in its place. Found in a sweep: MGET naming an 8 MB value 100
     * times failed to get its 800 MB buffer, the exception escaped, and the connection hung with
     * that reply dropped: one more reply written would have answered the wrong command.
     */
    private ByteBuf encode(Reply reply) {
        long size = RespWriter.estimateSize(reply);
        if (size <= MAX_REPLY_BYTES) {
            ByteBuf buf;
            try {
                buf = ctx.alloc().ioBuffer((int) size);
            } catch (OutOfMemoryError e) {
                // A reservation of direct memory refused, not the heap exhausted: nothing was allocated.
                LOG.warn("client connection {}: no memory for a reply of {} bytes: {}", session.remoteAddress, size,
                        e.toString());
                return encodeSmall(Reply.error("ERR the reply (about " + size + " bytes) does not fit in the memory"
                        + " this node has left for replies now; ask for fewer or smaller values at a time"));
            }
            RespWriter.write(reply, buf);
            return buf;
        }
        return encodeSmall(Reply.error("ERR the reply (about " + size + " bytes) is larger than one reply can be ("
                + MAX_REPLY_BYTES + " bytes); ask for fewer or smaller values at a time"));
    }

    private ByteBuf encodeSmall(Reply reply) {
        ByteBuf buf = ctx.alloc().ioBuffer((int) RespWriter.estimateSize(reply));
        RespWriter.write(reply, buf);
        return buf;
    }

    private void updateAutoRead() {
        boolean wanted = !closing && slots.size() < maxPipeline && input.owedBytes() < maxOwedBytes && ctx.channel().isWritable();
        if (ctx.channel().config().isAutoRead() != wanted) {
            ctx.channel().config().setAutoRead(wanted);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ClientInputEvicted evicted) {
            evicted(evicted);
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent) {
            // After the decoder passed on what it could decode of the input left.
            inputEnded = true;
            drain();
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * Evicted for the client input budget; the channel closes right after. The reason is written
     * only when nothing is owed, and not over a last reply already due (a protocol error, QUIT):
     * otherwise the client would take it for the reply to the oldest command owed, and its "nothing
     * was done" could be false for a write already proposed.
     */
    private void evicted(ClientInputEvicted evicted) {
        boolean mayExplain = !closing;
        closing = true;
        // Never started: nothing of them is done, and nothing may be once the client has gone.
        waiting.clear();
        drain();
        countRunningAfterEviction();
        if (mayExplain && slots.isEmpty() && ctx.channel().isActive()) {
            ctx.writeAndFlush(encodeSmall(Reply.error("ERR " + evicted.reason())), ctx.voidPromise());
        }
    }

    /**
     * The connection closed: the commands not started yet are dropped (nothing of them was done, and
     * nothing may be once the client has gone), and the account is closed once the commands running
     * have finished, not before: until then they hold their arguments (a write retried while no
     * leader is known, forwarded to a slow leader...). Closed at once, as it was, the budget forgot
     * them, and the commands left waiting ran after the client had gone: a client that pipelined a
     * read and 32 MiB of writes behind it, disconnected and did it again held memory that neither
     * the budget nor {@code --max-clients} saw, for as long as the commands took.
     */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        gone = true;
        closing = true;
        for (Pending p : waiting) {
            input.paid(p.slot().bytes); // their arguments are let go with them
            p.slot().bytes = 0;
        }
        waiting.clear();
        closeAccountIfIdle();
        if (running > 0) {
            // What it holds now only the commands' end frees: evicting it would free nothing, and
            // the event telling this connection so could find its pipeline gone.
            input.exemptFromEviction();
        }
        ctx.fireChannelInactive();
    }

    private void closeAccountIfIdle() {
        if (running == 0) {
            input.close();
        }
    }

    /**
     * The eviction counted out everything this connection held, but the commands already running
     * go on, holding their arguments: they are counted again, in a successor account, until they
     * finish. Counted out for good, as they were, the budget gave their room to others for free, and
     * a client whose running writes got it evicted again and again held memory it never saw.
     */
    private void countRunningAfterEviction() {
        long stillHeld = 0;
        for (Slot slot : slots) {
            if (slot.running) {
                stillHeld += slot.bytes;
            } else {
                // Dropped unstarted, or answered but never to be written: owed in no account now, so
                // a drain after the close (a writability change) must not pay for it in the successor.
                slot.bytes = 0;
            }
        }
        if (stillHeld == 0 || !input.isClosed()) {
            return;
        }
        input = input.successor();
        input.owe(stillHeld);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            drain();
        }
        updateAutoRead();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            // Not the peer going away: a bug, or the heap running out (an OutOfMemoryError here is
            // the first sign of a data set larger than the heap), which must not pass unseen.
            LOG.warn("client connection {} closed after an unexpected error: {}", session.remoteAddress, cause.toString(),
                    cause);
        }
        ctx.close();
    }
}

package io.raft4j.examples.kv;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.raft4j.examples.kv.resp.ClientInputAccount;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;
import io.raft4j.examples.kv.resp.RespRequestDecoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One client connection on an {@link EmbeddedChannel}, its commands stand-ins the test completes. */
class ClientConnectionTest {
    private EmbeddedChannel channel;

    @AfterEach
    void tearDown() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    /**
     * A reply that cannot be encoded (direct memory exhausted, even for the short error that stands
     * in for a large reply) closes the connection after the replies before it. Its slot used to be
     * taken off the queue before it was encoded: when the encoding failed in the drain a finished
     * write schedules, the exception was only logged, the connection stayed open, and the next reply
     * went to that command, every later one to the command before its own.
     */
    @Test
    void aReplyThatCannotBeEncodedClosesTheConnectionRatherThanShiftTheNextReplies() {
        FailingAllocator allocator = new FailingAllocator();
        Map<String, CompletableFuture<Reply>> writes = new HashMap<>();
        channel = new EmbeddedChannel();
        channel.config().setAllocator(allocator);
        ClientInputBudget budget = ClientInputBudget.unlimited();
        channel.pipeline().addLast(new RespRequestDecoder(RespLimits.DEFAULT, budget.openAccount(channel)),
                new ClientConnection(args -> write(writes, new String(args.get(1), StandardCharsets.UTF_8)), 1,
                        Session.FollowerMode.FORWARD, Session.ReadMode.LINEARIZABLE, 100, 1 << 20,
                        budget.openAccount(channel)));
        channel.writeInbound(Unpooled.copiedBuffer("W a\r\nW b\r\nW c\r\n", StandardCharsets.US_ASCII));

        writes.get("a").complete(Reply.simple("A"));
        channel.runPendingTasks();
        assertEquals("+A\r\n", written());

        allocator.failing = true;
        writes.get("b").complete(Reply.simple("B"));
        try {
            channel.runPendingTasks();
        } catch (RuntimeException | OutOfMemoryError e) {
            // Before the fix, what the event loop would log and go on after.
        }
        allocator.failing = false;
        writes.get("c").complete(Reply.simple("C"));
        channel.runPendingTasks();

        assertEquals("", written(), "no reply after one that could not be encoded: it would answer the wrong command");
        assertFalse(channel.isOpen(), "the connection closes: the client can then never take a reply for another command");
    }

    /**
     * A client that disconnects leaves nothing more to run: the commands it pipelined behind one
     * still running are dropped (nothing of them was done), and the arguments of those still running
     * stay counted in the client input budget until they finish. Before, the commands waiting ran
     * after the client had gone, and the budget forgot every argument at the close: a client that
     * pipelined a read and 32 MiB of writes behind it while no leader was known, disconnected and
     * did it again, held memory the budget (and --max-clients) never saw, for as long as the
     * commands retried.
     */
    @Test
    void aClientThatDisconnectsLeavesNothingToRunAndWhatRunsCounted() {
        Map<String, CompletableFuture<Reply>> commands = new HashMap<>();
        AtomicInteger started = new AtomicInteger();
        ClientInputBudget budget = ClientInputBudget.unlimited();
        channel = new EmbeddedChannel();
        new KvServer().initClient(channel, args -> {
                    Command.Kind kind = args.get(0)[0] == 'R' ? Command.Kind.READ : Command.Kind.WRITE;
                    return command(commands, kind, new String(args.get(1), StandardCharsets.UTF_8), started);
                }, RespLimits.DEFAULT, 10, 100, Session.FollowerMode.FORWARD, Session.ReadMode.LINEARIZABLE, budget);
        channel.writeInbound(Unpooled.copiedBuffer("R a\r\nW b\r\nW c\r\n", StandardCharsets.US_ASCII));
        assertEquals(1, started.get(), "the writes wait for the read before them");
        long heldByTheRead = ClientInputAccount.COMMAND_OVERHEAD + ClientInputAccount.argumentBytes(1) * 2;

        channel.close();
        channel.runPendingTasks();
        assertEquals(heldByTheRead, budget.usedBytes(), "what the read still running holds, counted until it finishes");

        commands.get("a").complete(Reply.simple("A"));
        channel.runPendingTasks();
        assertEquals(1, started.get(), "a command the client left waiting ran after it had gone");
        assertEquals(0, budget.usedBytes(), "given back once nothing runs on behalf of the client");
    }

    /**
     * A connection evicted for the client input budget drops its commands not started, but those
     * running go on, holding their arguments: they stay counted until they finish. Counted out at
     * the eviction with the rest, as they were, the budget took the room they held for free: a client
     * whose running writes (retried while no leader is known) got it evicted again and again held
     * memory the budget never saw.
     */
    @Test
    void anEvictedConnectionsRunningCommandsStayCountedUntilTheyFinish() {
        Map<String, CompletableFuture<Reply>> commands = new HashMap<>();
        AtomicInteger started = new AtomicInteger();
        ClientInputBudget budget = new ClientInputBudget(600);
        channel = new EmbeddedChannel();
        new KvServer().initClient(channel, args -> {
                    Command.Kind kind = args.get(0)[0] == 'R' ? Command.Kind.READ : Command.Kind.WRITE;
                    return command(commands, kind, new String(args.get(1), StandardCharsets.UTF_8).substring(0, 1),
                            started);
                }, RespLimits.DEFAULT, 10, 100, Session.FollowerMode.FORWARD, Session.ReadMode.LINEARIZABLE, budget);
        channel.writeInbound(Unpooled.copiedBuffer("W " + "w".repeat(400) + "\r\nR r\r\n", StandardCharsets.US_ASCII));
        long runningWrite = ClientInputAccount.COMMAND_OVERHEAD + ClientInputAccount.argumentBytes(1)
                + ClientInputAccount.argumentBytes(400);
        assertEquals(1, started.get(), "the read waits for the write");

        // Another connection's input needs room: this one holds the most, and is evicted.
        EmbeddedChannel other = new EmbeddedChannel();
        ClientInputAccount otherInput = budget.openAccount(other);
        other.pipeline().addLast(new RespRequestDecoder(RespLimits.DEFAULT, otherInput));
        try {
            other.writeInbound(Unpooled.copiedBuffer("*1\r\n$300\r\n" + "o".repeat(150), StandardCharsets.US_ASCII));
            channel.runPendingTasks();
            assertFalse(channel.isOpen(), "evicted");
            assertEquals(runningWrite, budget.usedBytes() - otherInput.heldBytes(),
                    "what the write still running holds, counted until it finishes");

            commands.get("w").complete(Reply.OK);
            channel.runPendingTasks();
            assertEquals(1, started.get(), "the read, never started, was dropped");
            assertEquals(otherInput.heldBytes(), budget.usedBytes(), "given back once nothing runs for the evicted client");
        } finally {
            other.finishAndReleaseAll();
        }
    }

    /**
     * Each command owed a reply counts what it holds beyond its arguments: its slot, its command
     * and what runs it, its reply once ready. Counted by their arguments alone, tiny commands were
     * counted a tenth of what they held: ten thousand clients pipelining a thousand small commands
     * each without reading (one socket read past {@code --max-pipeline} adds thousands more) held
     * gigabytes while the budget saw a few hundred megabytes.
     */
    @Test
    void eachCommandOwedCountsWhatItHoldsBeyondItsArguments() {
        Map<String, CompletableFuture<Reply>> commands = new HashMap<>();
        AtomicInteger started = new AtomicInteger();
        ClientInputBudget budget = ClientInputBudget.unlimited();
        channel = new EmbeddedChannel();
        new KvServer().initClient(channel, args -> command(commands, Command.Kind.WRITE, "w" + started.get(), started),
                RespLimits.DEFAULT, 10, 100, Session.FollowerMode.FORWARD, Session.ReadMode.LINEARIZABLE, budget);
        int sent = 1000;
        channel.writeInbound(Unpooled.copiedBuffer("W\r\n".repeat(sent), StandardCharsets.US_ASCII));
        assertEquals(sent, started.get(), "all of one read is decoded, past the pipeline's bound");
        long perCommand = budget.usedBytes() / sent;
        assertTrue(perCommand >= ClientInputAccount.argumentBytes(1) + 256,
                "counted " + budget.usedBytes() + " bytes for " + sent + " commands running, " + perCommand + " each");
    }

    private static Command command(Map<String, CompletableFuture<Reply>> commands, Command.Kind kind, String name,
                                   AtomicInteger started) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        commands.put(name, reply);
        return Command.of(kind, session -> {
            started.incrementAndGet();
            return reply;
        });
    }

    private static Command write(Map<String, CompletableFuture<Reply>> writes, String name) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        writes.put(name, reply);
        return new Command() {
            @Override
            public Kind kind() {
                return Kind.WRITE;
            }

            @Override
            public CompletableFuture<Reply> run(Session session) {
                return reply;
            }
        };
    }

    /** The bytes written to the client since the last call. */
    private String written() {
        StringBuilder out = new StringBuilder();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) o;
            out.append(buf.toString(StandardCharsets.UTF_8));
            buf.release();
        }
        return out.toString();
    }

    /** Allocates as usual, or, while {@code failing}, refuses every buffer as exhausted direct memory does. */
    private static final class FailingAllocator extends AbstractByteBufAllocator {
        boolean failing;

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            refuseIfFailing(initialCapacity);
            return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            refuseIfFailing(initialCapacity);
            return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        private void refuseIfFailing(int capacity) {
            if (failing) {
                throw new OutOfMemoryError("test: no direct memory left for " + capacity + " bytes");
            }
        }
    }
}

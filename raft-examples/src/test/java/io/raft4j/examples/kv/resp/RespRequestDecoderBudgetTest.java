package io.raft4j.examples.kv.resp;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoder counting what it buffers in the node's client input budget, evicted or refused by it. */
class RespRequestDecoderBudgetTest {
    private static final RespLimits LIMITS = new RespLimits(1 << 20, 1024, 65536, 1 << 20);
    private static final int CHUNK = 64 << 10; // as large as a socket read

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    private final class Connection {
        final ClientInputAccount account;
        final EmbeddedChannel channel;
        final List<ClientInputEvicted> evictions = new ArrayList<>();

        Connection(ClientInputBudget budget) {
            channel = new EmbeddedChannel();
            account = budget.openAccount(channel);
            channel.pipeline().addLast(new RespRequestDecoder(LIMITS, account), new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt instanceof ClientInputEvicted e) {
                        evictions.add(e);
                    }
                }
            });
            channels.add(channel);
        }

        /** Sends {@code bytes} in socket-sized reads; returns what was decoded. */
        List<Object> send(byte[] bytes) {
            for (int at = 0; at < bytes.length; at += CHUNK) {
                channel.writeInbound(Unpooled.copiedBuffer(bytes, at, Math.min(CHUNK, bytes.length - at)));
            }
            List<Object> out = new ArrayList<>();
            for (Object m; (m = channel.readInbound()) != null; ) {
                out.add(m);
            }
            return out;
        }

        /** What KvServer does when the channel closes. */
        void close() {
            channel.finishAndReleaseAll();
            account.close();
        }
    }

    private static byte[] setHeader(String key, int valueLength) {
        return ("*3\r\n$3\r\nSET\r\n$" + key.length() + "\r\n" + key + "\r\n$" + valueLength + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static byte[] filled(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    @Test
    void theBiggestHolderIsEvictedWhenAnotherConnectionsInputDoesNotFitAndTheOtherCompletes() {
        // 300 KB buffered take a 512 KiB buffer (Netty doubles it as it grows); two do not fit in 768 KiB.
        ClientInputBudget budget = new ClientInputBudget(768 << 10);
        Connection stalled = new Connection(budget);
        Connection second = new Connection(budget);
        int valueLength = 400_000;

        assertEquals(List.of(), stalled.send(concat(setHeader("a", valueLength), filled(300_000, 'a'))));
        assertTrue(stalled.account.heldBytes() >= 300_000, stalled.account.heldBytes() + " bytes held");
        assertEquals(stalled.account.heldBytes(), budget.usedBytes());

        assertEquals(List.of(), second.send(concat(setHeader("b", valueLength), filled(300_000, 'b'))),
                "not refused: the stalled connection holds more");
        assertEquals(1, budget.evictedConnections());
        assertEquals(1, budget.closedConnections());
        assertTrue(stalled.account.isClosed(), "what it held is given back at once");
        assertEquals(second.account.heldBytes(), budget.usedBytes());

        // Until its own event loop runs the eviction, what the evicted connection reads is dropped.
        stalled.channel.writeOneInbound(Unpooled.copiedBuffer(filled(50_000, 'a')));
        assertNull(stalled.channel.readInbound());
        assertEquals(0, stalled.account.heldBytes());
        stalled.channel.runPendingTasks();
        assertEquals(1, stalled.evictions.size(), "its pipeline is told why");
        assertTrue(stalled.evictions.get(0).reason().startsWith("client input over --max-client-input-bytes"),
                stalled.evictions.get(0).reason());
        assertFalse(stalled.channel.isOpen(), "then it is closed, releasing its buffers");

        byte[] rest = concat(filled(valueLength - 300_000, 'b'), "\r\n".getBytes(StandardCharsets.US_ASCII));
        List<Object> done = second.send(rest);
        assertEquals(1, done.size(), "the second connection's command completes");
        @SuppressWarnings("unchecked")
        List<byte[]> args = (List<byte[]>) done.get(0);
        assertArrayEquals(filled(valueLength, 'b'), args.get(2));
        assertEquals(0, budget.usedBytes(), "a completed request leaves nothing buffered (the connection owes it now)");

        stalled.close();
        second.close();
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void aConnectionGrowingPastTheBudgetWhileHoldingTheMostIsRefusedAndReleasedWhileASmallerOneCompletes() {
        ClientInputBudget budget = new ClientInputBudget(400 << 10);
        Connection small = new Connection(budget);
        Connection growing = new Connection(budget);
        int valueLength = 100_000;

        assertEquals(List.of(), small.send(concat(setHeader("a", valueLength), filled(60_000, 'a'))));
        List<Object> refused = growing.send(concat(setHeader("b", 380_000), filled(350_000, 'b')));
        assertEquals(1, refused.size(), refused.toString());
        RespProtocolError error = assertInstanceOf(RespProtocolError.class, refused.get(0));
        assertTrue(error.message().startsWith("client input over --max-client-input-bytes"), error.message());
        assertEquals(0, growing.account.heldBytes(), "the refused connection's buffers are released");
        assertEquals(List.of(), growing.send(filled(200_000, 'b')), "and what it sends next is discarded");
        assertEquals(0, growing.account.heldBytes());
        assertEquals(1, budget.closedConnections());
        assertEquals(0, budget.evictedConnections(), "the smaller connection is left alone");
        assertTrue(small.evictions.isEmpty());

        List<Object> done = small.send(concat(filled(valueLength - 60_000, 'a'), "\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(1, done.size(), "the smaller connection's command completes");
        assertEquals(0, budget.usedBytes());

        small.close();
        growing.close();
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void aReadLargerThanWhatIsLeftIsRefusedBeforeItIsBuffered() {
        ClientInputBudget budget = new ClientInputBudget(10_000);
        Connection c = new Connection(budget);
        List<Object> out = c.send(concat(setHeader("k", 20_000), filled(15_000, 'x')));
        assertInstanceOf(RespProtocolError.class, out.get(0));
        assertEquals(1, out.size());
        assertEquals(0, budget.usedBytes());
        c.close();
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void aBufferThatGrowsByMoreThanTheReadPastTheBudgetIsRefusedOnceItHasGrown() {
        // Past 256 KiB a read of 64 KiB fits in 400 KiB, but Netty doubles the buffer to 512 KiB for it.
        ClientInputBudget budget = new ClientInputBudget(400 << 10);
        Connection c = new Connection(budget);
        List<Object> out = c.send(concat(setHeader("k", 380_000), filled(350_000, 'x')));
        assertEquals(1, out.size());
        assertInstanceOf(RespProtocolError.class, out.get(0));
        assertEquals(0, budget.usedBytes(), "the grown buffer is released at once");
        c.close();
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void theArgumentsAlreadyReadOfAnUnfinishedRequestCount() {
        ClientInputBudget budget = ClientInputBudget.unlimited();
        Connection c = new Connection(budget);
        byte[] partial = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$10\r\nab".getBytes(StandardCharsets.US_ASCII);
        assertEquals(List.of(), c.send(partial));
        // The read is the decoder's buffer (its capacity, exactly its length here), and SET and hello
        // were read out of it, each counted with what an array takes beyond its bytes.
        assertEquals(partial.length + ClientInputAccount.argumentBytes(3) + ClientInputAccount.argumentBytes(5),
                budget.usedBytes());
        List<Object> out = c.send("cdefghij\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, out.size());
        assertEquals(0, budget.usedBytes());
        c.close();
        assertEquals(0, budget.usedBytes());
    }

    /**
     * The arguments of a request decoded whole move from the decoder's count to what the connection
     * owes, never counted in both: a first large argument of an MSET, read in an earlier read, was
     * counted twice until the read completing the request ended.
     */
    @Test
    void theArgumentsOfARequestDecodedWholeAreNotCountedTwiceWhileTheConnectionOwesThem() {
        ClientInputBudget budget = ClientInputBudget.unlimited();
        ClientInputAccount account = budget.openAccount();
        List<Long> bufferedWhenOwed = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(new RespRequestDecoder(LIMITS, account), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                @SuppressWarnings("unchecked")
                List<byte[]> args = (List<byte[]>) msg;
                long bytes = args.stream().mapToLong(a -> a.length).sum();
                account.owe(bytes); // as ClientConnection does
                bufferedWhenOwed.add(budget.usedBytes() - account.owedBytes());
            }
        });
        channels.add(channel);
        int valueLength = 200_000;
        byte[] request = concat(concat(("*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$" + valueLength + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII), filled(valueLength, 'a')),
                concat(("\r\n$1\r\nb\r\n$" + valueLength + "\r\n").getBytes(StandardCharsets.US_ASCII),
                        concat(filled(valueLength, 'b'), "\r\n".getBytes(StandardCharsets.US_ASCII))));
        for (int at = 0; at < request.length; at += CHUNK) {
            channel.writeInbound(Unpooled.copiedBuffer(request, at, Math.min(CHUNK, request.length - at)));
        }
        assertEquals(1, bufferedWhenOwed.size());
        // The buffer only: it holds one 200 KB value at a time, 256 KiB as it grows, and one read may be
        // reserved beyond it; the first value, read out of it, is owed now (counted too, 456 KiB).
        assertTrue(bufferedWhenOwed.get(0) <= (256 << 10) + CHUNK, bufferedWhenOwed.get(0) + " bytes counted as buffered");
        assertEquals(2L * valueLength + 6, budget.usedBytes(), "once the read ends, only what is owed");
        account.paid(account.owedBytes());
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void closingWithARequestHalfReceivedGivesItsBytesBack() {
        ClientInputBudget budget = new ClientInputBudget(1 << 20);
        Connection c = new Connection(budget);
        c.send(concat(setHeader("k", 500_000), filled(200_000, 'x')));
        assertTrue(budget.usedBytes() >= 200_000);
        c.close();
        assertEquals(0, budget.usedBytes());
    }
}

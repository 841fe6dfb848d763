package io.raft4j.examples.kv.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RespCodecTest {
    private static final RespLimits SMALL = new RespLimits(1024, 8, 64, 4096);

    private static List<Object> decodeAll(RespRequestDecoder decoder, String... chunks) {
        List<Object> out = new ArrayList<>();
        ByteBuf acc = Unpooled.buffer();
        for (String chunk : chunks) {
            acc.writeBytes(chunk.getBytes(StandardCharsets.ISO_8859_1));
            decoder.decode(acc, out);
            acc.discardReadBytes();
        }
        return out;
    }

    private static List<Object> decode(String input) {
        return decodeAll(new RespRequestDecoder(SMALL), input);
    }

    @SuppressWarnings("unchecked")
    private static List<String> args(Object decoded) {
        List<String> s = new ArrayList<>();
        for (byte[] b : (List<byte[]>) decoded) {
            s.add(new String(b, StandardCharsets.ISO_8859_1));
        }
        return s;
    }

    private static String error(Object decoded) {
        return assertInstanceOf(RespProtocolError.class, decoded).message();
    }

    @Test
    void decodesArraysOfBulkStrings() {
        List<Object> out = decode("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n");
        assertEquals(1, out.size());
        assertEquals(List.of("SET", "k", "va\r\nl"), args(out.get(0)));
    }

    @Test
    void decodesPipelinedCommandsAndEmptyBulk() {
        List<Object> out = decode("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nx\r\n");
        assertEquals(3, out.size());
        assertEquals(List.of("PING"), args(out.get(0)));
        assertEquals(List.of("ECHO", ""), args(out.get(1)));
        assertEquals(List.of("GET", "x"), args(out.get(2)));
    }

    @Test
    void decodesInputSplitAtEveryByte() {
        String input = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\nPING\r\n";
        String[] chunks = new String[input.length()];
        for (int i = 0; i < input.length(); i++) {
            chunks[i] = input.substring(i, i + 1);
        }
        List<Object> out = decodeAll(new RespRequestDecoder(SMALL), chunks);
        assertEquals(2, out.size());
        assertEquals(List.of("GET", "0123456789"), args(out.get(0)));
        assertEquals(List.of("PING"), args(out.get(1)));
    }

    @Test
    void decodesInlineCommandsWithQuotes() {
        List<Object> out = decode("SET k \"a b\\n\\x41\" \r\nGET 'it\\'s'\n\r\n   \nPING\r\n");
        assertEquals(3, out.size());
        assertEquals(List.of("SET", "k", "a b\nA"), args(out.get(0)));
        assertEquals(List.of("GET", "it's"), args(out.get(1)));
        assertEquals(List.of("PING"), args(out.get(2)));
    }

    @Test
    void ignoresEmptyArrays() {
        List<Object> out = decode("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
        assertEquals(1, out.size());
        assertEquals(List.of("PING"), args(out.get(0)));
    }

    @Test
    void inlineCommandsAreHeldToTheArgumentLimits() {
        // Only maxInlineBytes applied to them: a telnet-style line carried arguments longer than
        // maxBulkBytes, more than maxArrayLength, more bytes than maxRequestBytes.
        RespLimits limits = new RespLimits(4, 2, 64, 6);
        assertEquals(List.of("abcd", "ab"), args(decodeAll(new RespRequestDecoder(limits), "abcd ab\r\n").get(0)));
        assertEquals("Protocol error: invalid multibulk length", error(decodeAll(new RespRequestDecoder(limits), "a b c\r\n").get(0)));
        assertEquals("Protocol error: invalid bulk length", error(decodeAll(new RespRequestDecoder(limits), "GET abcde\r\n").get(0)));
        assertEquals("Protocol error: request larger than 6 bytes",
                error(decodeAll(new RespRequestDecoder(limits), "abcd abc\r\n").get(0)));
    }

    @Test
    void refusesUnbalancedQuotes() {
        List<Object> out = decode("SET k \"abc\r\n");
        assertEquals("Protocol error: unbalanced quotes in request", error(out.get(0)));
        out = decode("SET k \"abc\"def\r\n");
        assertEquals("Protocol error: unbalanced quotes in request", error(out.get(0)));
    }

    @Test
    void refusesHugeBulkLengthBeforeBufferingIt() {
        RespRequestDecoder decoder = new RespRequestDecoder(SMALL);
        List<Object> out = decodeAll(decoder, "*2\r\n$3\r\nGET\r\n$999999999999\r\n");
        assertEquals(1, out.size());
        assertEquals("Protocol error: invalid bulk length", error(out.get(0)));
        // Everything after the error is discarded: the connection is going to be closed.
        out = decodeAll(decoder, "*1\r\n$4\r\nPING\r\n");
        assertTrue(out.isEmpty());
    }

    @Test
    void refusesBulkAboveTheLimit() {
        List<Object> out = decode("*2\r\n$3\r\nGET\r\n$1025\r\n");
        assertEquals("Protocol error: invalid bulk length", error(out.get(0)));
    }

    @Test
    void refusesNegativeAndNonNumericLengths() {
        assertEquals("Protocol error: invalid bulk length", error(decode("*1\r\n$-5\r\n").get(0)));
        assertEquals("Protocol error: invalid bulk length", error(decode("*1\r\n$abc\r\n").get(0)));
        assertEquals("Protocol error: invalid multibulk length", error(decode("*x\r\n").get(0)));
        assertEquals("Protocol error: invalid multibulk length", error(decode("*9\r\n").get(0)));
    }

    @Test
    void refusesLengthsTooLongToBeNumbers() {
        // 19 digits would overflow a long into a negative count, read as an empty request ("*-1"),
        // and the bytes after it would run as commands of their own.
        List<Object> out = decode("*9999999999999999999\r\n$4\r\nPING\r\n");
        assertEquals(1, out.size());
        assertEquals("Protocol error: invalid multibulk length", error(out.get(0)));
        assertEquals("Protocol error: invalid bulk length", error(decode("*1\r\n$9999999999999999999\r\n").get(0)));
    }

    @Test
    void theLargestInlineLimitStillDecodesInlineCommands() {
        RespLimits limits = new RespLimits(1 << 20, 1024, Integer.MAX_VALUE, 1 << 20);
        List<Object> out = decodeAll(new RespRequestDecoder(limits), "PING\r\n");
        assertEquals(1, out.size());
        assertEquals(List.of("PING"), args(out.get(0)));
    }

    @Test
    void bulkLengthsNearIntMaxWaitForTheirBytesInsteadOfOverflowing() {
        // bulkLength + 2 in int arithmetic was negative for these, so the decoder went on to
        // new byte[bulkLength] at once: an OutOfMemoryError, which ends a node run with
        // -XX:+ExitOnOutOfMemoryError (as documented), from one line of one client.
        RespLimits largest = new RespLimits(Integer.MAX_VALUE, 8, 64, Long.MAX_VALUE);
        for (String length : List.of("2147483647", "2147483646")) {
            List<Object> out = decodeAll(new RespRequestDecoder(largest), "*1\r\n$" + length + "\r\n", "abc");
            assertTrue(out.isEmpty(), length + ": " + out);
        }
    }

    @Test
    void refusesTooManyArgumentsAndTooLargeRequests() {
        assertEquals("Protocol error: invalid multibulk length", error(decode("*100000000\r\n").get(0)));
        RespRequestDecoder decoder = new RespRequestDecoder(new RespLimits(1024, 8, 64, 1500));
        List<Object> out = decodeAll(decoder, "*2\r\n$1000\r\n" + "x".repeat(1000) + "\r\n$1000\r\n");
        assertTrue(error(out.get(0)).startsWith("Protocol error: request larger than"));
    }

    @Test
    void refusesHeaderCrNotFollowedByLf() {
        // The byte after a header's CR was skipped unread, whatever it was: these ran PING.
        List<Object> out = decode("*1\r!$4\r\nPING\r\n");
        assertEquals(1, out.size());
        assertEquals("Protocol error: invalid multibulk length", error(out.get(0)));
        out = decode("*1\r\n$4\r!PING\r\n");
        assertEquals(1, out.size());
        assertEquals("Protocol error: invalid bulk length", error(out.get(0)));
    }

    @Test
    void refusesWrongTypeInsideArray() {
        List<Object> out = decode("*2\r\n$3\r\nGET\r\n:12\r\n");
        assertEquals("Protocol error: expected '$', got ':'", error(out.get(0)));
    }

    @Test
    void refusesMissingCrlfAfterBulk() {
        List<Object> out = decode("*1\r\n$4\r\nPINGxx");
        assertEquals("Protocol error: expected CRLF after bulk string", error(out.get(0)));
    }

    @Test
    void refusesTooLongInlineAndHeaderLines() {
        assertEquals("Protocol error: too big inline request", error(decode("GET " + "x".repeat(100)).get(0)));
        assertEquals("Protocol error: too big mbulk count string", error(decode("*" + "1".repeat(40)).get(0)));
        assertEquals("Protocol error: too big bulk count string", error(decode("*1\r\n$" + "1".repeat(40)).get(0)));
    }

    @Test
    void keepsCommandsDecodedBeforeAnError() {
        List<Object> out = decode("*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n");
        assertEquals(2, out.size());
        assertEquals(List.of("PING"), args(out.get(0)));
        assertInstanceOf(RespProtocolError.class, out.get(1));
    }

    @Test
    void repliesRoundTrip() {
        List<Reply> replies = List.of(Reply.OK, Reply.error("ERR boom"), Reply.integer(-42), Reply.bulk("héllo"),
                Reply.NIL, new Reply.Array(null), Reply.EMPTY_ARRAY,
                Reply.array(List.of(Reply.bulk("a"), Reply.NIL, Reply.array(List.of(Reply.integer(1))))));
        ByteBuf buf = Unpooled.buffer();
        for (Reply r : replies) {
            RespWriter.write(r, buf);
        }
        List<Object> out = new ArrayList<>();
        RespReplyDecoder decoder = new RespReplyDecoder(RespLimits.DEFAULT);
        // Feed it in two halves: the partial reply waits for the rest.
        ByteBuf first = buf.readRetainedSlice(buf.readableBytes() / 2);
        ByteBuf acc = Unpooled.buffer();
        acc.writeBytes(first);
        decoder.decode(acc, out);
        acc.writeBytes(buf);
        decoder.decode(acc, out);
        assertEquals(replies, out);
    }

    @Test
    void writesRedisWireFormat() {
        ByteBuf buf = Unpooled.buffer();
        RespWriter.write(Reply.array(List.of(Reply.bulk("a"), Reply.NIL, Reply.integer(3))), buf);
        assertEquals("*3\r\n$1\r\na\r\n$-1\r\n:3\r\n", buf.toString(StandardCharsets.US_ASCII));
        buf.clear();
        RespWriter.writeCommand(List.of("GET".getBytes(StandardCharsets.US_ASCII), new byte[0]), buf);
        assertEquals("*2\r\n$3\r\nGET\r\n$0\r\n\r\n", buf.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void splitsInlineLikeRedis() {
        assertEquals(List.of(), strings(RespRequestDecoder.splitInline("   ".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(List.of("a", "b c", ""), strings(RespRequestDecoder.splitInline("a \"b c\" ''".getBytes(StandardCharsets.US_ASCII))));
        assertNull(RespRequestDecoder.splitInline("'abc".getBytes(StandardCharsets.US_ASCII)));
    }

    private static List<String> strings(List<byte[]> list) {
        List<String> s = new ArrayList<>();
        for (byte[] b : list) {
            s.add(new String(b, StandardCharsets.ISO_8859_1));
        }
        return s;
    }

    /** An inline line trickled in byte by byte is searched once, not again from its start on every read. */
    @Test
    void anInlineLineArrivingByteByByteIsSearchedOnce() {
        RespRequestDecoder decoder = new RespRequestDecoder(RespLimits.DEFAULT);
        String line = "SET k " + "v".repeat(60_000) + "\r\n";
        String[] bytes = line.split("");
        List<Object> out = decodeAll(decoder, bytes);
        assertEquals(List.of("SET", "k", "v".repeat(60_000)), args(out.get(0)));
        assertTrue(decoder.inlineBytesSearched <= line.length(),
                decoder.inlineBytesSearched + " bytes searched for a line of " + line.length());
    }
}

package io.raft4j.examples.kv.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes client requests: RESP arrays of bulk strings ({@code *2\r\n$3\r\nGET\r\n$1\r\nk\r\n}) and
 * inline commands ({@code GET k\r\n}, as typed into telnet). Emits one {@code List<byte[]>} per
 * command, or a {@link RespProtocolError} after which it discards all further input.
 *
 * <p>Incremental: a bulk string is read once its announced length has arrived, without re-parsing
 * the arguments already read. Every length is checked against {@link RespLimits} as soon as its
 * header arrives, so a client announcing a huge argument is refused before anything is buffered.
 *
 * <p>What it buffers (Netty's cumulation, by its capacity, and the arguments of the request being
 * read) is counted in the connection's {@link ClientInputAccount} after every read. A read that
 * would take the node's {@link ClientInputBudget} over its limit first has the connections holding
 * more than this one evicted, biggest first; if that is not enough, it is refused before it is
 * buffered, or, if the buffer grew by more than the read, just after: the request being received is
 * dropped, the buffers released, and a {@link RespProtocolError} saying why is emitted, as for a
 * request over a limit of {@link RespLimits}. Once this connection is evicted itself, what it reads
 * is dropped unread until its event loop closes it.
 */
public final class RespRequestDecoder extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(RespRequestDecoder.class);

    /** Header lines ({@code *n}, {@code $n}) longer than this are refused. */
    private static final int MAX_HEADER_LINE = 32;

    private final RespLimits limits;
    private final ClientInputAccount input;
    private boolean failed;
    /** Set when the budget refuses this connection: the next decode() fails with it at once. */
    private String refusal;
    /** What the arguments already read of the request being read hold ({@link ClientInputAccount#argumentBytes}). */
    private long partialArgBytes;
    /** Of those, the bytes the account counts as buffered: as many as there were at the last settle. */
    private long partialArgBytesCounted;
    /** Arguments still to read in the current array, or -1 between commands. */
    private long remainingArgs = -1;
    /** Length of the bulk string being read, or -1 while waiting for its {@code $} header. */
    private int bulkLength = -1;
    private long requestBytes;
    private List<byte[]> args;
    /**
     * Bytes of an unfinished inline line already searched for its LF, from the reader index: the
     * next read searches only what arrived since. (Searching from the line's start each time made a
     * client that trickles a 64 KiB line byte by byte cost the event loop some 2 billion byte
     * comparisons.)
     */
    private int inlineSearched;
    /** Bytes examined by inline line searches so far: the work they cost, for tests. */
    long inlineBytesSearched;

    /** A decoder counting its input in a budget of its own, without a limit. */
    public RespRequestDecoder(RespLimits limits) {
        this(limits, ClientInputBudget.unlimited().openAccount());
    }

    public RespRequestDecoder(RespLimits limits, ClientInputAccount input) {
        this.limits = limits;
        this.input = input;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf in && input.isClosed()) {
            // Evicted by another connection's input: its close is on its way, and the budget no longer counts this.
            in.release();
            return;
        }
        if (msg instanceof ByteBuf in && !failed && !input.reserveBuffered(leastGrowth(in))) {
            in.release();
            refuse(ctx);
            return;
        }
        super.channelRead(ctx, msg);
        if (!settle() && !failed) {
            refuse(ctx);
        }
    }

    /**
     * At the end of the client's input (it half-closed), ByteToMessageDecoder decodes what it can of
     * what it holds and releases the rest; a request left unfinished never will be. The connection
     * may stay open a while for the replies it is owed, so what this decoder held leaves the budget
     * now, not when it closes.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        super.userEventTriggered(ctx, evt);
        if (evt instanceof ChannelInputShutdownEvent) {
            args = null;
            partialArgBytes = 0;
            remainingArgs = -1;
            bulkLength = -1;
            settle();
        }
    }

    /** Counts exactly what this decoder holds now; false if it grew over the limit, holding the most. */
    private boolean settle() {
        partialArgBytesCounted = partialArgBytes;
        return input.settleBuffered(bufferedBytes());
    }

    /**
     * The least the buffered bytes grow by when {@code in} is read: the part of it that does not fit
     * in the capacity held (Netty then grows the buffer by more, or the read becomes the buffer).
     */
    private long leastGrowth(ByteBuf in) {
        ByteBuf held = internalBuffer();
        return Math.max(0L, (long) held.readableBytes() + in.readableBytes() - held.capacity());
    }

    /** What this decoder holds now: its cumulation (capacity, not content: the memory) and the arguments read. */
    private long bufferedBytes() {
        return internalBuffer().capacity() + partialArgBytes;
    }

    /** Refuses this connection for the budget: fails with the refusal and releases what is buffered. */
    private void refuse(ChannelHandlerContext ctx) throws Exception {
        refusal = input.refuse();
        LOG.warn("client {}: closed, its request would take the memory held by clients' input over"
                + " --max-client-input-bytes, and no other evictable connection holds more than it would",
                ctx.channel().remoteAddress());
        if (internalBuffer().isReadable()) {
            // An empty read makes ByteToMessageDecoder run decode() on what it holds, which fails with
            // the refusal and skips it all, and then release its emptied cumulation at once.
            super.channelRead(ctx, Unpooled.EMPTY_BUFFER);
        } else {
            List<Object> out = new ArrayList<>(1);
            decode(Unpooled.EMPTY_BUFFER, out);
            for (Object o : out) {
                ctx.fireChannelRead(o);
            }
        }
        settle();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(in, out);
    }

    /** The decoding step, separate from Netty for unit tests. */
    void decode(ByteBuf in, List<Object> out) {
        if (refusal != null && !failed) {
            fail(in, out, refusal);
            return;
        }
        while (in.isReadable() && !failed) {
            if (remainingArgs < 0) {
                byte first = in.getByte(in.readerIndex());
                if (first == '*') {
                    int cr = findCr(in, in.readerIndex(), MAX_HEADER_LINE);
                    if (cr == NEED_MORE) {
                        return;
                    }
                    if (cr == TOO_LONG) {
                        fail(in, out, "Protocol error: too big mbulk count string");
                        return;
                    }
                    long n = parseNumber(in, in.readerIndex() + 1, cr);
                    if (n == INVALID || n > limits.maxArrayLength()) {
                        fail(in, out, "Protocol error: invalid multibulk length");
                        return;
                    }
                    in.readerIndex(cr + 2);
                    if (n <= 0) {
                        continue; // "*0" and "*-1" are empty requests: ignored, as Redis does
                    }
                    remainingArgs = n;
                    requestBytes = 0;
                    partialArgBytes = 0;
                    args = new ArrayList<>((int) Math.min(n, 64));
                    bulkLength = -1;
                } else {
                    if (!readInline(in, out)) {
                        return;
                    }
                    continue;
                }
            }
            if (bulkLength < 0) {
                int cr = findCr(in, in.readerIndex(), MAX_HEADER_LINE);
                if (cr == NEED_MORE) {
                    return;
                }
                if (cr == TOO_LONG) {
                    fail(in, out, "Protocol error: too big bulk count string");
                    return;
                }
                byte first = in.getByte(in.readerIndex());
                if (first != '$') {
                    fail(in, out, "Protocol error: expected '$', got '" + printable(first) + "'");
                    return;
                }
                long len = parseNumber(in, in.readerIndex() + 1, cr);
                if (len == INVALID || len < 0 || len > limits.maxBulkBytes()) {
                    fail(in, out, "Protocol error: invalid bulk length");
                    return;
                }
                requestBytes += len;
                if (requestBytes > limits.maxRequestBytes()) {
                    fail(in, out, "Protocol error: request larger than " + limits.maxRequestBytes() + " bytes");
                    return;
                }
                in.readerIndex(cr + 2);
                bulkLength = (int) len;
            }
            // In long: at --max-bulk-bytes near Integer.MAX_VALUE, bulkLength + 2 overflows to negative.
            if (in.readableBytes() < bulkLength + 2L) {
                return;
            }
            byte[] value = new byte[bulkLength];
            in.readBytes(value);
            if (in.readByte() != '\r' || in.readByte() != '\n') {
                fail(in, out, "Protocol error: expected CRLF after bulk string");
                return;
            }
            args.add(value);
            partialArgBytes += ClientInputAccount.argumentBytes(value.length);
            bulkLength = -1;
            if (--remainingArgs == 0) {
                // The connection owes these arguments once it has the request: counted as buffered until
                // this read ends, they were counted twice meanwhile (a large MSET, up to a whole
                // request), which could take the total over the limit and have a connection evicted.
                input.unbuffer(partialArgBytesCounted);
                partialArgBytesCounted = 0;
                out.add(args);
                args = null;
                partialArgBytes = 0;
                remainingArgs = -1;
            }
        }
        if (failed) {
            in.skipBytes(in.readableBytes());
        }
    }

    /** Reads one inline command line; false if the line is not complete yet. */
    private boolean readInline(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int searchable = (int) Math.min(in.readableBytes(), limits.maxInlineBytes() + 1L);
        int lf = in.indexOf(start + inlineSearched, start + searchable, (byte) '\n');
        inlineBytesSearched += (lf < 0 ? start + searchable : lf + 1) - (start + inlineSearched);
        if (lf < 0) {
            inlineSearched = searchable;
            if (in.readableBytes() > limits.maxInlineBytes()) {
                fail(in, out, "Protocol error: too big inline request");
            }
            return false;
        }
        inlineSearched = 0;
        int end = lf;
        if (end > start && in.getByte(end - 1) == '\r') {
            end--;
        }
        byte[] line = new byte[end - start];
        in.getBytes(start, line);
        in.readerIndex(lf + 1);
        List<byte[]> tokens = splitInline(line);
        if (tokens == null) {
            fail(in, out, "Protocol error: unbalanced quotes in request");
            return false;
        }
        String overLimit = overLimit(tokens);
        if (overLimit != null) {
            fail(in, out, overLimit);
            return false;
        }
        if (!tokens.isEmpty()) {
            out.add(tokens);
        }
        return true;
    }

    /**
     * The error for an inline command over the limits an array is held to, or null: otherwise a
     * line within maxInlineBytes could carry arguments longer than maxBulkBytes, or more of them
     * than maxArrayLength, when those are configured below it.
     */
    private String overLimit(List<byte[]> args) {
        if (args.size() > limits.maxArrayLength()) {
            return "Protocol error: invalid multibulk length";
        }
        long total = 0;
        for (byte[] arg : args) {
            if (arg.length > limits.maxBulkBytes()) {
                return "Protocol error: invalid bulk length";
            }
            total += arg.length;
            if (total > limits.maxRequestBytes()) {
                return "Protocol error: request larger than " + limits.maxRequestBytes() + " bytes";
            }
        }
        return null;
    }

    private void fail(ByteBuf in, List<Object> out, String message) {
        failed = true;
        args = null;
        partialArgBytes = 0;
        in.skipBytes(in.readableBytes());
        out.add(new RespProtocolError(message));
    }

    private static final int NEED_MORE = -1;
    private static final int TOO_LONG = -2;
    private static final long INVALID = Long.MIN_VALUE;

    /** Index of the CR of a complete CRLF line starting at {@code from}, or NEED_MORE / TOO_LONG. */
    private static int findCr(ByteBuf in, int from, int maxLine) {
        int available = in.writerIndex() - from;
        int cr = in.indexOf(from, from + Math.min(available, maxLine + 1), (byte) '\r');
        if (cr < 0) {
            return available > maxLine ? TOO_LONG : NEED_MORE;
        }
        if (cr + 1 >= in.writerIndex()) {
            return NEED_MORE;
        }
        return cr;
    }

    /**
     * Parses the number of a header line: an optionally negative decimal in [from, to), where
     * {@code to} is the CR, which must be followed by LF; INVALID if it is not one. (Skipping
     * whatever byte follows the CR took {@code *1\r!$4\r\nPING\r\n} for a command.)
     */
    private static long parseNumber(ByteBuf in, int from, int to) {
        if (in.getByte(to + 1) != '\n' || from >= to || to - from > 19) {
            return INVALID;
        }
        boolean negative = in.getByte(from) == '-';
        int i = negative ? from + 1 : from;
        // At most 18 digits, so the value cannot overflow (and 19 would not be a sane length anyway).
        if (i >= to || to - i > 18) {
            return INVALID;
        }
        long value = 0;
        for (; i < to; i++) {
            byte b = in.getByte(i);
            if (b < '0' || b > '9') {
                return INVALID;
            }
            value = value * 10 + (b - '0');
        }
        return negative ? -value : value;
    }

    private static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
    }

    /**
     * Splits an inline command like Redis's {@code sdssplitargs}: spaces separate arguments;
     * {@code "..."} understands {@code \n \r \t \b \a \\ \" \xHH}; {@code '...'} understands
     * {@code \'}. A closing quote must be followed by a space or the end of the line.
     *
     * @return the arguments, or {@code null} if the quotes are unbalanced
     */
    static List<byte[]> splitInline(byte[] line) {
        List<byte[]> tokens = new ArrayList<>();
        int i = 0;
        int n = line.length;
        while (true) {
            while (i < n && isSpace(line[i])) {
                i++;
            }
            if (i >= n) {
                return tokens;
            }
            ByteArrayOutputStream token = new ByteArrayOutputStream();
            boolean inDouble = false;
            boolean inSingle = false;
            boolean done = false;
            while (!done) {
                if (inDouble) {
                    if (i >= n) {
                        return null;
                    }
                    byte c = line[i];
                    if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
                        token.write(Character.digit(line[i + 2], 16) * 16 + Character.digit(line[i + 3], 16));
                        i += 3;
                    } else if (c == '\\' && i + 1 < n) {
                        i++;
                        token.write(switch (line[i]) {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> 7;
                            default -> line[i];
                        });
                    } else if (c == '"') {
                        if (i + 1 < n && !isSpace(line[i + 1])) {
                            return null;
                        }
                        done = true;
                    } else {
                        token.write(c);
                    }
                } else if (inSingle) {
                    if (i >= n) {
                        return null;
                    }
                    byte c = line[i];
                    if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
                        i++;
                        token.write('\'');
                    } else if (c == '\'') {
                        if (i + 1 < n && !isSpace(line[i + 1])) {
                            return null;
                        }
                        done = true;
                    } else {
                        token.write(c);
                    }
                } else {
                    if (i >= n) {
                        done = true;
                        continue;
                    }
                    byte c = line[i];
                    if (isSpace(c)) {
                        done = true;
                    } else if (c == '"') {
                        inDouble = true;
                    } else if (c == '\'') {
                        inSingle = true;
                    } else {
                        token.write(c);
                    }
                }
                if (i < n) {
                    i++;
                }
            }
            tokens.add(token.toByteArray());
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == '\f';
    }

    private static boolean isHex(byte b) {
        return Character.digit(b, 16) >= 0;
    }
}

package io.raft4j.examples.kv.resp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link RespRequestDecoder} must make of an input, worked out the plain way: one pass over
 * all of it at once, no state kept between reads. The decoder reads incrementally and keeps its
 * place between reads; {@link RespRequestDecoderFuzzTest} checks that, however the bytes are split,
 * it ends up here.
 *
 * <p>The rules: between commands, a {@code *} starts an array header, anything else an inline line.
 * A header ({@code *n} or {@code $n}) is at most {@value #HEADER_LINE} bytes before its CRLF, and
 * its number is an optional minus and 1 to 18 digits followed by CR and LF. An array of at most
 * {@code maxArrayLength} items holds that many bulk strings, each at most {@code maxBulkBytes} and
 * all together at most {@code maxRequestBytes}, refused as soon as the header announcing too much
 * has arrived; {@code *0} and negative counts are empty requests, skipped. An inline line is at most
 * {@code maxInlineBytes} before its LF (a CR before the LF is dropped), split as Redis splits it
 * ({@link RespRequestDecoder#splitInline}, tested on its own in {@link RespCodecTest}) and held to
 * the same argument limits; a blank line is skipped. After the first error nothing more is read.
 */
final class RespRequestModel {
    /** Longest header line, type byte included, CRLF not. */
    static final int HEADER_LINE = 32;

    /**
     * @param messages the commands ({@code List<byte[]>}) and at most one {@link RespProtocolError}, last
     * @param leftover bytes at the end that belong to an item not complete yet, which the decoder must still hold
     */
    record Outcome(List<Object> messages, int leftover) {
    }

    private final byte[] in;
    private final RespLimits limits;
    private final List<Object> messages = new ArrayList<>();
    /** Where the item the decoder waits to complete starts: it has consumed everything before. */
    private int waitingFrom;

    private static final int ERROR = -1;
    private static final int WAIT = -2;

    private RespRequestModel(byte[] in, RespLimits limits) {
        this.in = in;
        this.limits = limits;
    }

    static Outcome decode(byte[] in, RespLimits limits) {
        return new RespRequestModel(in, limits).run();
    }

    private Outcome run() {
        int pos = 0;
        while (pos < in.length) {
            int next = in[pos] == '*' ? array(pos) : inline(pos);
            if (next == ERROR) {
                return new Outcome(messages, 0); // the rest is discarded
            }
            if (next == WAIT) {
                return new Outcome(messages, in.length - waitingFrom);
            }
            pos = next;
        }
        return new Outcome(messages, 0);
    }

    /** An array of bulk strings at {@code pos}: the offset after it, WAIT or ERROR. */
    private int array(int pos) {
        int cr = headerCr(pos, "too big mbulk count string");
        if (cr < 0) {
            return cr;
        }
        Long count = number(pos + 1, cr);
        if (count == null || count > limits.maxArrayLength()) {
            return error("invalid multibulk length");
        }
        int at = cr + 2;
        List<byte[]> args = new ArrayList<>();
        long total = 0;
        for (long i = 0; i < count; i++) {
            cr = headerCr(at, "too big bulk count string");
            if (cr < 0) {
                return cr; // the header and the strings before it are consumed, this one is not
            }
            if (in[at] != '$') {
                return error("expected '$', got '" + printable(in[at]) + "'");
            }
            Long length = number(at + 1, cr);
            if (length == null || length < 0 || length > limits.maxBulkBytes()) {
                return error("invalid bulk length");
            }
            total += length;
            if (total > limits.maxRequestBytes()) {
                return error("request larger than " + limits.maxRequestBytes() + " bytes");
            }
            at = cr + 2;
            if (in.length - at < length + 2) {
                return waitFrom(at); // its header is consumed, the string waits to arrive whole
            }
            int end = at + length.intValue();
            if (in[end] != '\r' || in[end + 1] != '\n') {
                return error("expected CRLF after bulk string");
            }
            args.add(Arrays.copyOfRange(in, at, end));
            at = end + 2;
        }
        if (!args.isEmpty()) {
            messages.add(args);
        }
        return at;
    }

    /** An inline line at {@code pos}: the offset after it, WAIT or ERROR. */
    private int inline(int pos) {
        int lf = pos;
        while (lf < in.length && in[lf] != '\n') {
            lf++;
        }
        if (lf - pos > limits.maxInlineBytes()) {
            return error("too big inline request"); // refused once more than the limit arrived without LF
        }
        if (lf == in.length) {
            return waitFrom(pos);
        }
        int end = lf > pos && in[lf - 1] == '\r' ? lf - 1 : lf;
        List<byte[]> args = RespRequestDecoder.splitInline(Arrays.copyOfRange(in, pos, end));
        if (args == null) {
            return error("unbalanced quotes in request");
        }
        if (args.size() > limits.maxArrayLength()) {
            return error("invalid multibulk length");
        }
        long total = 0;
        for (byte[] arg : args) {
            total += arg.length;
            if (arg.length > limits.maxBulkBytes()) {
                return error("invalid bulk length");
            }
            if (total > limits.maxRequestBytes()) {
                return error("request larger than " + limits.maxRequestBytes() + " bytes");
            }
        }
        if (!args.isEmpty()) {
            messages.add(args);
        }
        return lf + 1;
    }

    /** The index of the CR ending the header line at {@code pos}; WAIT if it has not arrived whole, or ERROR. */
    private int headerCr(int pos, String tooLong) {
        for (int i = pos; i < in.length && i - pos <= HEADER_LINE; i++) {
            if (in[i] == '\r') {
                return i + 1 < in.length ? i : waitFrom(pos);
            }
        }
        return in.length - pos > HEADER_LINE ? error(tooLong) : waitFrom(pos);
    }

    private int waitFrom(int pos) {
        waitingFrom = pos;
        return WAIT;
    }

    /** The number in [from, cr) if it is one and LF follows the CR, else null. */
    private Long number(int from, int cr) {
        if (in[cr + 1] != '\n') {
            return null;
        }
        int digits = from < cr && in[from] == '-' ? from + 1 : from;
        if (digits == cr || cr - digits > 18) {
            return null;
        }
        long value = 0;
        for (int i = digits; i < cr; i++) {
            if (in[i] < '0' || in[i] > '9') {
                return null;
            }
            value = value * 10 + (in[i] - '0');
        }
        return digits > from ? -value : value;
    }

    private int error(String message) {
        messages.add(new RespProtocolError("Protocol error: " + message));
        return ERROR;
    }

    private static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
    }
}

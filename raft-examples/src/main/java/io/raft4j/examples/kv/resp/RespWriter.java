package io.raft4j.examples.kv.resp;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes RESP2 replies and commands into Netty buffers. */
public final class RespWriter {
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] NIL_BULK = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NIL_ARRAY = "*-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);

    private RespWriter() {
    }

    /** Appends {@code reply} to {@code out}. */
    public static void write(Reply reply, ByteBuf out) {
        if (reply == Reply.OK) {
            out.writeBytes(OK);
        } else if (reply instanceof Reply.Simple s) {
            out.writeByte('+');
            out.writeCharSequence(s.text(), StandardCharsets.UTF_8);
            out.writeBytes(CRLF);
        } else if (reply instanceof Reply.Error e) {
            out.writeByte('-');
            out.writeCharSequence(e.text(), StandardCharsets.UTF_8);
            out.writeBytes(CRLF);
        } else if (reply instanceof Reply.Int i) {
            out.writeByte(':');
            writeDecimal(i.value(), out);
            out.writeBytes(CRLF);
        } else if (reply instanceof Reply.Bulk b) {
            if (b.value() == null) {
                out.writeBytes(NIL_BULK);
            } else {
                writeBulk(b.value(), out);
            }
        } else if (reply instanceof Reply.Array a) {
            if (a.items() == null) {
                out.writeBytes(NIL_ARRAY);
            } else {
                out.writeByte('*');
                writeDecimal(a.items().size(), out);
                out.writeBytes(CRLF);
                for (Reply item : a.items()) {
                    write(item, out);
                }
            }
        } else {
            throw new IllegalArgumentException("unknown reply " + reply);
        }
    }

    /** Appends a command as a RESP array of bulk strings. */
    public static void writeCommand(List<byte[]> args, ByteBuf out) {
        out.writeByte('*');
        writeDecimal(args.size(), out);
        out.writeBytes(CRLF);
        for (byte[] arg : args) {
            writeBulk(arg, out);
        }
    }

    private static void writeBulk(byte[] value, ByteBuf out) {
        out.writeByte('$');
        writeDecimal(value.length, out);
        out.writeBytes(CRLF);
        out.writeBytes(value);
        out.writeBytes(CRLF);
    }

    /**
     * Upper bound of the encoded size of {@code reply}, for sizing buffers. A long: an MGET naming
     * one large value many times answers an array of references to one array, which costs nothing
     * to build but encodes to more than an int counts.
     */
    public static long estimateSize(Reply reply) {
        if (reply instanceof Reply.Bulk b) {
            return b.value() == null ? 5 : b.value().length + 16L;
        }
        if (reply instanceof Reply.Array a) {
            long n = 16;
            if (a.items() != null) {
                for (Reply r : a.items()) {
                    n += estimateSize(r);
                }
            }
            return n;
        }
        if (reply instanceof Reply.Simple s) {
            return s.text().length() * 3L + 3;
        }
        if (reply instanceof Reply.Error e) {
            return e.text().length() * 3L + 3;
        }
        return 24;
    }

    /** Upper bound of the encoded size of a command. */
    public static int estimateSize(List<byte[]> args) {
        int n = 16;
        for (byte[] a : args) {
            n += a.length + 16;
        }
        return n;
    }

    private static void writeDecimal(long value, ByteBuf out) {
        if (value >= 0 && value < 10) {
            out.writeByte('0' + (int) value);
        } else {
            out.writeCharSequence(Long.toString(value), StandardCharsets.US_ASCII);
        }
    }
}

package io.raft4j.examples.kv.resp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes RESP2 replies into {@link Reply} values, for the client side: a follower forwarding to
 * the leader, the benchmark's clients, tests. A reply is decoded once it has arrived whole (the
 * parse restarts from its first byte otherwise); lengths are checked against {@link RespLimits}.
 */
public final class RespReplyDecoder extends ByteToMessageDecoder {
    private static final int MAX_LINE = 64 << 10;
    private static final int MAX_DEPTH = 32;

    private final RespLimits limits;

    public RespReplyDecoder(RespLimits limits) {
        this.limits = limits;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(in, out);
    }

    /** Decodes every complete reply in {@code in}; leaves a partial one unread. */
    public void decode(ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int start = in.readerIndex();
            Reply r = parse(in, 0);
            if (r == null) {
                in.readerIndex(start);
                return;
            }
            out.add(r);
        }
    }

    /** One reply, or null (reader index undefined) if it has not arrived whole. */
    private Reply parse(ByteBuf in, int depth) {
        if (depth > MAX_DEPTH) {
            throw new DecoderException("RESP reply nested too deeply");
        }
        if (!in.isReadable()) {
            return null;
        }
        int lineStart = in.readerIndex() + 1;
        int cr = in.indexOf(lineStart, in.writerIndex(), (byte) '\r');
        if (cr < 0 || cr + 1 >= in.writerIndex()) {
            if (in.readableBytes() > MAX_LINE) {
                throw new DecoderException("RESP reply line too long");
            }
            return null;
        }
        byte type = in.getByte(in.readerIndex());
        String line = in.toString(lineStart, cr - lineStart, StandardCharsets.UTF_8);
        in.readerIndex(cr + 2);
        switch (type) {
            case '+':
                return new Reply.Simple(line);
            case '-':
                return new Reply.Error(line);
            case ':':
                return new Reply.Int(number(line));
            case '$': {
                long len = number(line);
                if (len < 0) {
                    return Reply.NIL;
                }
                if (len > limits.maxBulkBytes()) {
                    throw new DecoderException("RESP bulk reply of " + len + " bytes exceeds the limit");
                }
                if (in.readableBytes() < len + 2) {
                    return null;
                }
                byte[] value = new byte[(int) len];
                in.readBytes(value);
                in.skipBytes(2);
                return new Reply.Bulk(value);
            }
            case '*': {
                long n = number(line);
                if (n < 0) {
                    return new Reply.Array(null);
                }
                if (n > limits.maxArrayLength()) {
                    throw new DecoderException("RESP array reply of " + n + " items exceeds the limit");
                }
                List<Reply> items = new ArrayList<>((int) Math.min(n, 1024));
                for (long i = 0; i < n; i++) {
                    Reply item = parse(in, depth + 1);
                    if (item == null) {
                        return null;
                    }
                    items.add(item);
                }
                return new Reply.Array(items);
            }
            default:
                throw new DecoderException("not a RESP reply: type byte " + (type & 0xff));
        }
    }

    private static long number(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new DecoderException("bad number in RESP reply: " + s);
        }
    }
}

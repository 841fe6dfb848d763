package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.session.SessionStateMachine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * How the replies that client sessions keep (for answering a retried {@code RAFT.ONCE}) are written
 * into snapshots: a tag byte per reply, then its text, integer, bytes or items.
 */
final class SessionReplyCodec implements SessionStateMachine.ResultCodec<Reply> {
    static final SessionReplyCodec INSTANCE = new SessionReplyCodec();

    private static final int SIMPLE = 1;
    private static final int ERROR = 2;
    private static final int INT = 3;
    private static final int BULK = 4;
    private static final int ARRAY = 5;

    private SessionReplyCodec() {
    }

    @Override
    public byte[] encode(Reply reply) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(reply, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // not from a byte array
        }
        return bytes.toByteArray();
    }

    private static void write(Reply reply, DataOutputStream out) throws IOException {
        if (reply instanceof Reply.Simple s) {
            out.writeByte(SIMPLE);
            writeBytes(s.text().getBytes(StandardCharsets.UTF_8), out);
        } else if (reply instanceof Reply.Error e) {
            out.writeByte(ERROR);
            writeBytes(e.text().getBytes(StandardCharsets.UTF_8), out);
        } else if (reply instanceof Reply.Int i) {
            out.writeByte(INT);
            out.writeLong(i.value());
        } else if (reply instanceof Reply.Bulk b) {
            out.writeByte(BULK);
            writeBytes(b.value(), out);
        } else {
            List<Reply> items = ((Reply.Array) reply).items();
            out.writeByte(ARRAY);
            out.writeInt(items == null ? -1 : items.size());
            if (items != null) {
                for (Reply item : items) {
                    write(item, out);
                }
            }
        }
    }

    private static void writeBytes(byte[] value, DataOutputStream out) throws IOException {
        out.writeInt(value == null ? -1 : value.length);
        if (value != null) {
            out.write(value);
        }
    }

    /** @throws IllegalArgumentException if the bytes are not a reply this codec wrote (a damaged snapshot) */
    @Override
    public Reply decode(byte[] bytes) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            Reply reply = read(in);
            if (in.available() != 0) {
                throw new IllegalArgumentException(in.available() + " bytes after a session's reply");
            }
            return reply;
        } catch (IOException e) {
            throw new IllegalArgumentException("a session's reply in the snapshot is cut short", e);
        }
    }

    private static Reply read(DataInputStream in) throws IOException {
        int tag = in.readUnsignedByte();
        return switch (tag) {
            case SIMPLE -> Reply.simple(new String(readBytes(in), StandardCharsets.UTF_8));
            case ERROR -> new Reply.Error(new String(readBytes(in), StandardCharsets.UTF_8));
            case INT -> Reply.integer(in.readLong());
            case BULK -> Reply.bulk(readBytes(in));
            case ARRAY -> {
                int n = in.readInt();
                if (n < -1 || n > in.available()) {
                    throw new IllegalArgumentException("implausible reply array length " + n);
                }
                List<Reply> items = n < 0 ? null : new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    items.add(read(in));
                }
                yield new Reply.Array(items == null ? null : List.copyOf(items));
            }
            default -> throw new IllegalArgumentException("unknown reply tag " + tag + " in a session's reply");
        };
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < -1 || n > in.available()) {
            throw new IllegalArgumentException("implausible length " + n + " in a session's reply");
        }
        if (n < 0) {
            return null;
        }
        byte[] value = new byte[n];
        in.readFully(value);
        return value;
    }
}

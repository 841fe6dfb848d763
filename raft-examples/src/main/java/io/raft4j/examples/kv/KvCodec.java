package io.raft4j.examples.kv;

import io.raft4j.message.Bytes;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The compact binary encoding of the key-value commands in the Raft log (writes) and of the queries
 * handed to {@code RaftNode.query} (reads). Not RESP: one opcode byte, then the fields; byte strings
 * as a varint length and the bytes; integers as 8 bytes big-endian.
 *
 * <pre>
 * SET     01 flags key value [expected]   flags: bits 0-1 condition (0 none, 1 NX, 2 XX, 3 IFEQ), bit 2 GET
 * DEL     02 count key...
 * INCRBY  03 key delta(8)
 * MSET    04 count (key value)...
 * META    05 node-id client-address       records where a node serves clients (see KvStateMachine)
 * ONCE    06 session-frame                 a client session's registration, or one of the writes
 *                                          above numbered in a session (raft-core's SessionStateMachine
 *                                          frame: applied once however often it is retried)
 * GET     20 key                           (queries)
 * MGET    21 count key...
 * EXISTS  22 count key...
 * DBSIZE  23
 * </pre>
 *
 * Opcodes are never reused: a log written by this version stays readable by later ones.
 */
public final class KvCodec {
    public static final byte SET = 0x01;
    public static final byte DEL = 0x02;
    public static final byte INCRBY = 0x03;
    public static final byte MSET = 0x04;
    public static final byte META = 0x05;
    public static final byte ONCE = 0x06;
    public static final byte GET = 0x20;
    public static final byte MGET = 0x21;
    public static final byte EXISTS = 0x22;
    public static final byte DBSIZE = 0x23;

    /** Condition of a SET. */
    public enum Condition { ALWAYS, NX, XX, IFEQ }

    private static final int FLAG_GET = 0x04;

    private KvCodec() {
    }

    public static Bytes set(byte[] key, byte[] value, Condition condition, byte[] expected, boolean returnOld) {
        Writer w = new Writer(key.length + value.length + (expected == null ? 0 : expected.length) + 16);
        w.u8(SET);
        w.u8(condition.ordinal() | (returnOld ? FLAG_GET : 0));
        w.bytes(key);
        w.bytes(value);
        if (condition == Condition.IFEQ) {
            w.bytes(expected);
        }
        return w.toBytes();
    }

    public static Bytes set(byte[] key, byte[] value) {
        return set(key, value, Condition.ALWAYS, null, false);
    }

    public static Bytes del(List<byte[]> keys) {
        return keyList(DEL, keys);
    }

    public static Bytes incrBy(byte[] key, long delta) {
        Writer w = new Writer(key.length + 16);
        w.u8(INCRBY);
        w.bytes(key);
        w.i64(delta);
        return w.toBytes();
    }

    /** {@code pairs} alternates keys and values. */
    public static Bytes mset(List<byte[]> pairs) {
        if (pairs.size() % 2 != 0) {
            throw new IllegalArgumentException("MSET needs key/value pairs");
        }
        int size = 8;
        for (byte[] b : pairs) {
            size += b.length + 5;
        }
        Writer w = new Writer(size);
        w.u8(MSET);
        w.varint(pairs.size() / 2);
        for (byte[] b : pairs) {
            w.bytes(b);
        }
        return w.toBytes();
    }

    /** Records where {@code nodeId} serves clients; an empty {@code clientAddress} forgets it (see {@link #forget}). */
    public static Bytes meta(String nodeId, String clientAddress) {
        Writer w = new Writer(64);
        w.u8(META);
        w.bytes(nodeId.getBytes(StandardCharsets.UTF_8));
        w.bytes(clientAddress.getBytes(StandardCharsets.UTF_8));
        return w.toBytes();
    }

    /** Forgets where {@code nodeId} serves clients: it is no longer a member. */
    public static Bytes forget(String nodeId) {
        return meta(nodeId, "");
    }

    /** Registers a client session (RAFT.SESSION): its answer is the session's id. */
    public static Bytes openSession() {
        return once(io.raft4j.session.ClientSession.registration());
    }

    /** A write numbered in a client's session (RAFT.ONCE), from {@code ClientSession.relayed}'s bytes. */
    public static Bytes once(Bytes sessionFrame) {
        byte[] out = new byte[1 + sessionFrame.length()];
        out[0] = ONCE;
        System.arraycopy(sessionFrame.unsafeArray(), 0, out, 1, sessionFrame.length());
        return Bytes.wrap(out);
    }

    public static Bytes get(byte[] key) {
        Writer w = new Writer(key.length + 8);
        w.u8(GET);
        w.bytes(key);
        return w.toBytes();
    }

    public static Bytes mget(List<byte[]> keys) {
        return keyList(MGET, keys);
    }

    public static Bytes exists(List<byte[]> keys) {
        return keyList(EXISTS, keys);
    }

    public static Bytes dbsize() {
        return Bytes.wrap(new byte[] {DBSIZE});
    }

    private static Bytes keyList(byte op, List<byte[]> keys) {
        int size = 8;
        for (byte[] k : keys) {
            size += k.length + 5;
        }
        Writer w = new Writer(size);
        w.u8(op);
        w.varint(keys.size());
        for (byte[] k : keys) {
            w.bytes(k);
        }
        return w.toBytes();
    }

    /** Appends to a growable array. */
    static final class Writer {
        private byte[] buf;
        private int pos;

        Writer(int capacity) {
            buf = new byte[Math.max(16, capacity)];
        }

        private void ensure(int n) {
            if (pos + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
            }
        }

        void u8(int v) {
            ensure(1);
            buf[pos++] = (byte) v;
        }

        void varint(long v) {
            ensure(10);
            while ((v & ~0x7FL) != 0) {
                buf[pos++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[pos++] = (byte) v;
        }

        void i64(long v) {
            ensure(8);
            for (int i = 7; i >= 0; i--) {
                buf[pos++] = (byte) (v >>> (8 * i));
            }
        }

        void bytes(byte[] b) {
            varint(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, pos, b.length);
            pos += b.length;
        }

        Bytes toBytes() {
            return Bytes.wrap(pos == buf.length ? buf : Arrays.copyOf(buf, pos));
        }
    }

    /** Reads the fields back; every read checks bounds and throws {@link IllegalArgumentException}. */
    static final class Reader {
        private final byte[] buf;
        private int pos;

        Reader(byte[] buf) {
            this.buf = buf;
        }

        int u8() {
            if (pos >= buf.length) {
                throw new IllegalArgumentException("truncated command");
            }
            return buf[pos++] & 0xFF;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = u8();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw new IllegalArgumentException("malformed varint");
        }

        int count() {
            long n = varint();
            if (n < 0 || n > buf.length - pos) {
                throw new IllegalArgumentException("implausible count " + n);
            }
            return (int) n;
        }

        long i64() {
            if (buf.length - pos < 8) {
                throw new IllegalArgumentException("truncated command");
            }
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (buf[pos++] & 0xFF);
            }
            return v;
        }

        byte[] bytes() {
            int n = count();
            byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
            pos += n;
            return b;
        }

        List<byte[]> byteList() {
            int n = count();
            List<byte[]> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(bytes());
            }
            return list;
        }

        void end() {
            if (pos != buf.length) {
                throw new IllegalArgumentException((buf.length - pos) + " trailing bytes after command");
            }
        }
    }
}

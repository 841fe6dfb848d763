package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.message.Bytes;
import io.raft4j.session.SessionResult;
import io.raft4j.session.SessionStateMachine;
import io.raft4j.spi.StateMachine;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.StampedLock;
import java.util.zip.CRC32C;

/**
 * The replicated key-value map: applies the commands of {@link KvCodec} and answers its queries
 * with RESP {@link Reply} values (so the result of a command is exactly what the client is sent).
 *
 * <h2>Why an in-memory map with copy-on-write snapshots</h2>
 * The state lives in a {@link ConcurrentHashMap} of immutable values; the durable record of it is
 * the Raft log plus the snapshots the runtime stores in the data directory. This keeps the state
 * machine deterministic and simple (one map, no second storage engine whose own durability would
 * have to agree with the log's), keeps reads in memory, and makes a snapshot cheap without a
 * persistent data structure:
 * <ul>
 *   <li>{@link #snapshot()} runs on the apply thread and only opens a {@link View}: from then on,
 *       the first time a key is changed its previous value (or "absent") is saved in the view's
 *       before-image table. That is copy-on-write per key: O(1), no copy of the map.</li>
 *   <li>{@link View#writeTo} runs on the snapshot thread while applies continue: it walks the live
 *       map, writing every key not changed since the view was opened, then writes the saved
 *       before-images. A key read from the map is written only if it had no before-image when
 *       looked at, which proves its value was the one at the view's point in time (the before-image
 *       is saved before the map is changed). A key may be written twice with the same value; restore
 *       just puts.</li>
 *   <li>{@link View#release()} closes the view; the before-images are dropped.</li>
 * </ul>
 * A RocksDB-backed state with checkpoint snapshots would suit a state larger than memory, at the
 * price of a second write path per command and of reconciling RocksDB's own recovery with the log
 * (the log replays from the snapshot's index, so the state store would have to be rolled back to
 * it). An example meant to show Raft is better served by the simpler one.
 *
 * <h2>Metadata</h2>
 * Besides the keys (which DBSIZE counts) the state holds, per node id, the address where that node
 * serves clients ({@link KvCodec#META}): a node that becomes leader proposes its own, so every
 * follower can forward to, or name, the leader's client address. A leader forgets those of nodes
 * that are no longer members ({@link KvCodec#forget}), so the map does not grow with every node
 * that ever led.
 *
 * <h2>Client sessions</h2>
 * A write wrapped in {@link KvCodec#ONCE} ({@code RAFT.ONCE}) belongs to a client session and is
 * applied once however often it is retried: raft-core's {@link SessionStateMachine} keeps the
 * sessions (registered through the log, so every replica has the same) and the replies a client may
 * still ask for, and applies the write to the map here. Plain commands bypass it. Snapshots carry
 * the sessions before the map; a snapshot written before sessions existed (it starts with the map's
 * magic) is still read, with no sessions.
 *
 * <h2>Threading</h2>
 * {@code apply}, {@code query}, {@code snapshot} and {@code restore} run on the node's apply
 * thread. The monitoring getters and {@link #queryLocal} (stale reads) may be called from any
 * thread: the map is concurrent and values are never changed in place. A stale read must still see
 * the state after some whole prefix of the log, never half an {@code MSET} or the second of two
 * writes without the first: every apply holds the write side of a {@link StampedLock}, and a query
 * from another thread reads optimistically and, if an apply ran meanwhile, reads again under the
 * read side (which waits for at most one apply, and holds the next back only while it reads).
 */
public final class KvStateMachine implements StateMachine<Reply> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KvStateMachine.class);
    private static final int SNAPSHOT_MAGIC = 0x52344B56; // "R4KV"
    private static final int SNAPSHOT_VERSION = 1;
    private static final Object ABSENT = new Object();
    private static final Reply NOT_INTEGER = Reply.error("ERR value is not an integer or out of range");
    private static final Reply OVERFLOW = Reply.error("ERR increment or decrement would overflow");

    private volatile ConcurrentHashMap<Key, byte[]> data = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> clientAddresses = new ConcurrentHashMap<>();
    private volatile View activeView;
    private volatile long commandsApplied;
    private volatile long lastCommandCrc;
    private volatile long lastAppliedIndex;
    private volatile long restores;
    /** Estimated heap held by the keys and values ({@link #usedMemory}); written by the apply thread only. */
    private volatile long usedMemory;
    /** Makes each apply atomic to queries from other threads (see the class comment). */
    private final StampedLock applying = new StampedLock();
    /** The client sessions of RAFT.ONCE, over {@link Store}: this map as the application. */
    private SessionStateMachine<Reply> sessions = newSessions();

    @Override
    public Reply apply(long index, Bytes command) {
        byte[] raw = command.unsafeArray();
        CRC32C crc = new CRC32C();
        crc.update(raw, 0, raw.length);
        lastCommandCrc = crc.getValue();
        commandsApplied = commandsApplied + 1;
        lastAppliedIndex = index;
        long stamp = applying.writeLock();
        try {
            return raw.length > 0 && raw[0] == KvCodec.ONCE ? applyInSession(index, raw) : applyCommand(raw);
        } catch (IllegalArgumentException e) {
            // Deterministic: every node rejects the same malformed bytes the same way.
            return Reply.error("ERR malformed command in the log: " + e.getMessage());
        } finally {
            applying.unlockWrite(stamp);
        }
    }

    /** A session's registration or numbered write; its answer as the client sees it. */
    private Reply applyInSession(long index, byte[] raw) {
        SessionResult<Reply> result = sessions.apply(index, Bytes.wrap(Arrays.copyOfRange(raw, 1, raw.length)));
        return switch (result.status()) {
            case REGISTERED -> Reply.integer(result.session());
            case APPLIED, DUPLICATE -> result.value();
            case STALE -> Reply.error("ERR session " + result.session() + ": this number is below the lowest"
                    + " unfinished one the client gave since, so it was not applied now (an earlier copy may have been)");
            case SESSION_EXPIRED -> Reply.error("SESSIONEXPIRED " + result.detail() + ": open a new session with"
                    + " RAFT.SESSION");
            case MALFORMED -> Reply.error("ERR malformed session command in the log: " + result.detail());
        };
    }

    /** The conditions by their wire code ({@code values()} would copy the array on every apply). */
    private static final KvCodec.Condition[] CONDITIONS = KvCodec.Condition.values();

    private Reply applyCommand(byte[] raw) {
        KvCodec.Reader r = new KvCodec.Reader(raw);
        int op = r.u8();
        switch (op) {
            case KvCodec.SET: {
                int flags = r.u8();
                KvCodec.Condition condition = CONDITIONS[flags & 0x03];
                boolean returnOld = (flags & 0x04) != 0;
                Key key = new Key(r.bytes());
                byte[] value = r.bytes();
                byte[] expected = condition == KvCodec.Condition.IFEQ ? r.bytes() : null;
                r.end();
                byte[] old = data.get(key);
                boolean doSet = switch (condition) {
                    case ALWAYS -> true;
                    case NX -> old == null;
                    case XX -> old != null;
                    case IFEQ -> old != null && Arrays.equals(old, expected);
                };
                if (doSet) {
                    put(key, value, old);
                }
                if (returnOld) {
                    return Reply.bulk(old);
                }
                return doSet ? Reply.OK : Reply.NIL;
            }
            case KvCodec.DEL: {
                List<byte[]> keys = r.byteList();
                r.end();
                long removed = 0;
                for (byte[] k : keys) {
                    Key key = new Key(k);
                    byte[] old = data.get(key);
                    if (old != null) {
                        remove(key, old);
                        removed++;
                    }
                }
                return Reply.integer(removed);
            }
            case KvCodec.INCRBY: {
                Key key = new Key(r.bytes());
                long delta = r.i64();
                r.end();
                byte[] old = data.get(key);
                long current = 0;
                if (old != null) {
                    Long parsed = parseStrictLong(old);
                    if (parsed == null) {
                        return NOT_INTEGER;
                    }
                    current = parsed;
                }
                long next;
                try {
                    next = Math.addExact(current, delta);
                } catch (ArithmeticException e) {
                    return OVERFLOW;
                }
                put(key, Long.toString(next).getBytes(java.nio.charset.StandardCharsets.US_ASCII), old);
                return Reply.integer(next);
            }
            case KvCodec.MSET: {
                int pairs = r.count();
                List<byte[]> kv = new ArrayList<>(pairs * 2);
                for (int i = 0; i < pairs * 2; i++) {
                    kv.add(r.bytes());
                }
                r.end();
                for (int i = 0; i < kv.size(); i += 2) {
                    Key key = new Key(kv.get(i));
                    put(key, kv.get(i + 1), data.get(key));
                }
                return Reply.OK;
            }
            case KvCodec.META: {
                String nodeId = new String(r.bytes(), java.nio.charset.StandardCharsets.UTF_8);
                String address = new String(r.bytes(), java.nio.charset.StandardCharsets.UTF_8);
                r.end();
                if (address.isEmpty()) {
                    clientAddresses.remove(nodeId);   // a member removed: its entry went into every snapshot for good
                } else {
                    clientAddresses.put(nodeId, address);
                }
                return Reply.OK;
            }
            default:
                return Reply.error("ERR unknown command code " + op + " in the log");
        }
    }

    private void put(Key key, byte[] value, byte[] old) {
        View view = activeView;
        if (view != null) {
            view.beforeImages.putIfAbsent(key, old == null ? ABSENT : old);
        }
        data.put(key, value);
        usedMemory = usedMemory + heapCost(key.bytes, value) - (old == null ? 0 : heapCost(key.bytes, old));
    }

    private void remove(Key key, byte[] old) {
        View view = activeView;
        if (view != null) {
            view.beforeImages.putIfAbsent(key, old);
        }
        data.remove(key);
        usedMemory = usedMemory - heapCost(key.bytes, old);
    }

    /**
     * Bytes of heap a key and its value hold, estimated: their lengths plus {@link #PER_KEY_OVERHEAD}
     * for the objects around them. Only an estimate, but the same on every node for the same state.
     */
    static long heapCost(byte[] key, byte[] value) {
        return key.length + value.length + PER_KEY_OVERHEAD;
    }

    /**
     * Heap a key costs beyond its bytes and its value's, on a 64-bit JVM with compressed pointers:
     * the map's node (32) and its table slot (4 to 8), the {@link Key} (24), and two array headers (16 each)
     * with their padding.
     */
    static final int PER_KEY_OVERHEAD = 96;

    @Override
    public Reply query(Bytes query) {
        return queryLocal(query);
    }

    /**
     * Answers a query from this node's current state, without any Raft round: what
     * {@link #query} does once ReadIndex allows it, and what a stale read does at once.
     */
    public Reply queryLocal(Bytes query) {
        long stamp = applying.tryOptimisticRead();
        if (stamp != 0) {
            Reply reply = answer(query);
            if (applying.validate(stamp)) {
                return reply;
            }
        }
        stamp = applying.readLock();
        try {
            return answer(query);
        } finally {
            applying.unlockRead(stamp);
        }
    }

    private Reply answer(Bytes query) {
        try {
            KvCodec.Reader r = new KvCodec.Reader(query.unsafeArray());
            int op = r.u8();
            ConcurrentHashMap<Key, byte[]> map = data;
            switch (op) {
                case KvCodec.GET: {
                    Key key = new Key(r.bytes());
                    r.end();
                    return Reply.bulk(map.get(key));
                }
                case KvCodec.MGET: {
                    List<byte[]> keys = r.byteList();
                    r.end();
                    List<Reply> values = new ArrayList<>(keys.size());
                    for (byte[] k : keys) {
                        values.add(Reply.bulk(map.get(new Key(k))));
                    }
                    return new Reply.Array(values);
                }
                case KvCodec.EXISTS: {
                    List<byte[]> keys = r.byteList();
                    r.end();
                    long n = 0;
                    for (byte[] k : keys) {
                        if (map.containsKey(new Key(k))) {
                            n++;
                        }
                    }
                    return Reply.integer(n);
                }
                case KvCodec.DBSIZE:
                    r.end();
                    return Reply.integer(map.size());
                default:
                    return Reply.error("ERR unknown query code " + op);
            }
        } catch (IllegalArgumentException e) {
            return Reply.error("ERR malformed query: " + e.getMessage());
        }
    }

    /** Where node {@code nodeId} serves clients, as last recorded in the log, or null. */
    public String clientAddressOf(String nodeId) {
        return nodeId == null ? null : clientAddresses.get(nodeId);
    }

    /** Every recorded node id to client address. */
    public Map<String, String> clientAddresses() {
        return Collections.unmodifiableMap(new TreeMap<>(clientAddresses));
    }

    /** Number of keys, as of the last applied command. */
    public int size() {
        return data.size();
    }

    /**
     * Estimated heap held by the keys and their values, as of the last applied command: what
     * {@code --maxmemory} is compared with, and INFO's {@code used_memory}.
     */
    public long usedMemory() {
        return usedMemory;
    }

    /** Commands applied (all kinds, including metadata), counted from the empty state. */
    public long commandsApplied() {
        return commandsApplied;
    }

    /** CRC32C of the last command applied (0 before any). */
    public long lastCommandCrc() {
        return lastCommandCrc;
    }

    /** Log index of the last command applied here since start or restore. */
    public long lastAppliedIndex() {
        return lastAppliedIndex;
    }

    /** Client sessions kept now (RAFT.ONCE), for INFO; safe from any thread. */
    public int sessionCount() {
        return sessions.sessionCount();
    }

    /** The sessions, then the map: {@link SessionStateMachine} writes its table and asks {@link Store} for the rest. */
    @Override
    public Snapshot snapshot() {
        return sessions.snapshot();
    }

    /**
     * Reads what {@link #snapshot} wrote, or a snapshot of the map alone, written before sessions
     * existed (told apart by its first four bytes, the map's magic).
     */
    @Override
    public void restore(InputStream in) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
        buffered.mark(Integer.BYTES);
        int magic = new DataInputStream(buffered).readInt();
        buffered.reset();
        if (magic == SNAPSHOT_MAGIC) {
            restoreMap(buffered);
            sessions = newSessions();
        } else {
            sessions.restore(buffered);
        }
    }

    private SessionStateMachine<Reply> newSessions() {
        return new SessionStateMachine<>(new Store(), SessionReplyCodec.INSTANCE);
    }

    /**
     * The map as the application of {@link #sessions}: a session's write is applied here, within
     * the apply that unwrapped it (so under its lock), and the map is snapshotted after the table.
     */
    private final class Store implements StateMachine<Reply> {
        @Override
        public Reply apply(long index, Bytes command) {
            return applyCommand(command.unsafeArray());
        }

        @Override
        public Reply query(Bytes query) {
            return answer(query);
        }

        @Override
        public Snapshot snapshot() {
            View view = new View(data, new TreeMap<>(clientAddresses), commandsApplied, lastCommandCrc);
            activeView = view;
            return view;
        }

        @Override
        public void restore(InputStream in) throws IOException {
            restoreMap(in);
        }
    }

    private void restoreMap(InputStream in) throws IOException {
        DataInputStream din = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        if (din.readInt() != SNAPSHOT_MAGIC) {
            throw new IOException("not a key-value snapshot (bad magic)");
        }
        int version = din.readInt();
        if (version != SNAPSHOT_VERSION) {
            throw new IOException("unknown key-value snapshot version " + version);
        }
        long applied = din.readLong();
        long crc = din.readLong();
        int metaCount = din.readInt();
        if (metaCount < 0 || metaCount > 100_000) {
            throw new IOException("implausible metadata count " + metaCount);
        }
        Map<String, String> meta = new TreeMap<>();
        for (int i = 0; i < metaCount; i++) {
            meta.put(din.readUTF(), din.readUTF());
        }
        ConcurrentHashMap<Key, byte[]> restored = new ConcurrentHashMap<>();
        long restoredMemory = 0;
        while (true) {
            int tag = din.readUnsignedByte();
            if (tag == 0) {
                break;
            }
            if (tag != 1) {
                throw new IOException("corrupt key-value snapshot (tag " + tag + ")");
            }
            byte[] key = readBlock(din);
            byte[] value = readBlock(din);
            byte[] replaced = restored.put(new Key(key), value);
            // A key may be written twice (see the class comment): count its last value only.
            restoredMemory += heapCost(key, value) - (replaced == null ? 0 : heapCost(key, replaced));
        }
        // A view being written keeps the old map, which is no longer changed: detach it first.
        activeView = null;
        data = restored;
        usedMemory = restoredMemory;
        clientAddresses.clear();
        clientAddresses.putAll(meta);
        commandsApplied = applied;
        lastCommandCrc = crc;
        restores = restores + 1;
        LOG.info("restored {} keys from a snapshot", restored.size());
    }

    /** How many times the state was replaced by a snapshot (at start-up, or sent by the leader). */
    public long restores() {
        return restores;
    }

    private static byte[] readBlock(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("corrupt key-value snapshot (length " + n + ")");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** A point-in-time view of the map, kept by per-key before-images (see the class comment). */
    private final class View implements Snapshot {
        final ConcurrentHashMap<Key, byte[]> map;
        final ConcurrentHashMap<Key, Object> beforeImages = new ConcurrentHashMap<>();
        final Map<String, String> meta;
        final long applied;
        final long crc;

        View(ConcurrentHashMap<Key, byte[]> map, Map<String, String> meta, long applied, long crc) {
            this.map = map;
            this.meta = meta;
            this.applied = applied;
            this.crc = crc;
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            DataOutputStream dout = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
            dout.writeInt(SNAPSHOT_MAGIC);
            dout.writeInt(SNAPSHOT_VERSION);
            dout.writeLong(applied);
            dout.writeLong(crc);
            dout.writeInt(meta.size());
            for (Map.Entry<String, String> e : meta.entrySet()) {
                dout.writeUTF(e.getKey());
                dout.writeUTF(e.getValue());
            }
            for (Map.Entry<Key, byte[]> e : map.entrySet()) {
                byte[] value = e.getValue();
                if (beforeImages.containsKey(e.getKey())) {
                    continue; // changed since the view opened: its before-image is written below
                }
                writeEntry(dout, e.getKey().bytes, value);
            }
            for (Map.Entry<Key, Object> e : beforeImages.entrySet()) {
                if (e.getValue() != ABSENT) {
                    writeEntry(dout, e.getKey().bytes, (byte[]) e.getValue());
                }
            }
            dout.writeByte(0);
            dout.flush();
        }

        private void writeEntry(DataOutputStream out, byte[] key, byte[] value) throws IOException {
            out.writeByte(1);
            out.writeInt(key.length);
            out.write(key);
            out.writeInt(value.length);
            out.write(value);
        }

        @Override
        public void release() {
            if (activeView == this) {
                activeView = null;
            }
        }
    }

    /**
     * Redis's rule for a value INCR accepts: a base-10 signed 64-bit integer with no sign but '-',
     * no leading zeros and no spaces.
     */
    static Long parseStrictLong(byte[] s) {
        int n = s.length;
        if (n == 0 || n > 20) {
            return null;
        }
        int i = 0;
        boolean negative = false;
        if (s[0] == '-') {
            negative = true;
            i = 1;
            if (n == 1) {
                return null;
            }
        }
        if (s[i] == '0' && (n - i > 1 || negative)) {
            return null;
        }
        long v = 0;
        for (; i < n; i++) {
            int d = s[i] - '0';
            if (d < 0 || d > 9) {
                return null;
            }
            try {
                v = Math.addExact(Math.multiplyExact(v, 10), negative ? -d : d);
            } catch (ArithmeticException e) {
                return null;
            }
        }
        return v;
    }

    /** A key: bytes compared by content, hash cached. */
    static final class Key {
        final byte[] bytes;
        private final int hash;

        Key(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}

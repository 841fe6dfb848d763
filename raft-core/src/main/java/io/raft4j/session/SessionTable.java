package io.raft4j.session;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The sessions a {@link SessionStateMachine} remembers, least recently used first, and for each the
 * results its client may still ask for. Part of the replicated state: every replica changes it by
 * the same commands in the same order, so evictions agree too, and snapshots carry it in order.
 *
 * @param <R> the application's result type
 */
final class SessionTable<R> {
    private static final int FORMAT = 0x52534E32; // "RSN2"

    /** One client's session. */
    static final class Session<R> {
        /** Results of commands numbered below this are forgotten: their client has them. */
        private long floor = 1;
        /** Every applied command numbered at least {@link #floor}, with its result. */
        private final TreeMap<Long, R> results = new TreeMap<>();

        /** The client waits for nothing below {@code lowestUnfinished}: drop those results. */
        void forgetBelow(long lowestUnfinished) {
            if (lowestUnfinished > floor) {
                floor = lowestUnfinished;
                results.headMap(lowestUnfinished).clear();
            }
        }

        /** Whether the client had declared {@code sequence} finished (its result may be gone). */
        boolean finishedBefore(long sequence) {
            return sequence < floor;
        }

        /** Whether {@code sequence}, at or above the floor, was applied (its result is here if so). */
        boolean applied(long sequence) {
            return results.containsKey(sequence);
        }

        R resultOf(long sequence) {
            return results.get(sequence);
        }

        int resultCount() {
            return results.size();
        }

        void record(long sequence, R result) {
            results.put(sequence, result);
        }
    }

    private final int maxSessions;
    private final int maxResultsPerSession;
    private final LinkedHashMap<Long, Session<R>> sessions = new LinkedHashMap<>(16, 0.75f, true);

    SessionTable(int maxSessions, int maxResultsPerSession) {
        this.maxSessions = maxSessions;
        this.maxResultsPerSession = maxResultsPerSession;
    }

    /** The session {@code id}, marked as just used; {@code null} if unknown (never registered, evicted, ended). */
    Session<R> get(long id) {
        return sessions.get(id);
    }

    /** Registers session {@code id}, evicting the least recently used one if full. */
    void register(long id) {
        sessions.put(id, new Session<>());
        if (sessions.size() > maxSessions) {
            Iterator<Long> eldest = sessions.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
    }

    /** Whether {@code session} holds as many results as one may. */
    boolean full(Session<R> session) {
        return session.resultCount() >= maxResultsPerSession;
    }

    int maxResultsPerSession() {
        return maxResultsPerSession;
    }

    /** Ends session {@code id}: its results are dropped and, ids never being reused, its commands refused. */
    void end(long id) {
        sessions.remove(id);
    }

    int size() {
        return sessions.size();
    }

    /** A copy of the table with results encoded, to be written later on another thread. */
    Frozen freeze(Function<R, byte[]> encode) {
        List<Frozen.Entry> entries = new ArrayList<>(sessions.size());
        for (Map.Entry<Long, Session<R>> e : sessions.entrySet()) {
            Session<R> s = e.getValue();
            List<Frozen.Result> results = new ArrayList<>(s.results.size());
            for (Map.Entry<Long, R> r : s.results.entrySet()) {
                byte[] bytes = r.getValue() == null ? null : encode.apply(r.getValue());
                if (bytes == null && r.getValue() != null) {
                    // Written as a null result, a replica restored from this snapshot would answer the
                    // command's retry with null where the others answer with the result.
                    throw new IllegalStateException("the ResultCodec encoded the result of command " + r.getKey()
                            + " of session " + e.getKey() + " as null: encode must return the bytes of a non-null"
                            + " result");
                }
                results.add(new Frozen.Result(r.getKey(), bytes));
            }
            entries.add(new Frozen.Entry(e.getKey(), s.floor, results));
        }
        return new Frozen(maxSessions, maxResultsPerSession, entries);
    }

    /** The table as of a snapshot. */
    record Frozen(int maxSessions, int maxResultsPerSession, List<Entry> entries) {
        record Entry(long id, long floor, List<Result> results) {
        }

        /** A result; {@code bytes} is {@code null} for a {@code null} result. */
        record Result(long sequence, byte[] bytes) {
        }

        void writeTo(DataOutputStream out) throws IOException {
            out.writeInt(FORMAT);
            out.writeInt(maxSessions);
            out.writeInt(maxResultsPerSession);
            out.writeInt(entries.size());
            for (Entry e : entries) {
                out.writeLong(e.id);
                out.writeLong(e.floor);
                out.writeInt(e.results.size());
                for (Result r : e.results) {
                    out.writeLong(r.sequence);
                    out.writeInt(r.bytes == null ? -1 : r.bytes.length);
                    if (r.bytes != null) {
                        out.write(r.bytes);
                    }
                }
            }
        }
    }

    /**
     * Replaces the table by the one {@link Frozen#writeTo} wrote, in the same order.
     *
     * @throws IOException if the bytes are not such a table, are damaged, or were written under
     *         other bounds (replicas that bound sessions differently would apply differently)
     */
    void restore(DataInputStream in, Function<byte[], R> decode) throws IOException {
        int format = in.readInt();
        if (format != FORMAT) {
            throw new IOException("not a session table (format " + Integer.toHexString(format)
                    + "): was this snapshot written by a SessionStateMachine of this version?");
        }
        int writtenMaxSessions = in.readInt();
        int writtenMaxResults = in.readInt();
        if (writtenMaxSessions != maxSessions || writtenMaxResults != maxResultsPerSession) {
            throw new IOException("the session table was written with at most " + writtenMaxSessions + " sessions of "
                    + writtenMaxResults + " results, this node keeps " + maxSessions + " of " + maxResultsPerSession
                    + ": every replica must bound sessions alike, or they would apply commands differently");
        }
        int count = within(in.readInt(), 0, maxSessions, "session count");
        LinkedHashMap<Long, Session<R>> restored = new LinkedHashMap<>(16, 0.75f, true);
        for (int i = 0; i < count; i++) {
            long id = in.readLong();
            Session<R> session = new Session<>();
            session.floor = in.readLong();
            if (id < 1 || session.floor < 1 || restored.containsKey(id)) {
                throw new IOException("corrupt session table: session " + id + " (floor " + session.floor
                        + ") out of range or listed twice");
            }
            restored.put(id, session);
            int results = within(in.readInt(), 0, maxResultsPerSession, "result count");
            long previous = session.floor - 1;
            for (int j = 0; j < results; j++) {
                long sequence = in.readLong();
                if (sequence <= previous) {
                    throw new IOException("corrupt session table: result " + sequence + " of session " + id
                            + " out of order or below its floor " + session.floor);
                }
                previous = sequence;
                session.results.put(sequence, readResult(in, decode));
            }
        }
        sessions.clear();
        sessions.putAll(restored);
    }

    private R readResult(DataInputStream in, Function<byte[], R> decode) throws IOException {
        int length = in.readInt();
        if (length == -1) {
            return null;
        }
        if (length < 0) {
            throw new IOException("corrupt session table: result length " + length);
        }
        byte[] bytes = in.readNBytes(length); // grows as bytes arrive: a damaged length cannot claim gigabytes
        if (bytes.length != length) {
            throw new EOFException("session table ends inside a result of " + length + " bytes");
        }
        try {
            return decode.apply(bytes);
        } catch (RuntimeException e) {
            throw new IOException("a result in the session table cannot be decoded: " + e, e);
        }
    }

    private static int within(int value, int min, int max, String what) throws IOException {
        if (value < min || value > max) {
            throw new IOException("corrupt session table: " + what + " " + value + " outside [" + min + ", " + max + "]");
        }
        return value;
    }
}

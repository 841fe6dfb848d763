package io.raft4j.session;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;

/**
 * The sessions a {@link SessionStateMachine} remembers, least recently used first, and for each the
 * results of its applied commands that its client may still ask for. Part of the replicated state:
 * every replica changes it by the same commands in the same order, so evictions agree too.
 *
 * @param <R> the application's result type
 */
final class SessionTable<R> {
    private static final int FORMAT = 0x52534E31; // "RSN1"

    /** One client's session. */
    static final class Session<R> {
        /** Every applied command numbered at least this has its result below. */
        long floor = 1;
        /**
         * Ended for holding too many results: kept (until evicted) so that its commands are refused
         * rather than taken for a new session's and applied again.
         */
        boolean ended;
        final TreeMap<Long, R> results = new TreeMap<>();

        void forgetBelow(long lowestUnfinished) {
            if (lowestUnfinished > floor) {
                floor = lowestUnfinished;
                results.headMap(lowestUnfinished).clear();
            }
        }
    }

    private final int maxSessions;
    private final LinkedHashMap<UUID, Session<R>> sessions = new LinkedHashMap<>(16, 0.75f, true);

    SessionTable(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    /** The session of {@code client}, marked as just used; {@code null} if unknown. */
    Session<R> get(UUID client) {
        return sessions.get(client);
    }

    /** Starts a session for {@code client}, evicting the least recently used one if full. */
    Session<R> open(UUID client) {
        Session<R> session = new Session<>();
        sessions.put(client, session);
        if (sessions.size() > maxSessions) {
            Iterator<UUID> eldest = sessions.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
        return session;
    }

    /** Ends {@code session}: its results are dropped and its commands refused from now on. */
    void end(Session<R> session) {
        session.ended = true;
        session.results.clear();
    }

    int size() {
        return sessions.size();
    }

    /** A copy of the table with results encoded, to be written later on another thread. */
    Frozen freeze(Function<R, byte[]> encode) {
        List<Frozen.Entry> entries = new ArrayList<>(sessions.size());
        for (Map.Entry<UUID, Session<R>> e : sessions.entrySet()) {
            Session<R> s = e.getValue();
            long[] sequences = new long[s.results.size()];
            byte[][] results = new byte[s.results.size()][];
            int i = 0;
            for (Map.Entry<Long, R> r : s.results.entrySet()) {
                sequences[i] = r.getKey();
                results[i++] = r.getValue() == null ? null : encode.apply(r.getValue());
            }
            entries.add(new Frozen.Entry(e.getKey(), s.floor, s.ended, sequences, results));
        }
        return new Frozen(entries);
    }

    /** The table as of a snapshot. */
    record Frozen(List<Entry> entries) {
        record Entry(UUID client, long floor, boolean ended, long[] sequences, byte[][] results) {
        }

        void writeTo(DataOutputStream out) throws IOException {
            out.writeInt(FORMAT);
            out.writeInt(entries.size());
            for (Entry e : entries) {
                out.writeLong(e.client.getMostSignificantBits());
                out.writeLong(e.client.getLeastSignificantBits());
                out.writeLong(e.floor);
                out.writeBoolean(e.ended);
                out.writeInt(e.sequences.length);
                for (int i = 0; i < e.sequences.length; i++) {
                    out.writeLong(e.sequences[i]);
                    byte[] result = e.results[i];
                    out.writeInt(result == null ? -1 : result.length);
                    if (result != null) {
                        out.write(result);
                    }
                }
            }
        }
    }

    /**
     * Replaces the table by the one {@link Frozen#writeTo} wrote, in the same order.
     *
     * @throws IOException if the bytes are not such a table
     */
    void restore(DataInputStream in, Function<byte[], R> decode) throws IOException {
        int format = in.readInt();
        if (format != FORMAT) {
            throw new IOException("not a session table (format " + Integer.toHexString(format)
                    + "): was this snapshot written by a SessionStateMachine?");
        }
        int count = nonNegative(in.readInt(), "session count");
        LinkedHashMap<UUID, Session<R>> restored = new LinkedHashMap<>(16, 0.75f, true);
        for (int i = 0; i < count; i++) {
            UUID client = new UUID(in.readLong(), in.readLong());
            Session<R> session = new Session<>();
            session.floor = in.readLong();
            session.ended = in.readBoolean();
            int results = nonNegative(in.readInt(), "result count");
            for (int j = 0; j < results; j++) {
                long sequence = in.readLong();
                int length = in.readInt();
                if (length < -1) {
                    throw new IOException("corrupt session table: result length " + length);
                }
                byte[] bytes = null;
                if (length >= 0) {
                    bytes = new byte[length];
                    in.readFully(bytes);
                }
                session.results.put(sequence, bytes == null ? null : decode.apply(bytes));
            }
            restored.put(client, session);
        }
        sessions.clear();
        sessions.putAll(restored);
    }

    private static int nonNegative(int value, String what) throws IOException {
        if (value < 0) {
            throw new IOException("corrupt session table: " + what + " " + value);
        }
        return value;
    }
}

package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Wraps the application's state machine so that each command of a {@link ClientSession} is applied
 * at most once, however often it is retried (Raft thesis §6.3): a retry of a command already
 * applied is answered with the result of its first application, and changes nothing.
 *
 * <p>The sessions are part of the replicated state: every replica keeps the same ones, and
 * snapshots carry them (before the application's own snapshot, in the same stream), so a follower
 * that becomes leader answers retries as the old leader would have.
 *
 * <p>Memory is bounded. At most {@code maxSessions} sessions are kept; starting one more evicts the
 * least recently used, whose later commands then get {@link SessionResult.Status#SESSION_EXPIRED}.
 * A session whose client holds more than {@code maxUnfinishedPerSession} commands unfinished (not
 * declared {@link ClientSession#finished}) is ended the same way. Size {@code maxSessions} above
 * the number of clients active within a retry's time: a session evicted before its client
 * finished its first command cannot be told from a new one, and a retry of a command sent before
 * then would be applied again.
 *
 * <p>Commands outside any session ({@link #withoutSession}) are applied every time they are
 * committed, as without this wrapper.
 *
 * @param <R> the application's result type
 */
public final class SessionStateMachine<R> implements StateMachine<SessionResult<R>> {
    /** Default bound on the sessions kept. */
    public static final int DEFAULT_MAX_SESSIONS = 10_000;
    /** Default bound on one session's unfinished commands. */
    public static final int DEFAULT_MAX_UNFINISHED_PER_SESSION = 1_000;

    private final StateMachine<R> application;
    private final ResultCodec<R> codec;
    private final int maxUnfinishedPerSession;
    private final SessionTable<R> sessions;

    /**
     * How results are written into snapshots (a retry after a restore is answered from them).
     * Encoding and decoding must round-trip.
     */
    public interface ResultCodec<R> {
        /** For string results. */
        ResultCodec<String> UTF8 = new ResultCodec<>() {
            @Override
            public byte[] encode(String result) {
                return result.getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public String decode(byte[] bytes) {
                return new String(bytes, StandardCharsets.UTF_8);
            }
        };

        /** The bytes of a non-null result. */
        byte[] encode(R result);

        R decode(byte[] bytes);
    }

    /** With {@link #DEFAULT_MAX_SESSIONS} and {@link #DEFAULT_MAX_UNFINISHED_PER_SESSION}. */
    public SessionStateMachine(StateMachine<R> application, ResultCodec<R> codec) {
        this(application, codec, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_UNFINISHED_PER_SESSION);
    }

    public SessionStateMachine(StateMachine<R> application, ResultCodec<R> codec, int maxSessions,
                               int maxUnfinishedPerSession) {
        this.application = Objects.requireNonNull(application, "application");
        this.codec = Objects.requireNonNull(codec, "codec");
        if (maxSessions < 1 || maxUnfinishedPerSession < 1) {
            throw new IllegalArgumentException("maxSessions (" + maxSessions + ") and maxUnfinishedPerSession ("
                    + maxUnfinishedPerSession + ") must be at least 1");
        }
        this.maxUnfinishedPerSession = maxUnfinishedPerSession;
        this.sessions = new SessionTable<>(maxSessions);
    }

    /** A command applied every time it commits, outside any session (for idempotent commands). */
    public static Bytes withoutSession(Bytes command) {
        return SessionFrame.plain(Objects.requireNonNull(command, "command"));
    }

    @Override
    public SessionResult<R> apply(long index, Bytes command) {
        SessionFrame frame;
        try {
            frame = SessionFrame.parse(command);
        } catch (IllegalArgumentException e) {
            return SessionResult.malformed(e.getMessage());
        }
        if (frame.client() == null) {
            return SessionResult.applied(application.apply(index, frame.payload()));
        }
        SessionTable.Session<R> session = sessions.get(frame.client());
        if (session == null) {
            session = sessions.open(frame.client());
            if (frame.lowestUnfinished() > 1) {
                // Its client had commands before: evicted (or its first commands were all given up
                // before any committed). Refused from now on, so that an old retry cannot reopen it.
                sessions.end(session);
                return SessionResult.expired("session " + frame.client() + " is not known here (evicted as the least"
                        + " recently used of " + sessions.size() + ", or none of its earlier commands committed):"
                        + " whether command " + frame.sequence() + " was applied is unknown");
            }
        }
        if (session.ended) {
            return SessionResult.expired("session " + frame.client() + " has ended (evicted, or it held "
                    + maxUnfinishedPerSession + " unfinished commands): whether command " + frame.sequence()
                    + " was applied is unknown");
        }
        session.forgetBelow(frame.lowestUnfinished());
        long sequence = frame.sequence();
        if (sequence < session.floor) {
            return SessionResult.stale(); // its client declared it finished: a stray retry
        }
        if (session.results.containsKey(sequence)) {
            return SessionResult.duplicate(session.results.get(sequence));
        }
        if (session.results.size() >= maxUnfinishedPerSession) {
            sessions.end(session);
            return SessionResult.expired("session " + frame.client() + " ended: it holds " + maxUnfinishedPerSession
                    + " unfinished commands, the most one may (call ClientSession.finished for every command)");
        }
        R result = application.apply(index, frame.payload());
        session.results.put(sequence, result);
        return SessionResult.applied(result);
    }

    @Override
    public SessionResult<R> query(Bytes query) {
        return SessionResult.applied(application.query(query));
    }

    @Override
    public Snapshot snapshot() {
        Snapshot state = application.snapshot();
        if (state == null) {
            return null;
        }
        SessionTable.Frozen table;
        try {
            table = sessions.freeze(codec::encode);
        } catch (RuntimeException e) {
            state.release();
            throw e;
        }
        return new Snapshot() {
            @Override
            public void writeTo(OutputStream out) throws IOException {
                DataOutputStream data = new DataOutputStream(out);
                table.writeTo(data);
                data.flush();
                state.writeTo(out);
            }

            @Override
            public void release() {
                state.release();
            }
        };
    }

    @Override
    public void restore(InputStream in) throws IOException {
        // Not buffered: the application's restore reads on exactly where the table ends.
        sessions.restore(new DataInputStream(in), codec::decode);
        application.restore(in);
    }

    /** Sessions kept now (for monitoring and tests). */
    public int sessionCount() {
        return sessions.size();
    }
}

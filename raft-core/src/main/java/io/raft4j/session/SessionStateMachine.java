package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Wraps the application's state machine so that each command of a {@link ClientSession} is applied
 * at most once, however often it is retried (Raft thesis §6.3): a retry of a command already
 * applied is answered with the result of its first application, and changes nothing.
 *
 * <p>A session is registered through the log, and its id is the index of its registration entry,
 * so ids are never reused: a session the state machine no longer knows has expired for good, and
 * its commands are refused ({@link SessionResult.Status#SESSION_EXPIRED}), never taken for another
 * session's and applied again.
 *
 * <p>The sessions are part of the replicated state: every replica keeps the same ones, and
 * snapshots carry them (before the application's own snapshot, in the same stream), so a follower
 * that becomes leader answers retries as the old leader would have.
 *
 * <p>Memory is bounded, by bounds that are fixed (every replica must apply alike, so they are not
 * settings): at most {@value #MAX_SESSIONS} sessions, registering one more evicts the least recently
 * used; and at most {@value #MAX_RESULTS_PER_SESSION} results per session, kept from the client's
 * lowest unfinished command on, beyond which the session is ended. Both end a session whose
 * commands then expire. Worst case: {@code MAX_SESSIONS × MAX_RESULTS_PER_SESSION} results.
 *
 * <p>Commands outside any session ({@link #withoutSession}) are applied every time they are
 * committed, as without this wrapper.
 *
 * @param <R> the application's result type
 */
public final class SessionStateMachine<R> implements StateMachine<SessionResult<R>> {
    private static final Logger LOG = LoggerFactory.getLogger(SessionStateMachine.class);
    /** Sessions kept; registering one more evicts the least recently used. */
    public static final int MAX_SESSIONS = 10_000;
    /** Results one session may hold (from its lowest unfinished command on) before it is ended. */
    public static final int MAX_RESULTS_PER_SESSION = 256;

    private final StateMachine<R> application;
    private final ResultCodec<R> codec;
    private final SessionTable<R> sessions;
    /** For monitoring from other threads: the table itself is the apply thread's. */
    private volatile int sessionCount;
    /** Commands answered MALFORMED so far (on the apply thread). */
    private long malformed;

    /**
     * How results are written into snapshots (a retry after a restore is answered from them).
     * Encoding and decoding must round-trip; {@code encode} runs on the apply thread when a snapshot
     * is fixed, for every result kept, so keep it cheap.
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

    public SessionStateMachine(StateMachine<R> application, ResultCodec<R> codec) {
        this(application, codec, MAX_SESSIONS, MAX_RESULTS_PER_SESSION);
    }

    /** With other bounds: for tests, which reach the bounds with a few commands. */
    SessionStateMachine(StateMachine<R> application, ResultCodec<R> codec, int maxSessions, int maxResultsPerSession) {
        this.application = Objects.requireNonNull(application, "application");
        this.codec = Objects.requireNonNull(codec, "codec");
        if (maxSessions < 1 || maxResultsPerSession < 1) {
            throw new IllegalArgumentException("maxSessions (" + maxSessions + ") and maxResultsPerSession ("
                    + maxResultsPerSession + ") must be at least 1");
        }
        this.sessions = new SessionTable<>(maxSessions, maxResultsPerSession);
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
            if (malformed++ % 1000 == 0) {
                // Loud, because the likely cause is a log written before this wrapper was added:
                // its commands are answered MALFORMED and not applied, and the state misses them.
                LOG.warn("command at index {} is not a session frame ({} such so far), answered MALFORMED and not"
                        + " applied: {}. Was this group's log written without SessionStateMachine? Its format is"
                        + " not the application's alone", index, malformed, e.getMessage());
            }
            return SessionResult.malformed(e.getMessage());
        }
        SessionResult<R> result = switch (frame.kind()) {
            case SessionFrame.PLAIN -> SessionResult.appliedNow(application.apply(index, frame.payload()), 0);
            case SessionFrame.REGISTER -> {
                sessions.register(index);
                yield SessionResult.registered(index);
            }
            default -> applyInSession(index, frame);
        };
        sessionCount = sessions.size();
        return result;
    }

    private SessionResult<R> applyInSession(long index, SessionFrame frame) {
        long id = frame.session();
        SessionTable.Session<R> session = sessions.get(id);
        if (session == null) {
            return SessionResult.expired(id, "session " + id + " is not known here: never registered, or evicted as"
                    + " the least recently used, or ended for holding too many results; whether command "
                    + frame.sequence() + " was applied is unknown");
        }
        session.forgetBelow(frame.lowestUnfinished());
        long sequence = frame.sequence();
        if (session.finishedBefore(sequence)) {
            return SessionResult.stale(id);
        }
        if (session.applied(sequence)) {
            return SessionResult.duplicateOf(session.resultOf(sequence), id);
        }
        if (sessions.full(session)) {
            sessions.end(id);
            return SessionResult.expired(id, "session " + id + " ended: it holds " + sessions.maxResultsPerSession()
                    + " results, the most one may (call ClientSession.finished for every command, also one given up)");
        }
        R result = application.apply(index, frame.payload());
        session.record(sequence, result);
        return SessionResult.appliedNow(result, id);
    }

    @Override
    public SessionResult<R> query(Bytes query) {
        return SessionResult.appliedNow(application.query(query), 0);
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
        sessionCount = sessions.size();
        application.restore(in);
    }

    /** Sessions kept now, for monitoring; safe to read from any thread. */
    public int sessionCount() {
        return sessionCount;
    }
}

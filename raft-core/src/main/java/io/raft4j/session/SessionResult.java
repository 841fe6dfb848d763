package io.raft4j.session;

/**
 * What a {@link SessionStateMachine} answers for a command or query.
 *
 * @param status  what happened
 * @param value   the application's result: of this application ({@link Status#APPLIED}), of the
 *                first one ({@link Status#DUPLICATE}), or of a query; {@code null} otherwise
 * @param session the session the command belongs to: for {@link Status#REGISTERED}, the new
 *                session's id, for {@link ClientSession#registered}; 0 outside sessions
 * @param detail  for {@link Status#SESSION_EXPIRED} and {@link Status#MALFORMED}, why; else {@code null}
 * @param <R>     the application's result type
 */
public record SessionResult<R>(Status status, R value, long session, String detail) {

    /** What became of a command. */
    public enum Status {
        /** A registration: a new session exists, its id in {@link SessionResult#session()}. */
        REGISTERED,
        /** Applied now, for the first time (or a query, or a command outside sessions, answered). */
        APPLIED,
        /** Applied before, under the same session and number: not applied again. */
        DUPLICATE,
        /**
         * Not applied now: its client had declared it finished ({@link ClientSession#finished})
         * before this copy committed, so nobody waits for it. A stray copy of an earlier attempt,
         * which may or may not have been applied.
         */
        STALE,
        /**
         * Not applied: the state machine no longer knows the session (evicted, least recently used,
         * to make room for others, or ended for holding too many results), so it cannot tell
         * whether the command was applied already. Final: session ids are never reused, so every
         * later command of the session gets the same. Register a new session and decide, from the
         * state, whether to send the command again.
         */
        SESSION_EXPIRED,
        /** Not applied: the bytes were not made by {@link ClientSession} or {@link SessionStateMachine#withoutSession}. */
        MALFORMED
    }

    static <R> SessionResult<R> registered(long session) {
        return new SessionResult<>(Status.REGISTERED, null, session, null);
    }

    static <R> SessionResult<R> appliedNow(R value, long session) {
        return new SessionResult<>(Status.APPLIED, value, session, null);
    }

    static <R> SessionResult<R> duplicateOf(R value, long session) {
        return new SessionResult<>(Status.DUPLICATE, value, session, null);
    }

    static <R> SessionResult<R> stale(long session) {
        return new SessionResult<>(Status.STALE, null, session, null);
    }

    static <R> SessionResult<R> expired(long session, String detail) {
        return new SessionResult<>(Status.SESSION_EXPIRED, null, session, detail);
    }

    static <R> SessionResult<R> malformed(String detail) {
        return new SessionResult<>(Status.MALFORMED, null, 0, detail);
    }
}

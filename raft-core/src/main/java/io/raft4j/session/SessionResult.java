package io.raft4j.session;

/**
 * What a {@link SessionStateMachine} answers for a command or query.
 *
 * @param status what happened
 * @param value  the application's result: of this application ({@link Status#APPLIED}), of the
 *               first one ({@link Status#DUPLICATE}), or of a query; {@code null} otherwise
 * @param detail for {@link Status#SESSION_EXPIRED} and {@link Status#MALFORMED}, why; else {@code null}
 * @param <R>    the application's result type
 */
public record SessionResult<R>(Status status, R value, String detail) {

    /** What became of a command. */
    public enum Status {
        /** Applied now, for the first time (or a query answered). */
        APPLIED,
        /** Applied before, under the same session and number: not applied again. */
        DUPLICATE,
        /**
         * Not applied now: its client had declared it finished ({@link ClientSession#finished})
         * before this copy committed, so nobody waits for it. A stray retry of an earlier attempt,
         * which may or may not have been applied.
         */
        STALE,
        /**
         * Not applied: the state machine no longer knows the session (evicted to make room for
         * others, ended for holding too many unfinished results, or never started because none of
         * its first commands committed before its client gave up on them), so it cannot tell
         * whether the command was applied already. Final: every later command of the session gets
         * the same. Start a new {@link ClientSession} and decide, from the state, whether to send
         * the command again.
         */
        SESSION_EXPIRED,
        /** Not applied: the command was not made by {@link ClientSession} or {@link SessionStateMachine#withoutSession}. */
        MALFORMED
    }

    static <R> SessionResult<R> applied(R value) {
        return new SessionResult<>(Status.APPLIED, value, null);
    }

    static <R> SessionResult<R> duplicate(R value) {
        return new SessionResult<>(Status.DUPLICATE, value, null);
    }

    static <R> SessionResult<R> stale() {
        return new SessionResult<>(Status.STALE, null, null);
    }

    static <R> SessionResult<R> expired(String detail) {
        return new SessionResult<>(Status.SESSION_EXPIRED, null, detail);
    }

    static <R> SessionResult<R> malformed(String detail) {
        return new SessionResult<>(Status.MALFORMED, null, detail);
    }

    /** Whether the command's effect is in the state: applied now or before. */
    public boolean applied() {
        return status == Status.APPLIED || status == Status.DUPLICATE;
    }
}

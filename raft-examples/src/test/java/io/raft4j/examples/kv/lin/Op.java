package io.raft4j.examples.kv.lin;

import java.util.Objects;

/**
 * One operation of a client on one register (a key), as the client saw it: when it was invoked,
 * when (if ever) its answer came, and what the answer said.
 *
 * <p>A read carries the value it returned ({@code null}: the key was absent); a write the value it
 * wrote; a compare-and-set its expected and new value and, when it completed, whether it applied.
 * Written values are unique, which is what makes a history over a few keys checkable quickly.
 *
 * @param process    the client that issued it (for the reader of an excerpt)
 * @param key        the register
 * @param kind       read, write or compare-and-set
 * @param value      read: the value returned; write: the value written; CAS: the new value
 * @param expected   CAS only: the value it required
 * @param applied    CAS with outcome {@link Outcome#OK} only: whether it set the value
 * @param outcome    whether it took effect: surely, surely not, or unknown
 * @param invokeNanos   {@link System#nanoTime} before it was sent
 * @param completeNanos {@link System#nanoTime} once its answer arrived; {@link Long#MAX_VALUE} for
 *                      {@link Outcome#INFO}: it may take effect at any time after its invocation
 * @param note       where it went and what came back, for the reader of an excerpt
 */
public record Op(int process, String key, Kind kind, String value, String expected, boolean applied,
                 Outcome outcome, long invokeNanos, long completeNanos, String note) {

    public enum Kind { READ, WRITE, CAS }

    public enum Outcome {
        /** Completed with an answer: it took effect exactly as the answer says. */
        OK,
        /** Refused: it certainly did not take effect (ignored by the checker). */
        FAIL,
        /** No outcome known (timeout, lost connection): it may or may not take effect, at any later time. */
        INFO
    }

    public Op {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(outcome, "outcome");
        if (outcome == Outcome.INFO) {
            completeNanos = Long.MAX_VALUE;
        } else if (completeNanos < invokeNanos) {
            throw new IllegalArgumentException("completed before it was invoked: " + invokeNanos + " > " + completeNanos);
        }
        if (kind == Kind.CAS && expected == null) {
            throw new IllegalArgumentException("a compare-and-set needs an expected value");
        }
        if (kind != Kind.READ && value == null) {
            throw new IllegalArgumentException("a write needs a value");
        }
    }

    public static Op read(int process, String key, String returned, long invoke, long complete) {
        return new Op(process, key, Kind.READ, returned, null, false, Outcome.OK, invoke, complete, "");
    }

    public static Op write(int process, String key, String value, Outcome outcome, long invoke, long complete) {
        return new Op(process, key, Kind.WRITE, value, null, false, outcome, invoke, complete, "");
    }

    /** A compare-and-set that completed: {@code applied} tells whether it set the value. */
    public static Op cas(int process, String key, String expected, String value, boolean applied, long invoke,
                         long complete) {
        return new Op(process, key, Kind.CAS, value, expected, applied, Outcome.OK, invoke, complete, "");
    }

    /** A compare-and-set whose outcome is not {@link Outcome#OK}. */
    public static Op cas(int process, String key, String expected, String value, Outcome outcome, long invoke,
                         long complete) {
        return new Op(process, key, Kind.CAS, value, expected, false, outcome, invoke, complete, "");
    }

    public Op withNote(String text) {
        return new Op(process, key, kind, value, expected, applied, outcome, invokeNanos, completeNanos, text);
    }

    /** Whether the checker must explain it: completed reads, and writes that may have taken effect. */
    boolean checked() {
        return outcome == Outcome.OK || (outcome == Outcome.INFO && kind != Kind.READ);
    }

    /** The operation and its answer, e.g. {@code cas(a->b)=ok}, {@code read=nil}, {@code write(c)?}. */
    public String describe() {
        String what = switch (kind) {
            case READ -> "read";
            case WRITE -> "write(" + value + ")";
            case CAS -> "cas(" + expected + "->" + value + ")";
        };
        return what + switch (outcome) {
            case OK -> kind == Kind.READ ? "=" + (value == null ? "nil" : value)
                    : kind == Kind.CAS ? (applied ? "=ok" : "=nil (not applied)") : "=ok";
            case FAIL -> " failed";
            case INFO -> " ?unknown";
        };
    }
}

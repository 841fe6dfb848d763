package io.raft4j.examples.kv.resp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One RESP2 reply: what the state machine returns for a command, what the server writes to a
 * client, and what the forwarding client reads back from the leader.
 */
public sealed interface Reply {
    Reply OK = new Simple("OK");
    Reply PONG = new Simple("PONG");
    Reply NIL = new Bulk(null);
    Reply EMPTY_ARRAY = new Array(List.of());

    /** {@code +text}: a status line (no CR or LF inside). */
    record Simple(String text) implements Reply {
    }

    /** {@code -CODE message}: {@code text} holds both, e.g. {@code "ERR unknown command 'x'"}. */
    record Error(String text) implements Reply {
        /** The first word, e.g. {@code ERR}, {@code TRYAGAIN}, {@code NOTLEADER}. */
        public String code() {
            int space = text.indexOf(' ');
            return space < 0 ? text : text.substring(0, space);
        }
    }

    /** {@code :n}. */
    record Int(long value) implements Reply {
    }

    /** {@code $len\r\nbytes} or, when {@code value} is {@code null}, the nil bulk {@code $-1}. */
    record Bulk(byte[] value) implements Reply {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bulk b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return value == null ? "Bulk[nil]" : "Bulk[" + new String(value, StandardCharsets.UTF_8) + "]";
        }
    }

    /** {@code *n} followed by the items, or the nil array {@code *-1} when {@code items} is null. */
    record Array(List<Reply> items) implements Reply {
    }

    static Reply error(String text) {
        return new Error(text.replace('\r', ' ').replace('\n', ' '));
    }

    static Reply bulk(String text) {
        return new Bulk(text.getBytes(StandardCharsets.UTF_8));
    }

    static Reply bulk(byte[] value) {
        return new Bulk(value);
    }

    static Reply integer(long value) {
        return new Int(value);
    }

    static Reply simple(String text) {
        return new Simple(text);
    }

    static Reply array(List<Reply> items) {
        return new Array(List.copyOf(items));
    }

    /** Whether this is an error reply with the given code (first word). */
    default boolean isError(String code) {
        return this instanceof Error e && e.code().equals(code);
    }
}

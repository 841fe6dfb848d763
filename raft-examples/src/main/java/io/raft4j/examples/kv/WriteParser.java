package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.message.Bytes;
import io.raft4j.session.ClientSession;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Parses the write commands (SET, DEL, INCR and its kin, MSET, and RAFT.ONCE around one of them)
 * into their {@link KvCodec} commands for the log. Pure: what runs them is {@link CommandProcessor}'s.
 */
final class WriteParser {
    private WriteParser() {
    }

    /**
     * A write's command for the log, whether it may add data (refused over {@code --maxmemory}) and
     * whether its reply holds a stored value; or, for bad arguments, the error to answer instead.
     */
    record Write(Bytes command, boolean grows, boolean answersAValue, Reply refusal) {
        static Write of(Bytes command, boolean grows) {
            return new Write(command, grows, false, null);
        }

        static Write refused(String error) {
            return new Write(null, false, false, Reply.error(error));
        }
    }

    /** Parses write command {@code name} (lower case) with its {@code args}; null if it is not a write. */
    static Write parse(String name, List<byte[]> args) {
        int argc = args.size();
        switch (name) {
            case "set":
                return argc < 3 ? arity(name) : parseSet(args);
            case "del":
                return argc < 2 ? arity(name) : Write.of(KvCodec.del(args.subList(1, argc)), false);
            case "incr":
                return argc != 2 ? arity(name) : Write.of(KvCodec.incrBy(args.get(1), 1), true);
            case "decr":
                return argc != 2 ? arity(name) : Write.of(KvCodec.incrBy(args.get(1), -1), true);
            case "incrby":
            case "decrby": {
                if (argc != 3) {
                    return arity(name);
                }
                Long delta = KvStateMachine.parseStrictLong(args.get(2));
                if (delta == null || (name.equals("decrby") && delta == Long.MIN_VALUE)) {
                    return Write.refused(name.equals("decrby") && delta != null
                            ? "ERR decrement would overflow" : "ERR value is not an integer or out of range");
                }
                return Write.of(KvCodec.incrBy(args.get(1), name.equals("decrby") ? -delta : delta), true);
            }
            case "mset":
                if (argc < 3 || argc % 2 == 0) {
                    return arity(name);
                }
                return Write.of(KvCodec.mset(args.subList(1, argc)), true);
            default:
                return null;
        }
    }

    /**
     * {@code RAFT.ONCE <session> <sequence> <lowest-unfinished> <write command...>}: the write,
     * numbered in a session that {@code RAFT.SESSION} opened, applied once however often it is sent.
     */
    static Write parseOnce(List<byte[]> args) {
        if (args.size() < 5) {
            return arity("raft.once");
        }
        Long session = KvStateMachine.parseStrictLong(args.get(1));
        Long sequence = KvStateMachine.parseStrictLong(args.get(2));
        Long lowestUnfinished = KvStateMachine.parseStrictLong(args.get(3));
        if (session == null || sequence == null || lowestUnfinished == null || session < 1 || sequence < 1
                || lowestUnfinished < 1 || lowestUnfinished > sequence) {
            return Write.refused("ERR RAFT.ONCE takes <session> <sequence> <lowest-unfinished> then a write: whole"
                    + " numbers from 1, the lowest unfinished at most the sequence");
        }
        List<byte[]> inner = args.subList(4, args.size());
        Write write = parse(new String(inner.get(0), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT), inner);
        if (write == null) {
            String name = Failures.oneLine(new String(inner.get(0), StandardCharsets.UTF_8));
            return Write.refused("ERR RAFT.ONCE wraps a write (SET, DEL, INCR, DECR, INCRBY, DECRBY, MSET), not '"
                    + (name.length() > 64 ? name.substring(0, 64) : name) + "'");
        }
        if (write.refusal() != null) {
            return write;
        }
        if (write.answersAValue()) {
            // Sessions keep replies until the client moves its lowest unfinished number past them,
            // outside --maxmemory: a stored value (up to --max-bulk-bytes) in each would be unbounded.
            return Write.refused("ERR RAFT.ONCE does not take SET ... GET: a session keeps every reply it may be"
                    + " asked for again, and values are too large to keep; GET the key before or after instead");
        }
        Bytes once = KvCodec.once(ClientSession.relayed(session, sequence, lowestUnfinished, write.command()).bytes());
        return Write.of(once, write.grows());
    }

    private static Write parseSet(List<byte[]> args) {
        KvCodec.Condition condition = KvCodec.Condition.ALWAYS;
        byte[] expected = null;
        boolean returnOld = false;
        for (int i = 3; i < args.size(); i++) {
            String opt = new String(args.get(i), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
            switch (opt) {
                case "NX", "XX" -> {
                    KvCodec.Condition asked = opt.equals("NX") ? KvCodec.Condition.NX : KvCodec.Condition.XX;
                    // As Redis: NX and XX exclude each other (and IFEQ here), but one given twice is
                    // taken; SET k v NX NX was refused with a syntax error that Redis does not give.
                    if (condition != KvCodec.Condition.ALWAYS && condition != asked) {
                        return Write.refused("ERR syntax error");
                    }
                    condition = asked;
                }
                case "IFEQ" -> {
                    if (condition != KvCodec.Condition.ALWAYS || i + 1 >= args.size()) {
                        return Write.refused("ERR syntax error");
                    }
                    condition = KvCodec.Condition.IFEQ;
                    expected = args.get(++i);
                }
                case "GET" -> returnOld = true;
                case "KEEPTTL" -> {
                    // no key expires here, so keeping the TTL is what always happens
                }
                case "EX", "PX", "EXAT", "PXAT" -> {
                    return Write.refused("ERR SET " + opt + " is not supported: keys never expire in this store"
                            + " (an expiry would need a clock, and the state machine must be deterministic)");
                }
                default -> {
                    return Write.refused("ERR syntax error");
                }
            }
        }
        return new Write(KvCodec.set(args.get(1), args.get(2), condition, expected, returnOld), true, returnOld, null);
    }

    private static Write arity(String name) {
        return Write.refused(wrongArity(name));
    }

    /** Redis's text for a wrong argument count. */
    static String wrongArity(String name) {
        return "ERR wrong number of arguments for '" + name + "' command";
    }
}

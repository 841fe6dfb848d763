package io.raft4j.examples.kv.resp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Breaks valid pipelines the ways a confused or hostile client would, for {@link RespRequestDecoderFuzzTest}:
 * flipped, missing and extra bytes, truncation, header lengths that are huge, negative, not numbers
 * or just over a limit, wrong type bytes, CR without LF, empty, nested and null items, overlong
 * inline lines; and draws plain random bytes.
 */
final class RespMutator {
    /** Snippets a client might put where they do not belong. */
    private static final List<String> SNIPPETS = List.of("\r", "\n", "\r\n", "\r\r\n", "*0\r\n", "*-1\r\n", "$-1\r\n",
            "*1\r\n", "*2\r\n$1\r\na\r\n", ":1\r\n", "+OK\r\n", "-ERR x\r\n", "$0\r\n\r\n", "\"", "'", " ", "\\", "*", "$");

    /** A mutated input and the offset of its first changed byte: everything before it is the original's. */
    record Mutant(byte[] bytes, int firstChange, String how) {
    }

    private final SplittableRandom r;
    private final RespLimits limits;

    RespMutator(SplittableRandom r, RespLimits limits) {
        this.r = r;
        this.limits = limits;
    }

    /** One to three mutations of {@code p}. */
    Mutant mutate(RespPipeline p) {
        List<Byte> b = new ArrayList<>(p.bytes.length + 16);
        for (byte x : p.bytes) {
            b.add(x);
        }
        int first = Integer.MAX_VALUE;
        List<String> how = new ArrayList<>();
        for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
            // Aim at the pipeline's headers only while they are where they were.
            first = Math.min(first, mutateOnce(b, i == 0 ? p.headers : List.of(), how));
        }
        return new Mutant(toArray(b), Math.min(first, b.size()), String.join("; ", how));
    }

    /** Applies one mutation; returns the offset of the first byte it changed. */
    private int mutateOnce(List<Byte> b, List<int[]> headers, List<String> how) {
        int kind = headers.isEmpty() ? 2 + r.nextInt(7) : r.nextInt(9);
        if (kind <= 1) {
            int[] h = headers.get(r.nextInt(headers.size()));
            if (kind == 0) {
                String number = interestingNumber();
                how.add("length " + number + " at " + h[0]);
                replace(b, h[0] + 1, h[1], bytes(number));
                return h[0] + 1;
            }
            byte type = pick("*$:+-?x\r\0".getBytes(StandardCharsets.ISO_8859_1));
            how.add("type byte " + (type & 0xff) + " at " + h[0]);
            b.set(h[0], type);
            return h[0];
        }
        int at = r.nextInt(b.size() + 1);
        switch (kind) {
            case 2 -> {
                if (at == b.size()) {
                    return at;
                }
                byte x = r.nextBoolean() ? pick(RespPipeline.SPECIAL) : (byte) r.nextInt(256);
                how.add("byte " + (x & 0xff) + " at " + at);
                b.set(at, x);
            }
            case 3 -> {
                int n = Math.min(b.size() - at, 1 + r.nextInt(4));
                how.add("delete " + n + " at " + at);
                b.subList(at, at + n).clear();
            }
            case 4 -> {
                byte[] insert = r.nextBoolean() ? bytes(pick(SNIPPETS)) : randomBytes(1 + r.nextInt(4));
                how.add("insert " + insert.length + " at " + at);
                replace(b, at, at, insert);
            }
            case 5 -> {
                how.add("truncate at " + at);
                b.subList(at, b.size()).clear();
            }
            case 6 -> {
                // A header's CRLF made CR alone, LF alone, or CR and something else.
                int cr = indexOf(b, (byte) '\r', at);
                if (cr < 0 || cr + 1 >= b.size() || b.get(cr + 1) != '\n') {
                    return b.size();
                }
                int variant = r.nextInt(3);
                how.add(new String[] {"CR without LF", "LF without CR", "CR and another byte"}[variant] + " at " + cr);
                switch (variant) {
                    case 0 -> b.remove(cr + 1);
                    case 1 -> b.remove(cr);
                    default -> b.set(cr + 1, pick(RespPipeline.SPECIAL));
                }
                return cr;
            }
            case 7 -> {
                // A slice of the input again somewhere else: repeated headers, a second copy of a value.
                int from = r.nextInt(b.size() + 1);
                int to = Math.min(b.size(), from + 1 + r.nextInt(12));
                how.add("copy " + from + ".." + to + " to " + at);
                replace(b, at, at, toArray(b.subList(from, to)));
            }
            default -> {
                // An inline line one byte over the limit (if the limit is small enough to write one).
                if (limits.maxInlineBytes() > 4096) {
                    return b.size();
                }
                byte[] line = bytes("x".repeat(limits.maxInlineBytes() + 1) + "\n");
                how.add("inline line over the limit at " + at);
                replace(b, at, at, line);
            }
        }
        return at;
    }

    /** Random bytes, weighted towards the ones RESP gives meaning to. */
    byte[] randomInput() {
        return randomBytes(r.nextInt(200));
    }

    private byte[] randomBytes(int n) {
        byte[] x = new byte[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextBoolean() ? pick(RespPipeline.SPECIAL) : r.nextBoolean() ? (byte) ('0' + r.nextInt(10)) : (byte) r.nextInt(256);
        }
        return x;
    }

    /** Header lengths around every limit and every way of not being a number. */
    private String interestingNumber() {
        List<String> n = List.of("0", "1", "-1", "-2", "-0", "007", "+1", "", "-", " 1", "1 ", "1x", "0x10", "2",
                Integer.toString(limits.maxBulkBytes()), Long.toString(limits.maxBulkBytes() + 1L),
                Integer.toString(limits.maxArrayLength()), Long.toString(limits.maxArrayLength() + 1L),
                Long.toString(limits.maxRequestBytes()), Long.toString(limits.maxRequestBytes() + 1),
                "2147483645", "2147483646", "2147483647", "2147483648", "-2147483648", "4294967296",
                "999999999999999999", "9999999999999999999", "-999999999999999999", "9223372036854775807",
                "9223372036854775808", "-9223372036854775808", "1".repeat(31), "1".repeat(32), "1".repeat(40));
        return r.nextInt(4) == 0 ? Integer.toString(r.nextInt(100)) : pick(n);
    }

    private static void replace(List<Byte> b, int from, int to, byte[] with) {
        b.subList(from, to).clear();
        List<Byte> insert = new ArrayList<>(with.length);
        for (byte x : with) {
            insert.add(x);
        }
        b.addAll(from, insert);
    }

    private static int indexOf(List<Byte> b, byte x, int from) {
        for (int i = from; i < b.size(); i++) {
            if (b.get(i) == x) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] toArray(List<Byte> b) {
        byte[] x = new byte[b.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = b.get(i);
        }
        return x;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private byte pick(byte[] choices) {
        return choices[r.nextInt(choices.length)];
    }

    private <T> T pick(List<T> choices) {
        return choices.get(r.nextInt(choices.size()));
    }
}

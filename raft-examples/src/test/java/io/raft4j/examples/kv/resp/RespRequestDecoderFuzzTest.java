package io.raft4j.examples.kv.resp;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzz test of {@link RespRequestDecoder}, the first handler of every client connection: bad
 * client input must get a clear error and never crash a node. From each seed it draws limits (small
 * ones so that they are hit, the defaults, the largest configurable), a valid pipeline, broken copies
 * of it and random bytes, and feeds each through the decoder in a channel pipeline all at once, a
 * byte at a time and in random pieces. Valid pipelines must decode to exactly their commands, each
 * as soon as its last byte has arrived. Anything else may only decode commands, wait for more bytes
 * or end in one {@link RespProtocolError}: exactly what {@link RespRequestModel} makes of the whole
 * input, with the commands before the first broken byte intact; no other exception; never holding
 * more bytes than the limits allow; and in bounded time.
 *
 * <p>{@code -Draft.fuzz.seeds=N} sets the number of seeds (default {@value #DEFAULT_SEEDS});
 * {@code -Draft.fuzz.firstSeed=F} starts elsewhere (long runs explore new seeds);
 * {@code -Draft.fuzz.seed=S} replays one seed, as printed by a failure.
 */
class RespRequestDecoderFuzzTest {
    private static final int DEFAULT_SEEDS = 1000;
    private static final Duration SEED_DEADLINE = Duration.ofSeconds(10);

    private final Stats stats = new Stats();

    @Test
    void validPipelinesDecodeToTheirCommandsHoweverTheyAreSplit() {
        forEachSeed("valid", this::checkValid);
    }

    @Test
    void brokenInputOnlyDecodesWaitsOrFailsWithAProtocolError() {
        forEachSeed("broken", this::checkBroken);
    }

    private void checkValid(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        RespLimits limits = drawLimits(r);
        RespPipeline p = RespPipeline.generate(r, limits);
        List<String> all = render(p.commands);
        Case input = new Case("valid pipeline", limits, p.bytes, null);
        stats.inputs++;
        // The model must agree on valid input, or its verdicts on broken input would mean little.
        input.check(() -> assertEquals(all, render(RespRequestModel.decode(p.bytes, limits).messages()), "the model"));
        for (Map.Entry<String, int[]> chunking : chunkings(r, p.bytes.length).entrySet()) {
            input.splitBy(chunking.getKey()).check(() -> {
                DecoderHarness.Run run = DecoderHarness.run(limits, p.bytes, chunking.getValue());
                int fed = 0;
                for (int i = 0; i < chunking.getValue().length; i++) {
                    fed += chunking.getValue()[i];
                    // Which ones they are is checked below: they come out in order.
                    assertEquals(p.commandsWithin(fed).size(), run.countAfter()[i], "commands out after " + fed + " bytes");
                    assertHeldWithinLimits(limits, run.heldAfter()[i], fed);
                }
                assertEquals(all, render(run.messages()));
                assertEquals(0, run.held(), "bytes held after the last command");
                assertEquals(List.of(), run.closeMessages(), "emitted on close");
                stats.count(run.messages());
            });
        }
    }

    private void checkBroken(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        RespLimits limits = drawLimits(r);
        RespPipeline p = RespPipeline.generate(r, limits);
        RespMutator mutator = new RespMutator(r, limits);
        for (int i = 0; i < 3; i++) {
            RespMutator.Mutant m = mutator.mutate(p);
            checkAgainstModel(r, new Case("mutated (" + m.how() + ")", limits, m.bytes(), null),
                    render(p.commandsWithin(m.firstChange())));
        }
        checkAgainstModel(r, new Case("random bytes", limits, mutator.randomInput(), null), List.of());
    }

    /** {@code intact}: the commands before the first broken byte, which must come out first whatever follows. */
    private void checkAgainstModel(SplittableRandom r, Case input, List<String> intact) {
        byte[] bytes = input.bytes();
        stats.inputs++;
        RespLimits limits = input.limits();
        RespRequestModel.Outcome expected = RespRequestModel.decode(bytes, limits);
        List<String> expectedMessages = render(expected.messages());
        input.check(() -> assertStartsWith(intact, expectedMessages, "the model"));
        for (Map.Entry<String, int[]> chunking : chunkings(r, bytes.length).entrySet()) {
            input.splitBy(chunking.getKey()).check(() -> {
                DecoderHarness.Run run = DecoderHarness.run(limits, bytes, chunking.getValue());
                int fed = 0;
                for (int i = 0; i < chunking.getValue().length; i++) {
                    fed += chunking.getValue()[i];
                    assertHeldWithinLimits(limits, run.heldAfter()[i], fed);
                    if (chunking.getKey().equals("random pieces")) {
                        // Also right after each piece: nothing comes out late, nothing is held that need not be.
                        byte[] prefix = Arrays.copyOf(bytes, fed);
                        RespRequestModel.Outcome partial = RespRequestModel.decode(prefix, limits);
                        assertEquals(render(partial.messages()), render(run.messages().subList(0, run.countAfter()[i])),
                                "out after " + fed + " bytes");
                        assertEquals(partial.leftover(), run.heldAfter()[i], "bytes held after " + fed + " bytes");
                    }
                }
                assertEquals(expectedMessages, render(run.messages()));
                assertEquals(expected.leftover(), run.held(), "bytes held at the end");
                assertEquals(List.of(), run.closeMessages(), "emitted on close");
                assertStartsWith(intact, render(run.messages()), "the decoder");
                stats.count(run.messages());
            });
        }
    }

    /**
     * Between reads the decoder holds at most one item short of its end: an inline line short of its
     * LF, a bulk string short of its last byte, or a header line short of its LF.
     */
    private static void assertHeldWithinLimits(RespLimits limits, long held, int fed) {
        long max = Math.max(Math.max(limits.maxInlineBytes(), limits.maxBulkBytes() + 1L), RespRequestModel.HEADER_LINE + 1);
        assertTrue(held <= max, () -> "holds " + held + " bytes after " + fed + ", more than " + max);
    }

    private static void assertStartsWith(List<String> prefix, List<String> messages, String who) {
        assertTrue(messages.size() >= prefix.size() && messages.subList(0, prefix.size()).equals(prefix),
                () -> who + " lost or changed commands before the first broken byte: expected " + prefix + " first, got " + messages);
    }

    /** Small limits most of the time, so that inputs reach them; now and then the defaults, or the largest configurable. */
    private static RespLimits drawLimits(SplittableRandom r) {
        int kind = r.nextInt(10);
        if (kind == 0) {
            return RespLimits.DEFAULT;
        }
        if (kind == 1) {
            return new RespLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE);
        }
        int bulk = 1 + r.nextInt(48);
        return new RespLimits(bulk, 1 + r.nextInt(5), 16 + r.nextInt(100), bulk + r.nextInt(2 * bulk + 1));
    }

    /** The input all at once, a byte at a time, and cut at 1 to 7 random places. */
    private static Map<String, int[]> chunkings(SplittableRandom r, int length) {
        Map<String, int[]> c = new LinkedHashMap<>();
        c.put("all at once", new int[] {length});
        int[] bytes = new int[length];
        Arrays.fill(bytes, 1);
        c.put("a byte at a time", bytes);
        int[] cuts = r.ints(1 + r.nextInt(7), 0, length + 1).sorted().toArray();
        int[] pieces = new int[cuts.length + 1];
        for (int i = 0, from = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : length;
            pieces[i] = to - from;
            from = to;
        }
        c.put("random pieces", pieces);
        return c;
    }

    private void forEachSeed(String what, LongConsumer check) {
        String only = System.getProperty("raft.fuzz.seed");
        long first = only != null ? Long.parseLong(only) : Long.getLong("raft.fuzz.firstSeed", 0);
        int seeds = only != null ? 1 : Integer.getInteger("raft.fuzz.seeds", DEFAULT_SEEDS);
        long start = System.nanoTime();
        for (long seed = first; seed < first + seeds; seed++) {
            long s = seed;
            try {
                // A decoder that loops forever is a failure too. The deadline is per seed, generous
                // (a seed takes tens of milliseconds), not a measure of speed: a deadline for the
                // whole run ran out on a loaded machine while every seed was still progressing.
                assertTimeoutPreemptively(SEED_DEADLINE, () -> check.accept(s),
                        () -> "did not finish within " + SEED_DEADLINE.toSeconds() + " s");
            } catch (Throwable t) {
                throw new AssertionError(what + " seed " + seed + " failed (" + replay(seed) + "): " + t.getMessage(), t);
            }
        }
        System.out.printf("RESP decoder fuzz, %s: %d seeds from %d, %d inputs in %d runs, %d commands, %d ms; errors %s%n",
                what, seeds, first, stats.inputs, stats.runs, stats.commands, (System.nanoTime() - start) / 1_000_000, stats.errors);
    }

    private static String replay(long seed) {
        return "replay with -Dtest=RespRequestDecoderFuzzTest -Draft.fuzz.seed=" + seed;
    }

    /** One input under test, described so that a failure says what was fed, and how if {@code split} is set. */
    private record Case(String what, RespLimits limits, byte[] bytes, String split) {
        Case splitBy(String how) {
            return new Case(what, limits, bytes, how);
        }

        /** Runs {@code body}; any failure or exception out of it comes back naming this case. */
        void check(Runnable body) {
            try {
                body.run();
            } catch (Throwable t) {
                throw new AssertionError(what + ", " + limits + (split == null ? "" : ", fed " + split) + ", input \""
                        + escape(bytes) + "\": " + t, t);
            }
        }
    }

    /** What the runs decoded, for the summary line: enough to see which errors the inputs reach. */
    private static final class Stats {
        int inputs;
        int runs;
        long commands;
        final Map<String, Integer> errors = new TreeMap<>();

        void count(List<Object> messages) {
            runs++;
            for (Object m : messages) {
                if (m instanceof RespProtocolError e) {
                    // "expected '$', got 'x'" and "request larger than N bytes" count as one kind each.
                    errors.merge(e.message().replaceAll("got '.*'|\\d+ bytes", "…").replace("Protocol error: ", ""), 1, Integer::sum);
                } else {
                    commands++;
                }
            }
        }
    }

    /** The decoder's messages as comparable text: {@code [arg, arg]} for a command, {@code -ERR message} for an error. */
    static List<String> render(List<?> messages) {
        List<String> out = new ArrayList<>(messages.size());
        for (Object m : messages) {
            out.add(render(m));
        }
        return out;
    }

    private static String render(Object m) {
        if (m instanceof RespProtocolError e) {
            return "-ERR " + e.message();
        }
        if (m instanceof List<?> args) {
            StringBuilder s = new StringBuilder("[");
            for (Object a : args) {
                s.append(s.length() > 1 ? ", " : "").append(a instanceof byte[] b ? "\"" + escape(b) + "\"" : "not bytes: " + a);
            }
            return s.append(']').toString();
        }
        return "unexpected " + m.getClass().getName() + ": " + m; // never equal to what the model says
    }

    static String escape(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte b : bytes) {
            switch (b) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\\' -> s.append("\\\\");
                case '"' -> s.append("\\\"");
                default -> s.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
            }
        }
        return s.toString();
    }
}

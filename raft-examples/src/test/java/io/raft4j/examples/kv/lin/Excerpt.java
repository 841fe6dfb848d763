package io.raft4j.examples.kv.lin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The part of one key's history that shows a violation to a reader: the operation no order
 * explains, what ran concurrently with it, and the last few writes that completed before it (what
 * it should have seen), with times relative to the start of the test.
 */
public final class Excerpt {
    /** State-changing operations completed before the offending one that the excerpt goes back to. */
    private static final int WRITES_BEFORE = 3;
    private static final int MAX_LINES = 40;

    private Excerpt() {
    }

    /** The excerpt of {@code history} (all of the key's operations) around {@code result}'s violation. */
    public static String of(RegisterChecker.Result result, List<Op> history, long startNanos) {
        Op stuck = result.stuckAt();
        StringBuilder out = new StringBuilder();
        out.append("key ").append(result.key()).append(": no order of its ").append(result.opsChecked())
                .append(" operations explains the one marked >> (when it completed, the register could only hold ")
                .append(result.possibleValues()).append(").\n  invoked .. completed (s since the start;")
                .append(" '?' = outcome unknown, may take effect any time after its invocation):\n");
        List<Op> shown = window(stuck, result.lastPlaced(), history);
        for (Op op : shown) {
            out.append(op == stuck ? "  >>" : "    ").append(line(op, startNanos)).append('\n');
        }
        // Where the value it saw (or expected) came from, if that is outside the window.
        String seen = stuck.kind() == Op.Kind.READ ? stuck.value() : stuck.expected();
        history.stream()
                .filter(op -> op.kind() != Op.Kind.READ && op.outcome() != Op.Outcome.FAIL && op.value().equals(seen))
                .filter(op -> !shown.contains(op))
                .forEach(op -> out.append("  the value ").append(seen).append(" was written by\n    ")
                        .append(line(op, startNanos)).append('\n'));
        return out.toString();
    }

    static List<Op> window(Op stuck, List<Op> placed, List<Op> history) {
        List<Op> writesBefore = history.stream()
                .filter(op -> op.outcome() == Op.Outcome.OK && op.kind() != Op.Kind.READ && (op.kind() == Op.Kind.WRITE || op.applied()))
                .filter(op -> op.completeNanos() < stuck.invokeNanos())
                .sorted(Comparator.comparingLong(Op::completeNanos))
                .toList();
        long from = stuck.invokeNanos();
        for (Op op : writesBefore.subList(Math.max(0, writesBefore.size() - WRITES_BEFORE), writesBefore.size())) {
            from = Math.min(from, op.invokeNanos());
        }
        for (Op op : placed) {
            from = Math.min(from, op.invokeNanos());
        }
        long to = stuck.completeNanos();
        Set<String> readInWindow = new HashSet<>();
        List<Op> overlapping = new ArrayList<>();
        for (Op op : history) {
            if (op.outcome() != Op.Outcome.FAIL && op.invokeNanos() <= to && op.completeNanos() >= from) {
                overlapping.add(op);
                if (op.kind() == Op.Kind.READ && op.value() != null) {
                    readInWindow.add(op.value());
                }
            }
        }
        // An operation of unknown outcome overlaps everything after it: show an old one only if what
        // it wrote is read in the window.
        long windowStart = from;
        List<Op> shown = new ArrayList<>(overlapping.stream()
                .filter(op -> op.outcome() != Op.Outcome.INFO || op.invokeNanos() >= windowStart
                        || readInWindow.contains(op.value()) || placed.contains(op))
                .sorted(Comparator.comparingLong(Op::invokeNanos))
                .toList());
        while (shown.size() > MAX_LINES) {
            // Drop what is furthest from the offending operation.
            Op first = shown.get(0);
            Op last = shown.get(shown.size() - 1);
            shown.remove(stuck.invokeNanos() - first.invokeNanos() >= last.invokeNanos() - stuck.invokeNanos()
                    ? 0 : shown.size() - 1);
        }
        return shown;
    }

    /** {@code +12.345s .. +12.351s  p3  write(p3-17)=ok  n2 lease}. */
    public static String line(Op op, long startNanos) {
        String end = op.outcome() == Op.Outcome.INFO ? "?" : seconds(op.completeNanos() - startNanos);
        return String.format(Locale.ROOT, "%s .. %-9s p%-3d %-42s %s", seconds(op.invokeNanos() - startNanos), end,
                op.process(), op.describe(), op.note());
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "+%.3fs", nanos / 1e9);
    }
}

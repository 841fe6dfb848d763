package io.raft4j.examples.kv;

import java.util.Locale;

/** A size in bytes as Redis's configuration writes it: {@code 1000}, {@code 100mb}, {@code 1g}. */
final class MemorySize {
    private MemorySize() {
    }

    /**
     * Parses {@code text}: a number of bytes, optionally followed by {@code k}, {@code m} or {@code g}
     * (powers of 1000) or {@code kb}, {@code mb} or {@code gb} (powers of 1024), in any case.
     *
     * @throws IllegalArgumentException if it is not such a size, is negative, or does not fit in a long
     */
    static long parse(String text) {
        String t = text.replace(" ", "").toLowerCase(Locale.ROOT); // "100 mb" as Redis's config file allows
        int unitAt = t.length();
        while (unitAt > 0 && Character.isLetter(t.charAt(unitAt - 1))) {
            unitAt--;
        }
        long multiplier = switch (t.substring(unitAt)) {
            case "", "b" -> 1L;
            case "k" -> 1_000L;
            case "kb" -> 1L << 10;
            case "m" -> 1_000_000L;
            case "mb" -> 1L << 20;
            case "g" -> 1_000_000_000L;
            case "gb" -> 1L << 30;
            default -> throw new IllegalArgumentException("'" + text + "' has an unknown unit (use k, kb, m, mb, g or gb)");
        };
        String digits = t.substring(0, unitAt);
        if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("'" + text + "' is not a size in bytes (for example 1000, 100mb or 1gb)");
        }
        try {
            return Math.multiplyExact(Long.parseLong(digits), multiplier);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
    }
}

package io.raft4j.examples.kv.lin;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The operations a linearizability search has placed (ids numbered in invocation order), with two
 * keys for remembering a configuration (this set, and the register's value) that stay small however
 * long the history: a bit set of every operation per configuration would make the search of a
 * ten-minute run's history need gigabytes.
 *
 * <ul>
 * <li>A 128-bit fingerprint (Zobrist hashing: a random number per operation, XORed in on placing
 * it and out on taking it back). Two sets with the same fingerprint are unlikely beyond any
 * concern (about n^2 / 2^128), but not impossible.
 * <li>An exact key: the highest placed id and the unplaced ids below it. The search places
 * operations roughly in the order they were invoked, so these are the few still pending around
 * it, and the operations of unknown outcome it never placed.
 * </ul>
 */
final class PlacedOps {
    private final BitSet placed;
    private final long[] high;
    private final long[] low;
    private long fingerprintHigh;
    private long fingerprintLow;
    /** The highest placed id, -1 if none. */
    private int top = -1;
    /** The unplaced ids below {@link #top}. */
    private final TreeSet<Integer> holes = new TreeSet<>();

    PlacedOps(int size) {
        placed = new BitSet(size);
        SplittableRandom random = new SplittableRandom(0x5EED);
        high = random.longs(size).toArray();
        low = random.longs(size).toArray();
    }

    void add(int id) {
        placed.set(id);
        fingerprintHigh ^= high[id];
        fingerprintLow ^= low[id];
        if (id > top) {
            for (int i = top + 1; i < id; i++) {
                holes.add(i);
            }
            top = id;
        } else {
            holes.remove(id);
        }
    }

    void remove(int id) {
        placed.clear(id);
        fingerprintHigh ^= high[id];
        fingerprintLow ^= low[id];
        if (id == top) {
            top = placed.previousSetBit(id - 1);
            holes.subSet(top + 1, id).clear();
        } else {
            holes.add(id);
        }
    }

    /** The configuration of these operations placed and the register at {@code state}, by fingerprint. */
    Object fingerprint(int state) {
        return new Fingerprint(fingerprintHigh, fingerprintLow, state);
    }

    /** The configuration of these operations placed and the register at {@code state}, exactly. */
    Object exactKey(int state) {
        return new ExactKey(top, holes.stream().mapToInt(Integer::intValue).toArray(), state);
    }

    private record Fingerprint(long high, long low, int state) {
    }

    private static final class ExactKey {
        private final int top;
        private final int[] holes;
        private final int state;
        private final int hash;

        ExactKey(int top, int[] holes, int state) {
            this.top = top;
            this.holes = holes;
            this.state = state;
            this.hash = 31 * (31 * top + Arrays.hashCode(holes)) + state;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ExactKey k && k.top == top && k.state == state && Arrays.equals(k.holes, holes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}

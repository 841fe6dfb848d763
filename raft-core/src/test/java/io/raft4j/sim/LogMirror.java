package io.raft4j.sim;

import io.raft4j.message.EntryType;
import io.raft4j.message.LogEntry;

import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * The simulator's copy of one node's log as hash chains: {@code chain(i)} digests every entry up to
 * {@code i}, so two logs with the same chain at {@code i} are identical up to {@code i}. Lets the
 * safety checks compare whole prefixes in O(1).
 */
final class LogMirror {
    private long base;            // index of the entry before the first held (compaction point)
    private long baseChain;
    private long[] terms = new long[64];
    private long[] chains = new long[64];
    private int size;
    /** Indexes of the configuration entries held (rare: a sorted set is cheap enough). */
    private final TreeSet<Long> configIndexes = new TreeSet<>();

    LogMirror(long base, long baseChain) {
        this.base = base;
        this.baseChain = baseChain;
    }

    long base() {
        return base;
    }

    long lastIndex() {
        return base + size;
    }

    long term(long index) {
        return terms[(int) (index - base - 1)];
    }

    /** Chain hash up to {@code index}, or 0 if not held. */
    long chain(long index) {
        if (index == base) {
            return baseChain;
        }
        if (index < base || index > lastIndex()) {
            return 0;
        }
        return chains[(int) (index - base - 1)];
    }

    /** Appends {@code entries}, replacing any held suffix from their first index. */
    void write(List<LogEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first <= base || first > lastIndex() + 1) {
            throw new AssertionError("mirror: write at " + first + " does not fit " + (base + 1) + ".." + lastIndex());
        }
        size = (int) (first - base - 1);
        configIndexes.tailSet(first, true).clear();
        long prev = chain(first - 1);
        for (LogEntry e : entries) {
            if (e.type() == EntryType.CONFIG) {
                configIndexes.add(e.index());
            }
            if (size == terms.length) {
                terms = Arrays.copyOf(terms, size * 2);
                chains = Arrays.copyOf(chains, size * 2);
            }
            prev = link(prev, e);
            terms[size] = e.term();
            chains[size] = prev;
            size++;
        }
    }

    /** Index of the last configuration entry held before {@code index}, or {@link #base()} if none is. */
    long lastConfigBefore(long index) {
        Long found = configIndexes.lower(index);
        return found == null ? base : found;
    }

    static long link(long prev, LogEntry e) {
        long h = prev * 0x9E3779B97F4A7C15L + e.index();
        h = h * 31 + e.term();
        h = h * 31 + e.type().ordinal();
        h = h * 31 + e.data().hashCode();
        return mix(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

package io.raft4j.storage.rocksdb;

import java.util.Arrays;

/**
 * The term of every entry of one group's log, held in memory as runs of equal terms, so that
 * {@code term(i)} never reads RocksDB. A Raft log has few distinct terms, so this stays tiny.
 *
 * <p>Run {@code r} covers indexes {@code starts[r] .. starts[r+1]-1} (the last run up to the log's
 * end) with term {@code terms[r]}. Invariant: {@code starts} is strictly increasing. Not
 * thread-safe: the owning storage guards it with its lock.
 */
final class TermIndex {
    private long[] starts = new long[8];
    private long[] terms = new long[8];
    private int runs;

    /** Records that entry {@code index} (one past the current last) has {@code term}. */
    void add(long index, long term) {
        if (runs > 0 && terms[runs - 1] == term) {
            return;
        }
        if (runs > 0 && starts[runs - 1] >= index) {
            throw new IllegalStateException("term index out of order: " + index + " after run at " + starts[runs - 1]);
        }
        if (runs == starts.length) {
            starts = Arrays.copyOf(starts, runs * 2);
            terms = Arrays.copyOf(terms, runs * 2);
        }
        starts[runs] = index;
        terms[runs] = term;
        runs++;
    }

    /** Forgets entries at or after {@code index}. */
    void truncateFrom(long index) {
        while (runs > 0 && starts[runs - 1] >= index) {
            runs--;
        }
    }

    /** Forgets entries at or before {@code index}; the run holding {@code index + 1} is kept. */
    void dropThrough(long index) {
        int keepFrom = 0;
        while (keepFrom + 1 < runs && starts[keepFrom + 1] <= index + 1) {
            keepFrom++;
        }
        if (keepFrom > 0) {
            System.arraycopy(starts, keepFrom, starts, 0, runs - keepFrom);
            System.arraycopy(terms, keepFrom, terms, 0, runs - keepFrom);
            runs -= keepFrom;
        }
    }

    void clear() {
        runs = 0;
    }

    int runs() {
        return runs;
    }

    /** Term of entry {@code index}, which the caller has checked is held in the log. */
    long termAt(long index) {
        int lo = 0;
        int hi = runs - 1;
        if (hi < 0 || index < starts[0]) {
            throw new IllegalStateException("no term recorded for index " + index);
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return terms[lo];
    }
}

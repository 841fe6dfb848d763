package io.raft4j.core;

import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;

import java.util.ArrayList;
import java.util.List;

/**
 * The core's view of the log: the durable part read through {@link LogStorage}, followed by the
 * {@link Unstable} tail held in memory until storage reports it durable.
 *
 * <p>Invariants: {@code committed <= lastIndex()}; {@code handedOut <= committed}; entries up to
 * {@code persisted} are durable locally; terms never decrease along the log.
 */
final class RaftLog {
    /** Returned by {@link #term(long)} for an index whose term is not known (compacted or beyond). */
    static final long UNKNOWN_TERM = -1;

    private final LogStorage storage;
    private final Unstable unstable;
    /**
     * The compaction point as the core sees it: entries up to here are covered by a snapshot. It may
     * run ahead of storage (a compaction or reset not yet carried out); the core never reads below it.
     */
    private long compactIndex;
    private long compactTerm;
    private long committed;
    /** Highest index handed out to be applied. */
    private long handedOut;
    /** Highest index known durable in the local log (counts toward the leader's own match). */
    private long persisted;

    RaftLog(LogStorage storage) {
        this.storage = storage;
        long first = storage.firstIndex();
        long last = storage.lastIndex();
        if (first < 1 || last < first - 1) {
            // Read on: a negative last index left the node waiting for ever for entries it never had.
            throw new StorageException("the log storage " + storage + " says its entries run from " + first + " to "
                    + last + ": its first index must be at least 1, and its last at least the first minus 1");
        }
        this.compactIndex = storage.firstIndex() - 1;
        this.compactTerm = storage.term(compactIndex);
        this.unstable = new Unstable(storage.lastIndex() + 1);
        this.committed = compactIndex;
        this.handedOut = compactIndex;
        this.persisted = storage.lastIndex();
    }

    long firstIndex() {
        return compactIndex + 1;
    }

    /** Index of the last entry (the compaction point if the log holds none). */
    long lastIndex() {
        return unstable.lastIndex();
    }

    long compactIndex() {
        return compactIndex;
    }

    long compactTerm() {
        return compactTerm;
    }

    long lastTerm() {
        return term(lastIndex());
    }

    long committed() {
        return committed;
    }

    long persisted() {
        return persisted;
    }

    long handedOut() {
        return handedOut;
    }

    /** Term at {@code index}, or {@link #UNKNOWN_TERM} if compacted away or beyond the end. */
    long term(long index) {
        if (index == compactIndex) {
            return compactTerm;
        }
        if (index < compactIndex) {
            return UNKNOWN_TERM;
        }
        if (unstable.contains(index)) {
            return unstable.get(index).term();
        }
        if (index > Math.min(storage.lastIndex(), unstable.offset() - 1)) {
            return UNKNOWN_TERM;
        }
        return storage.term(index);
    }

    boolean matchTerm(long index, long term) {
        return term(index) == term;
    }

    /** Raft §5.4.1: is a log ending at ({@code index}, {@code term}) at least as up to date as ours? */
    boolean isUpToDate(long index, long term) {
        long lastTerm = lastTerm();
        return term > lastTerm || (term == lastTerm && index >= lastIndex());
    }

    /**
     * {@link LogStorage#entries}, checked: at least one entry, starting at {@code from}, consecutive
     * and within the range. Storage that broke that contract used to go unnoticed: an empty answer
     * made a restarted node's build loop for ever, and a running one wait for ever for its
     * commits; entries of other indexes would have been applied as these.
     *
     * @throws StorageException saying what the storage returned
     */
    static List<LogEntry> checkedEntries(LogStorage storage, long from, long to, long maxBytes) {
        List<LogEntry> entries = storage.entries(from, to, maxBytes);
        if (entries == null || entries.isEmpty()) {
            throw new StorageException("the log storage " + storage + " returned no entries for " + from + ".."
                    + (to - 1) + ", which it holds (at least one must be returned)");
        }
        long first = entries.get(0).index();
        long last = entries.get(entries.size() - 1).index();
        if (first != from || last != from + entries.size() - 1 || last >= to) {
            throw new StorageException("the log storage " + storage + " returned " + entries.size() + " entries from "
                    + first + " to " + last + " when asked for " + from + ".." + (to - 1));
        }
        return entries;
    }

    /**
     * Entries in {@code [from, to)} up to {@code maxBytes} (at least one if the range is non-empty).
     * {@code from} must be at least {@link #firstIndex()}.
     */
    List<LogEntry> entries(long from, long to, long maxBytes) {
        to = Math.min(to, lastIndex() + 1);
        if (from >= to) {
            return List.of();
        }
        long unstableFrom = unstable.offset();
        // Sized for the whole range (bounded): growing one entry at a time showed in profiles.
        List<LogEntry> result = new ArrayList<>((int) Math.min(to - from, 4096));
        long budget = maxBytes;
        if (from < unstableFrom) {
            List<LogEntry> stored = checkedEntries(storage, from, Math.min(to, unstableFrom), maxBytes);
            result.addAll(stored);
            for (LogEntry e : stored) {
                budget -= e.sizeBytes();
            }
            if (from + stored.size() < Math.min(to, unstableFrom) || budget <= 0) {
                return result;
            }
        }
        for (long i = Math.max(from, unstableFrom); i < to; i++) {
            LogEntry e = unstable.get(i);
            if (!result.isEmpty() && budget - e.sizeBytes() < 0) {
                break;
            }
            result.add(e);
            budget -= e.sizeBytes();
        }
        return result;
    }

    /**
     * A local snapshot covers the log up to {@code index}: the core stops reading below it. The caller
     * asks storage to compact to the same point; until it does, storage still holds those entries.
     */
    void compactTo(long index) {
        if (index <= compactIndex) {
            return;
        }
        if (index > Math.min(committed, persisted)) {
            throw new IllegalStateException("compaction to " + index + " beyond committed/persisted");
        }
        compactTerm = term(index);
        compactIndex = index;
    }

    /**
     * Installs a snapshot received from the leader (Raft Figure 13). If the log holds the snapshot's
     * last entry (same index and term), the entries after it are kept (rule 6); otherwise the whole log
     * is discarded (rule 7).
     *
     * @return whether the whole log was discarded (storage must be reset rather than compacted)
     */
    boolean installSnapshot(long index, long term) {
        boolean matches = term(index) == term;
        compactIndex = index;
        compactTerm = term;
        if (!matches) {
            unstable.restartAfter(index);
        }
        committed = Math.max(committed, index);
        handedOut = Math.max(handedOut, index);
        // The snapshot itself is durable. A discarded log's entries beyond it are not the log's any
        // more: a leader counting them as its own durable copies would commit entries it appends
        // there before they reach its disk.
        persisted = matches ? Math.max(persisted, index) : index;
        return !matches;
    }

    /**
     * At start-up, the state machine was restored from a snapshot ending at {@code index}, an entry
     * this log still holds: everything up to it is committed and applied, though not compacted.
     */
    void restoreSnapshotPoint(long index) {
        if (index > persisted) {
            throw new IllegalStateException("snapshot point " + index + " beyond the durable log end " + persisted);
        }
        committed = Math.max(committed, index);
        handedOut = Math.max(handedOut, index);
    }

    /** Appends entries at the end of the log (the leader's own proposals). */
    void append(List<LogEntry> entries) {
        if (entries.get(0).index() != lastIndex() + 1) {
            throw new IllegalStateException("append must continue the log at " + (lastIndex() + 1));
        }
        unstable.truncateAndAppend(entries);
    }

    /**
     * Raft Figure 2, AppendEntries receiver rules 3 and 4: skips entries already present, and from
     * the first entry whose term conflicts, replaces the log's suffix. Never truncates on a stale
     * or duplicate request: only a term mismatch removes entries.
     *
     * @return the index of the last entry of {@code entries} (now all in the log)
     */
    long appendFollowing(List<LogEntry> entries) {
        for (int i = 0; i < entries.size(); i++) {
            LogEntry e = entries.get(i);
            if (e.index() > lastIndex() || term(e.index()) != e.term()) {
                if (e.index() <= committed) {
                    throw new IllegalStateException("conflict at committed index " + e.index()
                            + " (committed " + committed + ")");
                }
                unstable.truncateAndAppend(entries.subList(i, entries.size()));
                persisted = Math.min(persisted, e.index() - 1);
                break;
            }
        }
        return entries.get(entries.size() - 1).index();
    }

    /** Advances the commit index to {@code index} if it is higher. */
    void commitTo(long index) {
        if (index > committed) {
            if (index > lastIndex()) {
                throw new IllegalStateException("commit " + index + " beyond last index " + lastIndex());
            }
            committed = index;
        }
    }

    /** Entries that may be persisted next (not yet handed to storage); marks them handed over. */
    List<LogEntry> takeEntriesToPersist() {
        List<LogEntry> entries = unstable.notYetPersisting();
        unstable.markAllInProgress();
        return entries;
    }

    boolean hasEntriesToPersist() {
        return !unstable.notYetPersistingIsEmpty();
    }

    /** Storage made the log durable up to ({@code index}, {@code term}). */
    boolean stableTo(long index, long term) {
        if (unstable.stableTo(index, term)) {
            persisted = Math.max(persisted, index);
            return true;
        }
        return false;
    }

    /** Committed, locally durable entries not yet handed out, up to {@code maxBytes}; marks them handed out. */
    List<LogEntry> takeCommittedToApply(long maxBytes) {
        long upTo = Math.min(committed, persisted);
        if (upTo <= handedOut) {
            return List.of();
        }
        List<LogEntry> entries = entries(handedOut + 1, upTo + 1, maxBytes);
        handedOut += entries.size();
        return entries;
    }

    boolean hasCommittedToApply() {
        return Math.min(committed, persisted) > handedOut;
    }

    /**
     * Index of the first entry whose term is at least {@code term}, searching {@code [lo, hi]};
     * terms never decrease along the log, so a binary search suffices. Returns {@code hi + 1} if none.
     */
    long firstIndexWithTermAtLeast(long term, long lo, long hi) {
        long result = hi + 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            if (term(mid) >= term) {
                result = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return result;
    }
}

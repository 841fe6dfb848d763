package io.raft4j.core;

import io.raft4j.message.LogEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * The tail of the log that is not yet known to be durable: entries accepted by the core and either
 * waiting to be handed to storage or handed over and being written.
 *
 * <p>Invariants: entries are contiguous from {@code offset}; {@code offset <= inProgress + 1 <=
 * offset + entries.size()}, i.e. entries up to {@code inProgress} have been handed to storage.
 */
final class Unstable {
    private long offset;
    private final ArrayList<LogEntry> entries = new ArrayList<>();
    private long inProgress;

    Unstable(long offset) {
        this.offset = offset;
        this.inProgress = offset - 1;
    }

    long offset() {
        return offset;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Last index held, or {@code offset - 1} if none. */
    long lastIndex() {
        return offset + entries.size() - 1;
    }

    boolean contains(long index) {
        return index >= offset && index <= lastIndex();
    }

    LogEntry get(long index) {
        return entries.get((int) (index - offset));
    }

    /** Entries in {@code [from, to)}; both must lie within this tail. */
    List<LogEntry> slice(long from, long to) {
        return entries.subList((int) (from - offset), (int) (to - offset));
    }

    /**
     * Appends {@code newEntries}, first discarding any held entries at or after their first index.
     * If they start before {@code offset}, the whole tail is replaced and storage will replace its
     * own suffix when the entries are written (see {@code LogStorage#append}).
     */
    void truncateAndAppend(List<LogEntry> newEntries) {
        long first = newEntries.get(0).index();
        if (first == lastIndex() + 1) {
            entries.addAll(newEntries);
        } else if (first <= offset) {
            entries.clear();
            entries.addAll(newEntries);
            offset = first;
            inProgress = first - 1;
        } else {
            entries.subList((int) (first - offset), entries.size()).clear();
            entries.addAll(newEntries);
            inProgress = Math.min(inProgress, first - 1);
        }
    }

    /** Entries not yet handed to storage. */
    List<LogEntry> notYetPersisting() {
        long from = inProgress + 1;
        if (from > lastIndex()) {
            return List.of();
        }
        return List.copyOf(slice(from, lastIndex() + 1));
    }

    boolean notYetPersistingIsEmpty() {
        return inProgress >= lastIndex();
    }

    /** Marks every held entry as handed to storage. */
    void markAllInProgress() {
        inProgress = lastIndex();
    }

    /**
     * Storage made entries up to {@code index} (whose term was {@code term}) durable. Drops them
     * from the tail, unless the entry at {@code index} has since been replaced (term differs), in
     * which case the report concerns a write that is obsolete and is ignored.
     *
     * @return whether the report matched the current log
     */
    boolean stableTo(long index, long term) {
        if (!contains(index) || get(index).term() != term) {
            return false;
        }
        int drop = (int) (index + 1 - offset);
        entries.subList(0, drop).clear();
        offset = index + 1;
        inProgress = Math.max(inProgress, offset - 1);
        return true;
    }

    /** Discards everything; the tail restarts after {@code index} (snapshot installed). */
    void restartAfter(long index) {
        entries.clear();
        offset = index + 1;
        inProgress = index;
    }
}

package io.raft4j.memory;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link LogStorage} in memory, for tests and for embedding a cluster in a user's own tests.
 * "Durable" means: kept by this object, which survives a simulated restart of the node that uses it
 * (hand the same instance to the restarted node). Thread-safe.
 */
public final class InMemoryLogStorage implements LogStorage {
    private final ArrayList<LogEntry> entries = new ArrayList<>();
    /** Index of the compaction point: entries hold compactedIndex+1 onwards. */
    private long compactedIndex;
    private long compactedTerm;
    private HardState hardState = HardState.INITIAL;
    private LogOwner owner;
    private boolean closed;

    @Override
    public synchronized HardState hardState() {
        checkOpen();
        return hardState;
    }

    @Override
    public synchronized long firstIndex() {
        checkOpen();
        return compactedIndex + 1;
    }

    @Override
    public synchronized long lastIndex() {
        checkOpen();
        return compactedIndex + entries.size();
    }

    @Override
    public synchronized long term(long index) {
        checkOpen();
        if (index == compactedIndex) {
            return compactedTerm;
        }
        return get(index).term();
    }

    private LogEntry get(long index) {
        if (index <= compactedIndex || index > compactedIndex + entries.size()) {
            throw new IndexOutOfBoundsException("index " + index + " outside " + (compactedIndex + 1)
                    + ".." + (compactedIndex + entries.size()));
        }
        return entries.get((int) (index - compactedIndex - 1));
    }

    @Override
    public synchronized List<LogEntry> entries(long fromIndex, long toIndex, long maxBytes) {
        checkOpen();
        if (fromIndex < compactedIndex + 1 || toIndex > compactedIndex + entries.size() + 1 || fromIndex > toIndex) {
            throw new IndexOutOfBoundsException("range " + fromIndex + ".." + toIndex + " outside "
                    + (compactedIndex + 1) + ".." + (compactedIndex + entries.size() + 1));
        }
        List<LogEntry> result = new ArrayList<>((int) Math.min(toIndex - fromIndex, 4096));
        long bytes = 0;
        for (long i = fromIndex; i < toIndex; i++) {
            LogEntry e = get(i);
            bytes += e.sizeBytes();
            if (!result.isEmpty() && bytes > maxBytes) {
                break;
            }
            result.add(e);
        }
        return result;
    }

    @Override
    public synchronized void append(List<LogEntry> newEntries, HardState newHardState) {
        checkOpen();
        if (!newEntries.isEmpty()) {
            long first = newEntries.get(0).index();
            long last = compactedIndex + entries.size();
            if (first > last + 1 || first <= compactedIndex) {
                throw new IllegalArgumentException("append at " + first + " does not fit log "
                        + (compactedIndex + 1) + ".." + last);
            }
            for (int i = 1; i < newEntries.size(); i++) {
                if (newEntries.get(i).index() != first + i) {
                    throw new IllegalArgumentException("entries are not contiguous at " + newEntries.get(i).index());
                }
            }
            entries.subList((int) (first - compactedIndex - 1), entries.size()).clear();
            entries.addAll(newEntries);
        }
        if (newHardState != null) {
            hardState = newHardState;
        }
    }

    @Override
    public synchronized void compact(long index, long term) {
        checkOpen();
        checkCompactionPoint(index, term);
        if (index <= compactedIndex) {
            return;
        }
        long last = compactedIndex + entries.size();
        if (index >= last) {
            entries.clear();
        } else {
            entries.subList(0, (int) (index - compactedIndex)).clear();
        }
        compactedIndex = index;
        compactedTerm = term;
    }

    @Override
    public synchronized void reset(long index, long term) {
        checkOpen();
        checkCompactionPoint(index, term);
        entries.clear();
        compactedIndex = index;
        compactedTerm = term;
    }

    /** As {@link LogStorage#compact} and {@link LogStorage#reset} require: firstIndex() must not overflow. */
    private static void checkCompactionPoint(long index, long term) {
        if (index < 0 || index == Long.MAX_VALUE || term < 0) {
            throw new IllegalArgumentException("compaction point (" + index + ", " + term + ") out of range: index"
                    + " 0.." + (Long.MAX_VALUE - 1) + ", term from 0");
        }
    }

    @Override
    public synchronized Optional<LogOwner> owner() {
        checkOpen();
        return Optional.ofNullable(owner);
    }

    @Override
    public synchronized void recordOwner(LogOwner owner) {
        checkOpen();
        this.owner = Objects.requireNonNull(owner, "owner");
    }

    /** Always {@code true}: nothing here waits for a device. */
    @Override
    public boolean writesWithoutBlocking() {
        return true;
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    /** Reopens this store after {@link #close()}, as a restarted process would reopen its files. */
    public synchronized InMemoryLogStorage reopen() {
        closed = false;
        return this;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("storage is closed");
        }
    }

    @Override
    public synchronized String toString() {
        return "InMemoryLogStorage[" + (compactedIndex + 1) + ".." + (compactedIndex + entries.size())
                + ", " + Objects.toString(hardState) + "]";
    }
}

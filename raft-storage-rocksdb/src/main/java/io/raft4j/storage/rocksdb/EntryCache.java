package io.raft4j.storage.rocksdb;

import io.raft4j.message.LogEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * The newest entries of one group's log, kept in memory so that the leader replicating what it has
 * just written, and followers that are nearly caught up, are served without reading RocksDB.
 *
 * <p>Holds a contiguous run {@code firstIndex()..nextIndex()-1} that always ends at the log's last
 * entry; the oldest entries are evicted once the total {@link LogEntry#sizeBytes()} exceeds the
 * budget. Not thread-safe: the owning storage guards it with its lock.
 *
 * <p>Invariant: {@code bytes == sum of sizeBytes() of the held entries}, and {@code bytes <= maxBytes}
 * after every public method returns.
 */
final class EntryCache {
    private final long maxBytes;
    private LogEntry[] ring = new LogEntry[64];
    /** Position in {@code ring} of the entry at {@code firstIndex}. */
    private int head;
    private int size;
    private long firstIndex;
    private long bytes;

    /** An empty cache whose next entry will have index {@code nextIndex}. */
    EntryCache(long maxBytes, long nextIndex) {
        this.maxBytes = maxBytes;
        this.firstIndex = nextIndex;
    }

    /** Index of the oldest held entry; {@link #nextIndex()} when empty. */
    long firstIndex() {
        return firstIndex;
    }

    /** Index after the newest held entry. */
    long nextIndex() {
        return firstIndex + size;
    }

    int size() {
        return size;
    }

    long bytes() {
        return bytes;
    }

    /**
     * Adds contiguous {@code entries}, first replacing any held entries at or after the first one's
     * index. If they start beyond {@link #nextIndex()} or before {@link #firstIndex()} the cache
     * restarts at them.
     */
    void append(List<LogEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first < firstIndex || first > nextIndex()) {
            clear(first);
        } else {
            truncateFrom(first);
        }
        for (LogEntry entry : entries) {
            addLast(entry);
        }
        while (bytes > maxBytes && size > 0) {
            removeFirst();
        }
    }

    /** Drops entries at or before {@code index} (they were compacted). */
    void dropThrough(long index) {
        if (index >= nextIndex() - 1) {
            clear(Math.max(index + 1, nextIndex()));
            return;
        }
        while (size > 0 && firstIndex <= index) {
            removeFirst();
        }
    }

    /** Empties the cache; the next entry will have index {@code nextIndex}. */
    void clear(long nextIndex) {
        java.util.Arrays.fill(ring, null);
        head = 0;
        size = 0;
        bytes = 0;
        firstIndex = nextIndex;
    }

    LogEntry get(long index) {
        if (index < firstIndex || index >= nextIndex()) {
            throw new IndexOutOfBoundsException("index " + index + " not cached");
        }
        return ring[(head + (int) (index - firstIndex)) & (ring.length - 1)];
    }

    /**
     * Appends to {@code out} the held entries from {@code fromIndex} (which must be held) up to
     * {@code toIndex} exclusive, while the running total {@code usedBytes} plus each entry's size
     * stays within {@code maxBytes}; an entry is always added when {@code out} is empty.
     *
     * @return the new running total
     */
    long copyTo(List<LogEntry> out, long fromIndex, long toIndex, long usedBytes, long maxBytes) {
        long end = Math.min(toIndex, nextIndex());
        for (long i = fromIndex; i < end; i++) {
            LogEntry entry = get(i);
            long next = usedBytes + entry.sizeBytes();
            if (!out.isEmpty() && next > maxBytes) {
                break;
            }
            out.add(entry);
            usedBytes = next;
        }
        return usedBytes;
    }

    /** A snapshot of the held entries, oldest first (for tests). */
    List<LogEntry> toList() {
        List<LogEntry> out = new ArrayList<>(size);
        for (long i = firstIndex; i < nextIndex(); i++) {
            out.add(get(i));
        }
        return out;
    }

    private void truncateFrom(long index) {
        while (size > 0 && nextIndex() > index) {
            int last = (head + size - 1) & (ring.length - 1);
            bytes -= ring[last].sizeBytes();
            ring[last] = null;
            size--;
        }
    }

    private void addLast(LogEntry entry) {
        if (size == ring.length) {
            grow();
        }
        ring[(head + size) & (ring.length - 1)] = entry;
        size++;
        bytes += entry.sizeBytes();
    }

    private void removeFirst() {
        bytes -= ring[head].sizeBytes();
        ring[head] = null;
        head = (head + 1) & (ring.length - 1);
        size--;
        firstIndex++;
    }

    private void grow() {
        LogEntry[] bigger = new LogEntry[ring.length * 2];
        for (int i = 0; i < size; i++) {
            bigger[i] = ring[(head + i) & (ring.length - 1)];
        }
        ring = bigger;
        head = 0;
    }
}

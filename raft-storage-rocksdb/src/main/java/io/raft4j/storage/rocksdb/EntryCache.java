package io.raft4j.storage.rocksdb;

import io.raft4j.message.LogEntry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The newest entries of one group's log, kept in memory so that the leader replicating what it has
 * just written, and followers that are nearly caught up, are served without reading RocksDB.
 *
 * <p>Holds a contiguous run {@code firstIndex()..nextIndex()-1} that always ends at the log's last
 * entry; the oldest entries are evicted once the total {@link #heapBytes} of the held entries
 * exceeds the budget. Not thread-safe: the owning storage guards it with its lock.
 *
 * <p>Invariant: {@code bytes() == sum of heapBytes() of the held entries}, and {@code bytes() <= maxBytes}
 * after every public method returns. Each slot also records the running byte total before its entry,
 * so that dropping many entries at once (a compaction after a snapshot drops up to the whole cache)
 * costs one array fill rather than a walk over every entry while the storage's lock is held.
 */
final class EntryCache {
    /**
     * What a held entry takes on the heap beyond {@link LogEntry#sizeBytes()} (its payload and 24):
     * its {@code LogEntry} (40 bytes), {@code Bytes} (16) and array header (16), its two ring slots
     * (12, up to 24 with the room the ring keeps to grow) and the payload's padding to 8 bytes (4 on
     * average), less the 24 counted already. Counted by {@code sizeBytes()} alone, a 4 MiB cache of
     * 32-byte commands took 10.4 MiB of heap; now 3.5.
     */
    static final int HEAP_OVERHEAD_BYTES = 76;

    /** The heap a held {@code entry} is counted for. */
    static long heapBytes(LogEntry entry) {
        return entry.sizeBytes() + HEAP_OVERHEAD_BYTES;
    }

    private final long maxBytes;
    private LogEntry[] ring = new LogEntry[64];
    /** {@code bytesBefore[p]}: the running total of bytes added before the entry in {@code ring[p]}. */
    private long[] bytesBefore = new long[64];
    /** Position in {@code ring} of the entry at {@code firstIndex}. */
    private int head;
    private int size;
    private long firstIndex;
    /** The running total of bytes added after the newest held entry. */
    private long bytesAfter;

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
        return size == 0 ? 0 : bytesAfter - bytesBefore[head];
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
        if (bytes() > maxBytes) {
            removeFirst(entriesToFitBudget());
        }
    }

    /** How many of the oldest entries must go for the rest to fit the budget. */
    private int entriesToFitBudget() {
        int lo = 1;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (bytesAfter - bytesBefore[position(mid)] <= maxBytes) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** Drops entries at or before {@code index} (they were compacted). */
    void dropThrough(long index) {
        if (index >= nextIndex() - 1) {
            clear(Math.max(index + 1, nextIndex()));
            return;
        }
        if (index >= firstIndex) {
            removeFirst((int) (index - firstIndex + 1));
        }
    }

    /** Empties the cache; the next entry will have index {@code nextIndex}. */
    void clear(long nextIndex) {
        Arrays.fill(ring, null);
        head = 0;
        size = 0;
        firstIndex = nextIndex;
    }

    LogEntry get(long index) {
        if (index < firstIndex || index >= nextIndex()) {
            throw new IndexOutOfBoundsException("index " + index + " not cached");
        }
        return ring[position((int) (index - firstIndex))];
    }

    /** Position in {@code ring} of the {@code offset}-th held entry. */
    private int position(int offset) {
        return (head + offset) & (ring.length - 1);
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
        if (nextIndex() <= index) {
            return;
        }
        int keep = (int) (index - firstIndex);
        bytesAfter = bytesBefore[position(keep)];
        nullOut(keep, size - keep);
        size = keep;
    }

    private void addLast(LogEntry entry) {
        if (size == ring.length) {
            grow();
        }
        int p = position(size);
        ring[p] = entry;
        bytesBefore[p] = bytesAfter;
        bytesAfter += heapBytes(entry);
        size++;
    }

    /** Drops the {@code count} oldest entries. */
    private void removeFirst(int count) {
        nullOut(0, count);
        head = position(count);
        size -= count;
        firstIndex += count;
    }

    /** Clears the references of {@code count} held entries from the {@code offset}-th, for the GC. */
    private void nullOut(int offset, int count) {
        int from = position(offset);
        int firstPart = Math.min(count, ring.length - from);
        Arrays.fill(ring, from, from + firstPart, null);
        Arrays.fill(ring, 0, count - firstPart, null);
    }

    private void grow() {
        LogEntry[] bigger = new LogEntry[ring.length * 2];
        long[] biggerBefore = new long[ring.length * 2];
        for (int i = 0; i < size; i++) {
            bigger[i] = ring[position(i)];
            biggerBefore[i] = bytesBefore[position(i)];
        }
        ring = bigger;
        bytesBefore = biggerBefore;
        head = 0;
    }
}

package io.raft4j.core;

/**
 * The append messages sent to one follower and not yet acknowledged, bounded by count and by bytes
 * (pipelining flow control). A ring buffer of (last index, size) in send order.
 */
final class Inflights {
    private final int capacity;
    private final long maxBytes;
    private final long[] lastIndexes;
    private final long[] sizes;
    private int start;
    private int count;
    private long bytes;

    Inflights(int capacity, long maxBytes) {
        this.capacity = capacity;
        this.maxBytes = maxBytes;
        this.lastIndexes = new long[capacity];
        this.sizes = new long[capacity];
    }

    /** Records a sent message whose last entry is {@code lastIndex}. */
    void add(long lastIndex, long sizeBytes) {
        if (count == capacity) {
            throw new IllegalStateException("inflights full");
        }
        int slot = (start + count) % capacity;
        lastIndexes[slot] = lastIndex;
        sizes[slot] = sizeBytes;
        count++;
        bytes += sizeBytes;
    }

    /** Frees every message whose last index is at most {@code index} (acknowledged). */
    void freeUpTo(long index) {
        while (count > 0 && lastIndexes[start] <= index) {
            bytes -= sizes[start];
            start = (start + 1) % capacity;
            count--;
        }
    }

    boolean isFull() {
        return count == capacity || bytes >= maxBytes;
    }

    int count() {
        return count;
    }

    void clear() {
        start = 0;
        count = 0;
        bytes = 0;
    }
}

package io.raft4j.storage.rocksdb;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The entries stored under one key of the entries column family: one entry's value, or a
 * <em>chunk</em> of several consecutive entries under the key of the first.
 *
 * <p>Why chunks: every RocksDB key costs a memtable insert and a write-batch record, and for small
 * entries that CPU, not the sync, bounded a batched append (measured with 64 entries of 128 B: 109-128
 * µs per write before the sync with a key per entry, 61-71 µs with one key). An append of several
 * entries is stored as chunks of up to {@value #MAX_ENTRIES} entries and about {@value #MAX_BYTES}
 * bytes.
 *
 * <pre>
 * value [3][count:4][crc:4] then, count times, [length:4][entry value]
 *       each entry value laid out as a single entry's (see {@link Codec}), with its own checksum
 *       bound to its own index (the chunk's first index + its position)
 *       crc = CRC32C(first index:8, count:4, every byte after the header)
 * </pre>
 *
 * A chunk is never split by a later write: truncating into it rewrites its head under the same
 * key, and compacting into it keeps it whole (its entries at or below the compaction point are then
 * skipped by every reader).
 */
final class EntryChunk {
    /** The leading byte of a chunk value (single entry values start with 1 or 2). */
    static final byte VERSION = 3;
    static final int HEADER_BYTES = 1 + 4 + 4;
    /** Most entries in one chunk. */
    static final int MAX_ENTRIES = 256;
    /** A chunk takes no further entry once its value would pass this many bytes. */
    static final int MAX_BYTES = 64 << 10;

    private final long first;
    private final byte[] value;
    /**
     * Where each entry's value starts in {@code value} (each ends 4 bytes before the next one's
     * start, the last at the value's end); null for a single entry.
     */
    private final int[] offsets;

    private EntryChunk(long first, byte[] value, int[] offsets) {
        this.first = first;
        this.value = value;
        this.offsets = offsets;
    }

    /**
     * The entries in {@code value}, stored under the key of entry {@code first}. A chunk's structure
     * and checksum are verified here; each entry's own checksum when it is decoded.
     */
    static EntryChunk parse(long first, byte[] value, String groupId) {
        if (value.length == 0 || value[0] != VERSION) {
            return new EntryChunk(first, value, null);
        }
        String what = "chunk at entry " + first;
        if (value.length < HEADER_BYTES) {
            throw Codec.corrupt(groupId, what, "value truncated to " + value.length + " bytes");
        }
        int count = Codec.getInt(value, 1);
        CRC32C crc = new CRC32C();
        Codec.updateLong(crc, first);
        crc.update(value, 1, 4);
        crc.update(value, HEADER_BYTES, value.length - HEADER_BYTES);
        if ((int) crc.getValue() != Codec.getInt(value, 5)) {
            throw Codec.corrupt(groupId, what, "checksum mismatch (damaged, truncated, or stored under the wrong key)");
        }
        if (count < 1 || count > (value.length - HEADER_BYTES) / 4) {
            throw Codec.corrupt(groupId, what, "impossible entry count " + count);
        }
        int[] offsets = new int[count];
        int position = HEADER_BYTES;
        for (int i = 0; i < count; i++) {
            int length = position + 4 <= value.length ? Codec.getInt(value, position) : -1;
            if (length < 0 || length > value.length - position - 4) {
                throw Codec.corrupt(groupId, what, "entry " + (first + i) + " runs past the chunk's end");
            }
            offsets[i] = position + 4;
            position += 4 + length;
        }
        if (position != value.length) {
            throw Codec.corrupt(groupId, what, (value.length - position) + " bytes after its last entry");
        }
        return new EntryChunk(first, value, offsets);
    }

    long first() {
        return first;
    }

    int count() {
        return offsets == null ? 1 : offsets.length;
    }

    long last() {
        return first + count() - 1;
    }

    /** The stored value of entry {@code first() + i}, laid out as a single entry's. */
    byte[] entryValue(int i) {
        if (offsets == null) {
            return value;
        }
        int end = i + 1 < offsets.length ? offsets[i + 1] - 4 : value.length;
        return Arrays.copyOfRange(value, offsets[i], end);
    }

    // ---- writing -------------------------------------------------------------------------------

    /** Bytes of a chunk whose entry values take {@code valueBytes} in all. */
    static int chunkBytes(int count, long valueBytes) {
        return Math.toIntExact(HEADER_BYTES + 4L * count + valueBytes);
    }

    /** Starts a chunk at the position of {@code out}; returns that position for {@link #finish}. */
    static int begin(ByteBuffer out) {
        int start = out.position();
        out.put(VERSION).putInt(0).putInt(0);
        return start;
    }

    /** Reserves the length of the next entry value; returns the position for {@link #endEntry}. */
    static int beginEntry(ByteBuffer out) {
        int slot = out.position();
        out.putInt(0);
        return slot;
    }

    static void endEntry(ByteBuffer out, int slot) {
        out.putInt(slot, out.position() - slot - 4);
    }

    /** Completes the chunk begun at {@code start}: its count and checksum. */
    static void finish(ByteBuffer out, int start, long first, int count, CRC32C crc) {
        out.putInt(start + 1, count);
        crc.reset();
        Codec.updateLong(crc, first);
        crc.update(out.duplicate().position(start + 1).limit(start + 5));
        crc.update(out.duplicate().position(start + HEADER_BYTES).limit(out.position()));
        out.putInt(start + 5, (int) crc.getValue());
    }

    /**
     * The value holding {@code values}, single-entry values of consecutive entries from
     * {@code first}: that value itself if there is one, else a chunk of them.
     */
    static byte[] of(long first, List<byte[]> values) {
        if (values.size() == 1) {
            return values.get(0);
        }
        long bytes = 0;
        for (byte[] v : values) {
            bytes += v.length;
        }
        ByteBuffer out = ByteBuffer.allocate(chunkBytes(values.size(), bytes));
        int start = begin(out);
        for (byte[] v : values) {
            out.putInt(v.length).put(v);
        }
        finish(out, start, first, values.size(), new CRC32C());
        return out.array();
    }
}

package io.raft4j.storage.rocksdb;

import io.raft4j.message.EntryType;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The header written before each payload in a segment file (format version 6), which makes the
 * file readable without RocksDB: an append that only adds entries syncs its segment file and
 * nothing else, its references reach RocksDB's memtable only, and opening after a crash finds those
 * entries again by reading the file's records from the group's mark (see {@link RocksDbLogStorage}).
 *
 * <pre>
 * [layout:1 = 1][type:1][segment:8][index:8][term:8][append's last index:8, or -1][length:4][data crc:4][crc:4]
 * </pre>
 * {@code segment} is the sequence number of the file written, so bytes left in a recycled file from
 * its former life never pass for records of the current one; {@code append's last index} groups the
 * records of one append, which recovery takes whole or not at all; -1 marks a payload whose
 * reference goes to RocksDB in a synced batch written after it (an append that also replaces
 * entries or carries a hard state), which recovery never takes from the file. {@code data crc} is
 * CRC32C of the payload (the same as in its reference), {@code crc} of the 42 bytes before it.
 *
 * @param appendLast the last index of the append the record belongs to, or {@link #NOT_SELF_INDEXED}
 */
record SegmentRecord(EntryType type, long segment, long index, long term, long appendLast, int length, int dataCrc) {
    static final int HEADER_BYTES = 46;
    static final long NOT_SELF_INDEXED = -1;
    private static final byte LAYOUT = 1;
    private static final int CRC_OFFSET = 42;

    /** Whether recovery may take this record's entry from the file (see the class comment). */
    boolean selfIndexed() {
        return appendLast != NOT_SELF_INDEXED;
    }

    /** Writes this header at {@code out}'s position, advancing past it. */
    void encode(ByteBuffer out, CRC32C crc) {
        int start = out.position();
        out.put(LAYOUT).put(Codec.typeCode(type)).putLong(segment).putLong(index).putLong(term).putLong(appendLast)
                .putInt(length).putInt(dataCrc);
        crc.reset();
        crc.update(out.duplicate().position(start).limit(start + CRC_OFFSET));
        out.putInt((int) crc.getValue());
    }

    /**
     * Parses the header in {@code in} (exactly {@link #HEADER_BYTES} remaining), or returns null
     * if it is not one: bytes never written (a torn or preallocated tail), a checksum mismatch, an
     * unknown layout or type, or fields out of range. Nothing here throws: where the records end is
     * what recovery reads them to find.
     */
    static SegmentRecord parse(ByteBuffer in, CRC32C crc) {
        int start = in.position();
        crc.reset();
        crc.update(in.duplicate().position(start).limit(start + CRC_OFFSET));
        if ((int) crc.getValue() != in.getInt(start + CRC_OFFSET) || in.get(start) != LAYOUT) {
            return null;
        }
        EntryType type = Codec.typeOf(in.get(start + 1));
        long segment = in.getLong(start + 2);
        long index = in.getLong(start + 10);
        long term = in.getLong(start + 18);
        long appendLast = in.getLong(start + 26);
        int length = in.getInt(start + 34);
        if (type == null || index < 1 || term < 0 || length < 0
                || (appendLast != NOT_SELF_INDEXED && appendLast < index)) {
            return null;
        }
        return new SegmentRecord(type, segment, index, term, appendLast, length, in.getInt(start + 38));
    }
}

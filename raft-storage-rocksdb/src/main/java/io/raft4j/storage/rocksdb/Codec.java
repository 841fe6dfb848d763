package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.StorageException;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The on-disk byte layout: keys and values of both column families. Every value carries a CRC32C,
 * so a damaged or misplaced value is reported on read instead of being handed to Raft.
 *
 * <pre>
 * column family raft4j.entries
 *   key   [n:1][group id, n bytes of UTF-8][index:8, big-endian]      (sorts by group, then index)
 *   value [1][type:1][term:8][crc:4][data...]                       (payload inline)
 *         crc = CRC32C(index:8, value bytes 0..9, data): binds the value to its key
 *   value [2][type:1][term:8][segment:8][offset:8][length:4][data crc:4][crc:4]
 *         (payload in a segment file, see PayloadSegments)
 *         data crc = CRC32C(payload); crc = CRC32C(index:8, value bytes 0..33)
 *   value [3][count:4][crc:4]([length:4][value of one entry, as above])...
 *         a chunk of consecutive entries under the first one's key, see EntryChunk
 *
 * column family raft4j.meta
 *   [0x00]"format"              -> "raft4j-log"[version:4]             (the directory marker)
 *   [0x01][n:1][group]['h']     -> [2][term:8][vote refusal µs:8][bootstrap fingerprint:8]
 *                                  [vote length:4, -1 = none][vote UTF-8][crc:4]
 *                                  (format 4 and older: [1][term:8][vote length:4][vote][crc:4], no window)
 *   [0x01][n:1][group]['c']     -> [1][index:8][term:8][crc:4]        (the compaction point)
 *   [0x01][n:1][group]['o']     -> [1][group length:4][group UTF-8][node length:4][node UTF-8][crc:4]
 *                                  (the node that owns this group's log, see LogStorage#owner)
 *   [0x01][n:1][group]['w']     -> [1][first:8][last:8][segment:8][from:8][to:8][crc:4]
 *                                  (an append whose payloads are being synced, see SegmentWrite;
 *                                  removed in memory once they are, durably by the next synced write;
 *                                  written by format 4 and 5 only, read by later ones after a crash)
 *   [0x01][n:1][group]['m']     -> [1][segment:8][offset:8][crc:4]
 *                                  (the segment mark: where the records begin that RocksDB may not
 *                                  hold durably, see SegmentMark, SegmentRecord, RocksDbLogStorage)
 *   [0x02][n:1][group]          -> [1][crc:4]                          (the group's deletion is under
 *                                  way: its keys are gone, its segment files may not be; see
 *                                  GroupDeletion)
 * </pre>
 * All integers are big-endian. The leading byte of each value is its layout version.
 * Format version 2 added the segment layout of entry values, version 3 chunks, version 4 the record
 * of an append whose payloads are being synced ('w': an older version would neither sync them
 * nor cut them when opening after a crash), version 5 the vote-refusal window and the bootstrap
 * fingerprint in the hard state (an older version would read it as corrupt), version 6 the segment
 * mark and the record headers in segment files (an older version would lose the entries only the
 * files hold); directories of older
 * versions are read as they are (they hold no newer layout) and marked with the current version
 * when opened, so that an older raft4j refuses them.
 */
final class Codec {
    /** Version of the whole layout, stored in the format marker. Bump it on any incompatible change. */
    static final int FORMAT_VERSION = 6;

    static final String ENTRIES_CF = "raft4j.entries";
    static final String META_CF = "raft4j.meta";

    static final byte[] FORMAT_KEY = {0, 'f', 'o', 'r', 'm', 'a', 't'};
    private static final byte[] MAGIC = "raft4j-log".getBytes(StandardCharsets.US_ASCII);

    /** Longest group id, in UTF-8 bytes (its length is stored in one byte). */
    static final int MAX_GROUP_ID_BYTES = 255;

    private static final byte VALUE_VERSION = 1;
    private static final byte SEGMENT_VALUE_VERSION = 2;
    /** Size of an entry value whose payload is in a segment file. */
    static final int SEGMENT_VALUE_BYTES = 38;
    private static final int SEGMENT_CRC_OFFSET = 34;
    /** Bytes of an entry value before its data. */
    static final int ENTRY_HEADER_BYTES = 14;
    private static final int ENTRY_CRC_OFFSET = 10;
    private static final int HARD_STATE_MIN_BYTES = 1 + 8 + 4 + 4;
    /** The layout of a hard state value with its vote-refusal window and bootstrap fingerprint (format 5 on). */
    private static final byte HARD_STATE_WINDOW_VERSION = 2;
    private static final int HARD_STATE_WINDOW_MIN_BYTES = HARD_STATE_MIN_BYTES + 16;
    private static final int COMPACTION_BYTES = 1 + 8 + 8 + 4;
    private static final byte HARD_STATE_TAG = 'h';
    private static final byte COMPACTION_TAG = 'c';
    private static final byte OWNER_TAG = 'o';
    private static final byte SEGMENT_WRITE_TAG = 'w';
    private static final int SEGMENT_WRITE_BYTES = 1 + 5 * 8 + 4;
    private static final byte SEGMENT_MARK_TAG = 'm';
    private static final int SEGMENT_MARK_BYTES = 1 + 2 * 8 + 4;
    /** First byte of the keys that record a group's deletion under way. */
    static final byte DELETION_SPACE = 2;

    private Codec() {
    }

    // ---- keys ----------------------------------------------------------------------------------

    /** The prefix of every entry key of {@code groupId}: its length byte and its UTF-8 bytes. */
    static byte[] groupPrefix(String groupId) {
        if (groupId == null || groupId.isEmpty()) {
            throw new IllegalArgumentException("group id must not be empty");
        }
        byte[] utf8;
        try {
            // Strict: getBytes would write an unpaired surrogate as '?', and "g\uD800" and "g\uDC00"
            // would then share one log (and a group's recorded owner would not read back as itself).
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(groupId));
            utf8 = new byte[encoded.remaining()];
            encoded.get(utf8);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("group id is not well-formed Unicode (an unpaired surrogate)", e);
        }
        if (utf8.length > MAX_GROUP_ID_BYTES) {
            throw new IllegalArgumentException("group id longer than " + MAX_GROUP_ID_BYTES
                    + " UTF-8 bytes: " + groupId);
        }
        byte[] prefix = new byte[1 + utf8.length];
        prefix[0] = (byte) utf8.length;
        System.arraycopy(utf8, 0, prefix, 1, utf8.length);
        return prefix;
    }

    /** The key of entry {@code index} of the group with {@code prefix}. */
    static byte[] entryKey(byte[] prefix, long index) {
        byte[] key = Arrays.copyOf(prefix, prefix.length + 8);
        putLong(key, prefix.length, index);
        return key;
    }

    /**
     * An exclusive upper bound of every entry key of the group: no key of another group falls
     * between {@code entryKey(prefix, 0)} and this, because group prefixes carry their length.
     */
    static byte[] groupEnd(byte[] prefix) {
        byte[] end = Arrays.copyOf(prefix, prefix.length + 9);
        Arrays.fill(end, prefix.length, end.length, (byte) 0xFF);
        return end;
    }

    /** The index in an entry key, checking that the key belongs to the group. */
    static long entryIndex(byte[] prefix, byte[] key, String groupId) {
        if (key.length != prefix.length + 8 || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
            throw new StorageException("group " + groupId + ": malformed entry key of " + key.length + " bytes");
        }
        return getLong(key, prefix.length);
    }

    static byte[] hardStateKey(byte[] prefix) {
        return metaKey(prefix, HARD_STATE_TAG);
    }

    static byte[] compactionKey(byte[] prefix) {
        return metaKey(prefix, COMPACTION_TAG);
    }

    static byte[] ownerKey(byte[] prefix) {
        return metaKey(prefix, OWNER_TAG);
    }

    static byte[] segmentWriteKey(byte[] prefix) {
        return metaKey(prefix, SEGMENT_WRITE_TAG);
    }

    static byte[] segmentMarkKey(byte[] prefix) {
        return metaKey(prefix, SEGMENT_MARK_TAG);
    }

    /**
     * The first key after every key that starts with {@code prefix}: a group prefix never ends in
     * 0xFF (its last byte is a byte of UTF-8, or its length byte, which is at least 1), so
     * incrementing that byte cannot carry.
     */
    static byte[] afterPrefix(byte[] prefix) {
        byte[] end = prefix.clone();
        end[end.length - 1]++;
        return end;
    }

    /** The first of the group's keys in {@code raft4j.meta} (all its records follow, before {@link #metaEnd}). */
    static byte[] metaStart(byte[] prefix) {
        byte[] key = new byte[prefix.length + 1];
        key[0] = 1;
        System.arraycopy(prefix, 0, key, 1, prefix.length);
        return key;
    }

    /** The first key after every record of the group in {@code raft4j.meta}. */
    static byte[] metaEnd(byte[] prefix) {
        return afterPrefix(metaStart(prefix));
    }

    /** The record that the deletion of the group is under way (see {@code GroupDeletion}). */
    static byte[] deletionKey(byte[] prefix) {
        byte[] key = new byte[prefix.length + 1];
        key[0] = DELETION_SPACE;
        System.arraycopy(prefix, 0, key, 1, prefix.length);
        return key;
    }

    /** The group whose deletion {@code key} records, or null if it is no such key. */
    static String deletedGroup(byte[] key) {
        if (key.length < 3 || key[0] != DELETION_SPACE || (key[1] & 0xFF) != key.length - 2) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(key, 2, key.length - 2)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static byte[] encodeDeletion(byte[] key) {
        byte[] value = new byte[5];
        value[0] = VALUE_VERSION;
        CRC32C crc = new CRC32C();
        crc.update(key);
        crc.update(value, 0, 1);
        putInt(value, 1, (int) crc.getValue());
        return value;
    }

    private static byte[] metaKey(byte[] prefix, byte tag) {
        byte[] key = new byte[prefix.length + 2];
        key[0] = 1;
        System.arraycopy(prefix, 0, key, 1, prefix.length);
        key[key.length - 1] = tag;
        return key;
    }

    // ---- format marker -------------------------------------------------------------------------

    static byte[] formatValue(int version) {
        byte[] value = Arrays.copyOf(MAGIC, MAGIC.length + 4);
        putInt(value, MAGIC.length, version);
        return value;
    }

    /** The format version in a marker value, or -1 if the value is not a raft4j marker. */
    static int formatVersion(byte[] value) {
        if (value == null || value.length != MAGIC.length + 4
                || !Arrays.equals(value, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return -1;
        }
        return getInt(value, MAGIC.length);
    }

    // ---- entries -------------------------------------------------------------------------------

    /** Size of the encoded value of {@code entry}. */
    static int entryValueBytes(LogEntry entry) {
        return ENTRY_HEADER_BYTES + entry.data().length();
    }

    /**
     * Writes the value of {@code entry} at the position of {@code out}, which must have
     * {@link #entryValueBytes} bytes remaining; advances the position past it.
     */
    static void encodeEntry(LogEntry entry, ByteBuffer out, CRC32C crc) {
        byte[] data = entry.data().unsafeArray();
        int start = out.position();
        out.put(VALUE_VERSION).put(typeCode(entry.type())).putLong(entry.term());
        crc.reset();
        updateLong(crc, entry.index());
        if (out.hasArray()) {
            crc.update(out.array(), out.arrayOffset() + start, ENTRY_CRC_OFFSET);
        } else {
            crc.update(out.duplicate().position(start).limit(start + ENTRY_CRC_OFFSET));
        }
        crc.update(data, 0, data.length);
        out.putInt((int) crc.getValue()).put(data);
    }

    /** Where a payload lives in the segment files: written by {@link PayloadSegments}. */
    record SegmentRef(long segment, long offset, int length, int crc) {
    }

    /**
     * Writes the value of {@code entry}, whose payload is stored at {@code ref}, at the position of
     * {@code out}, which must have {@link #SEGMENT_VALUE_BYTES} remaining; advances past it.
     */
    static void encodeSegmentEntry(LogEntry entry, SegmentRef ref, ByteBuffer out, CRC32C crc) {
        int start = out.position();
        out.put(SEGMENT_VALUE_VERSION).put(typeCode(entry.type())).putLong(entry.term())
                .putLong(ref.segment()).putLong(ref.offset()).putInt(ref.length()).putInt(ref.crc());
        crc.reset();
        updateLong(crc, entry.index());
        crc.update(out.duplicate().position(start).limit(start + SEGMENT_CRC_OFFSET));
        out.putInt((int) crc.getValue());
    }

    /**
     * The segment reference in the value stored under entry {@code index}, checked, or {@code null}
     * if the value holds its payload inline.
     */
    static SegmentRef segmentRef(long index, byte[] value, String groupId) {
        if (value.length == 0 || value[0] != SEGMENT_VALUE_VERSION) {
            return null;
        }
        if (value.length != SEGMENT_VALUE_BYTES) {
            throw corrupt(groupId, "entry " + index, "segment reference of " + value.length + " bytes, expected "
                    + SEGMENT_VALUE_BYTES);
        }
        CRC32C crc = new CRC32C();
        updateLong(crc, index);
        crc.update(value, 0, SEGMENT_CRC_OFFSET);
        if ((int) crc.getValue() != getInt(value, SEGMENT_CRC_OFFSET)) {
            throw corrupt(groupId, "entry " + index, "checksum mismatch (damaged, truncated, or stored under the wrong key)");
        }
        SegmentRef ref = new SegmentRef(getLong(value, 10), getLong(value, 18), getInt(value, 26), getInt(value, 30));
        if (ref.segment() < 0 || ref.offset() < 0 || ref.length() < 0) {
            throw corrupt(groupId, "entry " + index, "negative segment position " + ref);
        }
        return ref;
    }

    /**
     * Decodes and verifies the value stored under entry {@code index}, reading its payload from
     * {@code segments} if it is not inline.
     */
    static LogEntry decodeEntry(long index, byte[] value, String groupId, PayloadSegments segments) {
        return decodeEntry(index, value, groupId, segmentRef(index, value, groupId), segments);
    }

    /** {@link #decodeEntry(long, byte[], String, PayloadSegments)} with the value's {@link #segmentRef} at hand. */
    static LogEntry decodeEntry(long index, byte[] value, String groupId, SegmentRef ref, PayloadSegments segments) {
        return decodeEntry(index, value, groupId, ref == null ? null : segments.read(index, ref));
    }

    /**
     * Decodes and verifies the value stored under entry {@code index} whose payload, if it is not
     * inline, was read already ({@code segmentPayload}, checked; {@code null} if inline).
     */
    static LogEntry decodeEntry(long index, byte[] value, String groupId, byte[] segmentPayload) {
        byte[] data;
        if (segmentPayload != null) {
            data = segmentPayload;
        } else {
            checkInline(index, value, groupId);
            data = Arrays.copyOfRange(value, ENTRY_HEADER_BYTES, value.length);
        }
        EntryType type = typeOf(value[1]);
        if (type == null) {
            throw corrupt(groupId, "entry " + index, "unknown entry type code " + value[1]);
        }
        long term = getLong(value, 2);
        if (term < 0) {
            throw corrupt(groupId, "entry " + index, "negative term " + term);
        }
        return new LogEntry(index, term, type, Bytes.wrap(data));
    }

    private static void checkInline(long index, byte[] value, String groupId) {
        if (value.length < ENTRY_HEADER_BYTES) {
            throw corrupt(groupId, "entry " + index, "value truncated to " + value.length
                    + " bytes, the header alone needs " + ENTRY_HEADER_BYTES);
        }
        if (value[0] != VALUE_VERSION) {
            throw corrupt(groupId, "entry " + index, "unknown value layout " + value[0]);
        }
        CRC32C crc = new CRC32C();
        updateLong(crc, index);
        crc.update(value, 0, ENTRY_CRC_OFFSET);
        crc.update(value, ENTRY_HEADER_BYTES, value.length - ENTRY_HEADER_BYTES);
        if ((int) crc.getValue() != getInt(value, ENTRY_CRC_OFFSET)) {
            throw corrupt(groupId, "entry " + index, "checksum mismatch (damaged, truncated, or stored under the wrong key)");
        }
    }

    /** Stable codes, independent of the enum's declaration order. */
    static byte typeCode(EntryType type) {
        return switch (type) {
            case COMMAND -> 0;
            case NOOP -> 1;
            case CONFIG -> 2;
        };
    }

    static EntryType typeOf(byte code) {
        return switch (code) {
            case 0 -> EntryType.COMMAND;
            case 1 -> EntryType.NOOP;
            case 2 -> EntryType.CONFIG;
            default -> null;
        };
    }

    // ---- hard state and compaction point -------------------------------------------------------

    static byte[] encodeHardState(HardState state) {
        byte[] vote = state.votedFor() == null ? null : state.votedFor().getBytes(StandardCharsets.UTF_8);
        int voteBytes = vote == null ? 0 : vote.length;
        ByteBuffer out = ByteBuffer.allocate(HARD_STATE_WINDOW_MIN_BYTES + voteBytes);
        out.put(HARD_STATE_WINDOW_VERSION).putLong(state.term()).putLong(state.voteRefusalMicros())
                .putLong(state.bootstrapFingerprint()).putInt(vote == null ? -1 : vote.length);
        if (vote != null) {
            out.put(vote);
        }
        out.putInt(checksum(out.array(), out.position()));
        return out.array();
    }

    static HardState decodeHardState(byte[] value, String groupId) {
        boolean withWindow = value.length > 0 && value[0] == HARD_STATE_WINDOW_VERSION;
        int minBytes = withWindow ? HARD_STATE_WINDOW_MIN_BYTES : HARD_STATE_MIN_BYTES;
        checkMetaValue(value, minBytes, groupId, "hard state", withWindow ? HARD_STATE_WINDOW_VERSION : VALUE_VERSION);
        long term = getLong(value, 1);
        long window = withWindow ? getLong(value, 9) : 0;
        long fingerprint = withWindow ? getLong(value, 17) : 0;
        int voteAt = withWindow ? 29 : 13;
        int voteLength = getInt(value, voteAt - 4);
        int expected = minBytes + Math.max(voteLength, 0);
        if (voteLength < -1 || value.length != expected || term < 0 || window < 0) {
            throw corrupt(groupId, "hard state", "inconsistent lengths, or a negative term or window");
        }
        String vote = voteLength < 0 ? null : new String(value, voteAt, voteLength, StandardCharsets.UTF_8);
        return new HardState(term, vote, window, fingerprint);
    }

    static byte[] encodeCompaction(long index, long term) {
        byte[] value = new byte[COMPACTION_BYTES];
        value[0] = VALUE_VERSION;
        putLong(value, 1, index);
        putLong(value, 9, term);
        putInt(value, 17, checksum(value, 17));
        return value;
    }

    /** The compaction point as {@code {index, term}}. */
    static long[] decodeCompaction(byte[] value, String groupId) {
        if (value.length != COMPACTION_BYTES) {
            throw corrupt(groupId, "compaction point", "value of " + value.length + " bytes, expected "
                    + COMPACTION_BYTES);
        }
        if (checksum(value, 17) != getInt(value, 17)) {
            throw corrupt(groupId, "compaction point", "checksum mismatch");
        }
        if (value[0] != VALUE_VERSION) {
            throw corrupt(groupId, "compaction point", "unknown value layout " + value[0]);
        }
        long index = getLong(value, 1);
        long term = getLong(value, 9);
        if (index < 0 || term < 0) {
            throw corrupt(groupId, "compaction point", "negative index or term");
        }
        return new long[]{index, term};
    }

    // ---- the last segment write ----------------------------------------------------------------

    /**
     * An append whose payloads went to a segment file, as formats 4 and 5 recorded it: its entries
     * {@code firstIndex..lastIndex} and the bytes {@code [from, to)} of segment {@code segment} it
     * wrote. Those versions synced its payloads while RocksDB wrote its references, so after a
     * crash the payloads of this one write may be missing; {@link LogRecovery} still reads such a
     * record. Format 6 never writes one (its encoding stays for the tests that build such logs).
     */
    record SegmentWrite(long firstIndex, long lastIndex, long segment, long from, long to) {
        /** Whether entry {@code index}, whose payload is at {@code ref}, belongs to this write. */
        boolean holds(long index, SegmentRef ref) {
            return index >= firstIndex && index <= lastIndex && ref.segment() == segment
                    && ref.offset() >= from && ref.offset() + ref.length() <= to;
        }
    }

    static byte[] encodeSegmentWrite(SegmentWrite write) {
        byte[] value = new byte[SEGMENT_WRITE_BYTES];
        value[0] = VALUE_VERSION;
        putLong(value, 1, write.firstIndex());
        putLong(value, 9, write.lastIndex());
        putLong(value, 17, write.segment());
        putLong(value, 25, write.from());
        putLong(value, 33, write.to());
        putInt(value, 41, checksum(value, 41));
        return value;
    }

    static SegmentWrite decodeSegmentWrite(byte[] value, String groupId) {
        if (value.length != SEGMENT_WRITE_BYTES) {
            throw corrupt(groupId, "last segment write", "value of " + value.length + " bytes, expected "
                    + SEGMENT_WRITE_BYTES);
        }
        checkMetaValue(value, SEGMENT_WRITE_BYTES, groupId, "last segment write");
        SegmentWrite write = new SegmentWrite(getLong(value, 1), getLong(value, 9), getLong(value, 17),
                getLong(value, 25), getLong(value, 33));
        if (write.firstIndex() < 1 || write.lastIndex() < write.firstIndex() || write.segment() < 0
                || write.from() < 0 || write.to() < write.from()) {
            throw corrupt(groupId, "last segment write", "inconsistent bounds " + write);
        }
        return write;
    }

    // ---- the segment mark ----------------------------------------------------------------------

    /**
     * Where in the group's segment files the records RocksDB may not hold durably begin: records
     * of segment {@code segment} from byte {@code offset} on (see {@link RocksDbLogStorage}).
     */
    record SegmentMark(long segment, long offset) {
    }

    static byte[] encodeSegmentMark(SegmentMark mark) {
        byte[] value = new byte[SEGMENT_MARK_BYTES];
        value[0] = VALUE_VERSION;
        putLong(value, 1, mark.segment());
        putLong(value, 9, mark.offset());
        putInt(value, 17, checksum(value, 17));
        return value;
    }

    static SegmentMark decodeSegmentMark(byte[] value, String groupId) {
        if (value.length != SEGMENT_MARK_BYTES) {
            throw corrupt(groupId, "segment mark", "value of " + value.length + " bytes, expected " + SEGMENT_MARK_BYTES);
        }
        checkMetaValue(value, SEGMENT_MARK_BYTES, groupId, "segment mark");
        SegmentMark mark = new SegmentMark(getLong(value, 1), getLong(value, 9));
        if (mark.segment() < 0 || mark.offset() < 0) {
            throw corrupt(groupId, "segment mark", "negative position " + mark);
        }
        return mark;
    }

    // ---- owner ---------------------------------------------------------------------------------

    static byte[] encodeOwner(LogOwner owner) {
        byte[] group = owner.groupId().getBytes(StandardCharsets.UTF_8);
        byte[] node = owner.nodeId().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(1 + 4 + group.length + 4 + node.length + 4);
        out.put(VALUE_VERSION).putInt(group.length).put(group).putInt(node.length).put(node);
        out.putInt(checksum(out.array(), out.position()));
        return out.array();
    }

    static LogOwner decodeOwner(byte[] value, String groupId) {
        checkMetaValue(value, 1 + 4 + 4 + 4, groupId, "owner");
        int body = value.length - 4;
        int groupLength = getInt(value, 1);
        if (groupLength < 0 || groupLength > body - 1 - 4 - 4) {
            throw corrupt(groupId, "owner", "inconsistent lengths");
        }
        int nodeAt = 1 + 4 + groupLength;
        int nodeLength = getInt(value, nodeAt);
        if (nodeLength < 0 || nodeAt + 4 + nodeLength != body) {
            throw corrupt(groupId, "owner", "inconsistent lengths");
        }
        return new LogOwner(new String(value, 5, groupLength, StandardCharsets.UTF_8),
                new String(value, nodeAt + 4, nodeLength, StandardCharsets.UTF_8));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /**
     * Checks a metadata value laid out as [version:1][body][crc:4]: long enough, its checksum, its
     * layout version; {@code what} names it in the error.
     */
    private static void checkMetaValue(byte[] value, int minBytes, String groupId, String what) {
        checkMetaValue(value, minBytes, groupId, what, VALUE_VERSION);
    }

    private static void checkMetaValue(byte[] value, int minBytes, String groupId, String what, byte layout) {
        if (value.length < minBytes) {
            throw corrupt(groupId, what, "value truncated to " + value.length + " bytes");
        }
        int body = value.length - 4;
        if (checksum(value, body) != getInt(value, body)) {
            throw corrupt(groupId, what, "checksum mismatch");
        }
        if (value[0] != layout) {
            throw corrupt(groupId, what, "unknown value layout " + value[0]);
        }
    }

    /**
     * What to do with a node whose log is damaged. Not "restore a copy" nor "start it empty": a
     * voter back under its id with an older copy or an empty log may vote twice in one term, or
     * help elect a leader that lacks writes it acknowledged.
     */
    static final String REPLACE_DAMAGED_NODE = "replace the node: remove it from its group and add a new node under"
            + " a new id with an empty directory (not this id on an older copy or an empty directory, which could"
            + " make it vote twice in one term)";

    static CorruptLogException corrupt(String groupId, String what, String problem) {
        return new CorruptLogException("raft4j log is corrupt: group " + groupId + ", " + what + ": " + problem
                + ". Nothing was changed; " + REPLACE_DAMAGED_NODE + ".",
                what + ": " + problem);
    }

    /** Stored data that fails its checks, as opposed to an I/O error reading it. */
    static final class CorruptLogException extends StorageException {
        private static final long serialVersionUID = 1L;
        private final String problem;

        CorruptLogException(String message, String problem) {
            super(message);
            this.problem = problem;
        }

        /** What is wrong and where, without the advice of the message. */
        String problem() {
            return problem;
        }
    }

    private static int checksum(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    static void updateLong(CRC32C crc, long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            crc.update((int) (value >>> shift));
        }
    }

    static void putLong(byte[] bytes, int offset, long value) {
        for (int i = 7; i >= 0; i--) {
            bytes[offset + i] = (byte) value;
            value >>>= 8;
        }
    }

    static long getLong(byte[] bytes, int offset) {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (bytes[offset + i] & 0xFF);
        }
        return value;
    }

    private static void putInt(byte[] bytes, int offset, int value) {
        for (int i = 3; i >= 0; i--) {
            bytes[offset + i] = (byte) value;
            value >>>= 8;
        }
    }

    static int getInt(byte[] bytes, int offset) {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            value = (value << 8) | (bytes[offset + i] & 0xFF);
        }
        return value;
    }
}

package io.raft4j.transport.netty;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.netty.buffer.ByteBuf;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;
import io.raft4j.message.TimeoutNow;
import io.raft4j.transport.netty.proto.RaftWire;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.raft4j.transport.netty.MessageMapper.nonNegative;
import static io.raft4j.transport.netty.MessageMapper.termOrIndex;
import static io.raft4j.transport.netty.MessageMapper.requireId;
import static io.raft4j.transport.netty.WireCodec.APPEND;
import static io.raft4j.transport.netty.WireCodec.APPEND_RESPONSE;
import static io.raft4j.transport.netty.WireCodec.CLUSTER;
import static io.raft4j.transport.netty.WireCodec.GROUP;
import static io.raft4j.transport.netty.WireCodec.INCARNATION;
import static io.raft4j.transport.netty.WireCodec.LEN;
import static io.raft4j.transport.netty.WireCodec.RECEIVER;
import static io.raft4j.transport.netty.WireCodec.SENDER;
import static io.raft4j.transport.netty.WireCodec.SNAPSHOT;
import static io.raft4j.transport.netty.WireCodec.SNAPSHOT_RESPONSE;
import static io.raft4j.transport.netty.WireCodec.TERM;
import static io.raft4j.transport.netty.WireCodec.READ_INDEX;
import static io.raft4j.transport.netty.WireCodec.READ_INDEX_RESPONSE;
import static io.raft4j.transport.netty.WireCodec.TIMEOUT_NOW;
import static io.raft4j.transport.netty.WireCodec.VARINT;
import static io.raft4j.transport.netty.WireCodec.VERSION;
import static io.raft4j.transport.netty.WireCodec.VOTE;
import static io.raft4j.transport.netty.WireCodec.VOTE_RESPONSE;

/**
 * Reads frames in the format of {@code raft4j_wire.proto} straight into core records: the read
 * half of {@link WireCodec}, held to the generated parser by {@code WireCodecTest}.
 *
 * <p>Deliberately stricter than a generic protobuf parser in three places, all of which a
 * conforming sender never produces: a singular message field (the body, a snapshot's meta or
 * config) given twice is refused rather than merged; group wire types, which proto3 does not have,
 * are refused rather than skipped (this also rules out deeply nested groups); and the semantic
 * checks of {@link MessageMapper#fromEnvelope} apply unchanged. Unknown fields of other wire types
 * are skipped, so later protocol versions can add fields.
 *
 * <p>Reads frames of one connection into records. Besides the message, it keeps what the last
 * envelope said about where it belongs ({@link #version()}, {@link #clusterId()}), for the
 * dispatcher to check. Not thread-safe: one per connection.
 */
final class WireReader {
    private int version;
    private long incarnation;
    private final IdMemo cluster = new IdMemo();
    private final IdMemo group = new IdMemo();
    private final IdMemo sender = new IdMemo();
    private final IdMemo receiver = new IdMemo();

    /** The protocol version of the last envelope read (also when reading it failed later). */
    int version() {
        return version;
    }

    /** The sender's incarnation in the last envelope read; 0 if it carried none. */
    long incarnation() {
        return incarnation;
    }

    /** The cluster id of the last envelope read. */
    String clusterId() {
        return cluster.value;
    }

    /** A decoder over {@code length} bytes of {@code buf} from {@code index}, for {@link #readFrame}. */
    static CodedInputStream input(ByteBuf buf, int index, int length) {
        return buf.hasArray()
                ? CodedInputStream.newInstance(buf.array(), buf.arrayOffset() + index, length)
                : CodedInputStream.newInstance(buf.nioBufferCount() == 1
                ? buf.internalNioBuffer(index, length) : buf.nioBuffer(index, length));
    }

    /**
     * Reads the envelope in {@code length} bytes of {@code buf} from {@code index}.
     *
     * @throws InvalidProtocolBufferException if the bytes are not a protobuf envelope
     * @throws MalformedFrameException        if they are, but not one this codec accepts
     */
    RaftMessage read(ByteBuf buf, int index, int length) throws InvalidProtocolBufferException {
        return readFrame(input(buf, index, length), length, buf, index);
    }

    /**
     * Reads an envelope of {@code length} bytes from {@code in}, leaving {@code in} just after
     * it. One decoder can so read all the complete frames of a socket read in turn.
     * {@code source} is the buffer the decoder reads, its first byte at {@code sourceBase}.
     *
     * @throws InvalidProtocolBufferException if the bytes are not a protobuf envelope
     * @throws MalformedFrameException        if they are, but not one this codec accepts
     */
    RaftMessage readFrame(CodedInputStream in, int length, ByteBuf source, int sourceBase)
            throws InvalidProtocolBufferException {
        try {
            int limit = in.pushLimit(length);
            RaftMessage message = readEnvelope(in, source, sourceBase);
            in.popLimit(limit);
            return message;
        } catch (InvalidProtocolBufferException | MalformedFrameException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidProtocolBufferException(e);
        } catch (IllegalArgumentException | NullPointerException e) {
            // A record's compact constructor refused the values.
            throw new MalformedFrameException("invalid message: " + e.getMessage());
        }
    }

    private RaftMessage readEnvelope(CodedInputStream in, ByteBuf source, int sourceBase) throws IOException {
        version = 0;
        incarnation = 0;
        cluster.clear();
        group.clear();
        sender.clear();
        receiver.clear();
        long term = 0;
        Body body = null;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == tag(VERSION, VARINT)) {
                version = in.readUInt32();
            } else if (t == tag(CLUSTER, LEN)) {
                cluster.read(in, source, sourceBase);
            } else if (t == tag(GROUP, LEN)) {
                group.read(in, source, sourceBase);
            } else if (t == tag(SENDER, LEN)) {
                sender.read(in, source, sourceBase);
            } else if (t == tag(RECEIVER, LEN)) {
                receiver.read(in, source, sourceBase);
            } else if (t == tag(TERM, VARINT)) {
                term = in.readUInt64();
            } else if (t == tag(INCARNATION, WireFormat.WIRETYPE_FIXED64)) {
                incarnation = in.readFixed64();
            } else if (WireFormat.getTagWireType(t) == LEN
                    && WireFormat.getTagFieldNumber(t) >= APPEND && WireFormat.getTagFieldNumber(t) <= READ_INDEX_RESPONSE) {
                if (body != null) {
                    throw new MalformedFrameException("envelope with two messages");
                }
                int limit = in.pushLimit(readLength(in));
                body = readBody(in, WireFormat.getTagFieldNumber(t));
                in.popLimit(limit);
            } else {
                skip(in, t);
            }
        }
        if (body == null) {
            throw new MalformedFrameException("envelope without a message");
        }
        return body.toMessage(requireId(group.value, "group id"), requireId(sender.value, "sender"),
                requireId(receiver.value, "receiver"), termOrIndex(term, "term"));
    }

    private static Body readBody(CodedInputStream in, int field) throws IOException {
        Body b = new Body(field);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            int number = WireFormat.getTagFieldNumber(t);
            int wire = WireFormat.getTagWireType(t);
            if (field == SNAPSHOT && number == 1 && wire == LEN) {
                if (b.meta != null) {
                    throw new MalformedFrameException("install snapshot with two metas");
                }
                int limit = in.pushLimit(readLength(in));
                b.meta = readMeta(in);
                in.popLimit(limit);
            } else if (field == SNAPSHOT && number == 3 && wire == LEN) {
                b.chunk = in.readByteArray();
            } else if (field == APPEND && number == 3 && wire == LEN) {
                int limit = in.pushLimit(readLength(in));
                b.entries.add(readEntry(in));
                in.popLimit(limit);
            } else if (field != TIMEOUT_NOW && number >= 1 && number <= 6 && wire == VARINT) {
                b.values[number] = in.readUInt64();
            } else if (number == fingerprintField(field) && wire == WireFormat.WIRETYPE_FIXED64) {
                b.fingerprint = in.readFixed64();
            } else {
                skip(in, t);
            }
        }
        return b;
    }

    /** The body field that carries the sender's bootstrap fingerprint in {@code field}'s message; -1 if none. */
    private static int fingerprintField(int field) {
        return switch (field) {
            case APPEND -> 7;
            case VOTE -> 5;
            case SNAPSHOT -> 6;
            default -> -1;
        };
    }

    private static LogEntry readEntry(CodedInputStream in) throws IOException {
        long index = 0;
        long term = 0;
        int type = 0;
        byte[] data = null;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == tag(1, VARINT)) {
                index = in.readUInt64();
            } else if (t == tag(2, VARINT)) {
                term = in.readUInt64();
            } else if (t == tag(3, VARINT)) {
                type = in.readEnum();
            } else if (t == tag(4, LEN)) {
                data = in.readByteArray();
            } else {
                skip(in, t);
            }
        }
        EntryType entryType = switch (type) {
            case RaftWire.EntryType.ENTRY_TYPE_COMMAND_VALUE -> EntryType.COMMAND;
            case RaftWire.EntryType.ENTRY_TYPE_NOOP_VALUE -> EntryType.NOOP;
            case RaftWire.EntryType.ENTRY_TYPE_CONFIG_VALUE -> EntryType.CONFIG;
            default -> throw new MalformedFrameException("unknown entry type");
        };
        return new LogEntry(termOrIndex(index, "entry index"), termOrIndex(term, "entry term"), entryType,
                bytes(data));
    }

    private static SnapshotMeta readMeta(CodedInputStream in) throws IOException {
        long lastIndex = 0;
        long lastTerm = 0;
        ClusterConfig config = null;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == tag(1, VARINT)) {
                lastIndex = in.readUInt64();
            } else if (t == tag(2, VARINT)) {
                lastTerm = in.readUInt64();
            } else if (t == tag(3, LEN)) {
                if (config != null) {
                    throw new MalformedFrameException("snapshot meta with two configs");
                }
                int limit = in.pushLimit(readLength(in));
                config = readConfig(in);
                in.popLimit(limit);
            } else {
                skip(in, t);
            }
        }
        if (config == null) {
            throw new MalformedFrameException("snapshot meta without config");
        }
        return new SnapshotMeta(termOrIndex(lastIndex, "snapshot index"), termOrIndex(lastTerm, "snapshot term"),
                config);
    }

    private static ClusterConfig readConfig(CodedInputStream in) throws IOException {
        Set<String> voters = new HashSet<>();
        Set<String> learners = new HashSet<>();
        Set<String> outgoing = new HashSet<>();
        Map<String, String> addresses = new HashMap<>();
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == tag(1, LEN)) {
                voters.add(requireId(in.readStringRequireUtf8(), "member id"));
            } else if (t == tag(2, LEN)) {
                learners.add(requireId(in.readStringRequireUtf8(), "member id"));
            } else if (t == tag(3, LEN)) {
                outgoing.add(requireId(in.readStringRequireUtf8(), "member id"));
            } else if (t == tag(4, LEN)) {
                int limit = in.pushLimit(readLength(in));
                String key = "";
                String value = "";
                for (int e = in.readTag(); e != 0; e = in.readTag()) {
                    if (e == tag(1, LEN)) {
                        key = in.readStringRequireUtf8();
                    } else if (e == tag(2, LEN)) {
                        value = in.readStringRequireUtf8();
                    } else {
                        skip(in, e);
                    }
                }
                in.popLimit(limit);
                addresses.put(key, value);
            } else {
                skip(in, t);
            }
        }
        return new ClusterConfig(voters, learners, outgoing, addresses);
    }

    private static int readLength(CodedInputStream in) throws IOException {
        int length = in.readRawVarint32();
        if (length < 0) {
            throw new InvalidProtocolBufferException("negative length");
        }
        return length;
    }

    /** Skips an unknown field; refuses groups, which proto3 does not have. */
    private static void skip(CodedInputStream in, int tag) throws IOException {
        int wire = WireFormat.getTagWireType(tag);
        if (wire == WireFormat.WIRETYPE_START_GROUP || wire == WireFormat.WIRETYPE_END_GROUP) {
            throw new MalformedFrameException("group wire type");
        }
        in.skipField(tag);
    }

    private static Bytes bytes(byte[] data) {
        return data == null || data.length == 0 ? Bytes.EMPTY : Bytes.wrap(data);
    }

    /**
     * One string field of the envelope, read as bytes and decoded only when they differ from the
     * previous frame's (frames on one connection mostly name the same cluster, group and members).
     * The UTF-8 check is protobuf's own, as for any proto3 string.
     */
    private static final class IdMemo {
        private byte[] lastBytes = new byte[0];
        private String lastValue = "";
        String value = "";

        void clear() {
            value = "";
        }

        /**
         * Reads the field; compares it in place in {@code source} (where the decoder's first byte is
         * at {@code sourceBase}), so an id like the last one costs no copy and no decoding.
         */
        void read(CodedInputStream in, ByteBuf source, int sourceBase) throws IOException {
            int length = in.readRawVarint32();
            int available = in.getBytesUntilLimit();
            if (length < 0 || (available >= 0 && length > available)) {
                throw new InvalidProtocolBufferException("While parsing a protocol message, the input ended unexpectedly");
            }
            if (length == lastBytes.length && equalAt(source, sourceBase + in.getTotalBytesRead(), lastBytes)) {
                in.skipRawBytes(length);
                value = lastValue;
                return;
            }
            byte[] bytes = in.readRawBytes(length);
            if (!UnsafeByteOperations.unsafeWrap(bytes).isValidUtf8()) {
                throw new InvalidProtocolBufferException("Protocol message had invalid UTF-8.");
            }
            lastBytes = bytes;
            lastValue = new String(bytes, StandardCharsets.UTF_8);
            value = lastValue;
        }

        private static boolean equalAt(ByteBuf source, int index, byte[] expected) {
            for (int i = 0; i < expected.length; i++) {
                if (source.getByte(index + i) != expected[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The fields of a message body, read before the envelope's ids (fields may come in any order). */
    private static final class Body {
        final int field;
        /** Varint fields 1..6 of the body, by field number. */
        final long[] values = new long[7];
        /** The sender's bootstrap fingerprint (fixed64), 0 if not sent. */
        long fingerprint;
        final List<LogEntry> entries;
        SnapshotMeta meta;
        byte[] chunk;

        Body(int field) {
            this.field = field;
            this.entries = field == APPEND ? new ArrayList<>(2) : List.of();
        }

        private long value(int number, String what) {
            return nonNegative(values[number], what);
        }

        private long termOrIndexValue(int number, String what) {
            return termOrIndex(values[number], what);
        }

        private boolean flag(int number) {
            return values[number] != 0;
        }

        RaftMessage toMessage(String group, String from, String to, long term) {
            return switch (field) {
                case APPEND -> {
                    long prev = termOrIndexValue(1, "prev log index");
                    for (int i = 0; i < entries.size(); i++) {
                        if (entries.get(i).index() != prev + 1 + i) {
                            throw new MalformedFrameException("entries not contiguous after prev log index " + prev);
                        }
                    }
                    // An immutable list, so the record's List.copyOf keeps it rather than copying again.
                    List<LogEntry> list = entries.size() == 1 ? List.of(entries.get(0)) : List.copyOf(entries);
                    yield new AppendEntries(group, from, to, term, prev, termOrIndexValue(2, "prev log term"), list,
                            termOrIndexValue(4, "leader commit"), value(5, "round"), flag(6), fingerprint);
                }
                case APPEND_RESPONSE -> new AppendEntriesResponse(group, from, to, term, flag(1),
                        termOrIndexValue(2, "index"), termOrIndexValue(3, "hint index"),
                        termOrIndexValue(4, "hint term"), value(5, "round"), value(6, "vote refusal window"));
                case VOTE -> new RequestVote(group, from, to, term, termOrIndexValue(1, "last log index"),
                        termOrIndexValue(2, "last log term"), flag(3), flag(4), fingerprint);
                case VOTE_RESPONSE -> new RequestVoteResponse(group, from, to, term, flag(1), flag(2));
                case TIMEOUT_NOW -> new TimeoutNow(group, from, to, term);
                case SNAPSHOT -> {
                    if (meta == null) {
                        throw new MalformedFrameException("install snapshot without meta");
                    }
                    yield new InstallSnapshot(group, from, to, term, meta, value(2, "offset"), WireReader.bytes(chunk),
                            flag(4), values[5], fingerprint);
                }
                case SNAPSHOT_RESPONSE -> new InstallSnapshotResponse(group, from, to, term,
                        termOrIndexValue(1, "snapshot index"), value(2, "next offset"), flag(3), flag(4));
                case READ_INDEX -> new ReadIndexRequest(group, from, to, term, value(1, "read request id"), flag(2));
                case READ_INDEX_RESPONSE -> new ReadIndexResponse(group, from, to, term, value(1, "read request id"),
                        termOrIndexValue(2, "read index"), flag(3));
                default -> throw new MalformedFrameException("unknown message field " + field);
            };
        }
    }

    private static int tag(int field, int wireType) {
        return field << 3 | wireType;
    }
}

package io.raft4j.transport.netty;

import com.google.protobuf.CodedOutputStream;
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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The transport's hot path: writes core records straight to frame bytes in the format of
 * {@code raft4j_wire.proto}, and reads frame bytes straight back into records, without building the
 * generated protobuf objects in between.
 *
 * <p>Why it exists: building and parsing {@link RaftWire.Envelope} objects (builders, nested
 * messages, eager string decoding) was the largest cost per message in the loopback benchmark. The
 * generated classes stay the definition of the format: {@link MessageMapper} maps records to and
 * from them, and {@code WireCodecTest} holds this class to them: it must write exactly the bytes
 * the generated code writes for the same message, and read every input to the same message the
 * generated parser plus {@link MessageMapper} produce, or refuse it.
 *
 * <p>This class writes ({@link Writer}); {@link WireReader} reads.
 */
final class WireCodec {
    // Envelope fields (numbers from the generated code, so a renumbering fails to compile here).
    static final int VERSION = RaftWire.Envelope.PROTOCOL_VERSION_FIELD_NUMBER;
    static final int CLUSTER = RaftWire.Envelope.CLUSTER_ID_FIELD_NUMBER;
    static final int GROUP = RaftWire.Envelope.GROUP_ID_FIELD_NUMBER;
    static final int SENDER = RaftWire.Envelope.SENDER_FIELD_NUMBER;
    static final int RECEIVER = RaftWire.Envelope.RECEIVER_FIELD_NUMBER;
    static final int TERM = RaftWire.Envelope.TERM_FIELD_NUMBER;
    static final int INCARNATION = RaftWire.Envelope.SENDER_INCARNATION_FIELD_NUMBER;
    static final int APPEND = RaftWire.Envelope.APPEND_ENTRIES_FIELD_NUMBER;
    static final int APPEND_RESPONSE = RaftWire.Envelope.APPEND_ENTRIES_RESPONSE_FIELD_NUMBER;
    static final int VOTE = RaftWire.Envelope.REQUEST_VOTE_FIELD_NUMBER;
    static final int VOTE_RESPONSE = RaftWire.Envelope.REQUEST_VOTE_RESPONSE_FIELD_NUMBER;
    static final int TIMEOUT_NOW = RaftWire.Envelope.TIMEOUT_NOW_FIELD_NUMBER;
    static final int SNAPSHOT = RaftWire.Envelope.INSTALL_SNAPSHOT_FIELD_NUMBER;
    static final int SNAPSHOT_RESPONSE = RaftWire.Envelope.INSTALL_SNAPSHOT_RESPONSE_FIELD_NUMBER;
    static final int READ_INDEX = RaftWire.Envelope.READ_INDEX_REQUEST_FIELD_NUMBER;
    static final int READ_INDEX_RESPONSE = RaftWire.Envelope.READ_INDEX_RESPONSE_FIELD_NUMBER;

    static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
    static final int VARINT = WireFormat.WIRETYPE_VARINT;

    private WireCodec() {
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Encodes messages for one peer connection. Remembers the UTF-8 form of the last group, sender
     * and receiver ids it wrote (by identity: the core hands the same id strings over and over), so
     * a stream of messages between the same members encodes each id once. Not thread-safe: used
     * only by the connection's drain.
     */
    static final class Writer {
        private final byte[] clusterUtf8;
        /** The sending transport's incarnation; 0 writes none. */
        private final long incarnation;
        private final String[] memoIds = new String[3];
        private final byte[][] memoUtf8 = new byte[3][];

        Writer(String clusterId) {
            this(clusterId, 0);
        }

        Writer(String clusterId, long incarnation) {
            this.clusterUtf8 = clusterId.getBytes(StandardCharsets.UTF_8);
            this.incarnation = incarnation;
        }

        private int incarnationSize() {
            return incarnation == 0 ? 0 : CodedOutputStream.computeFixed64Size(INCARNATION, incarnation);
        }

        /** Serialized size of the envelope carrying {@code m}. */
        int envelopeSize(RaftMessage m) {
            return CodedOutputStream.computeUInt32Size(VERSION, NettyTransportConfig.PROTOCOL_VERSION)
                    + utf8Size(CLUSTER, clusterUtf8) + utf8Size(GROUP, utf8(0, m.groupId()))
                    + utf8Size(SENDER, utf8(1, m.from())) + utf8Size(RECEIVER, utf8(2, m.to()))
                    + u64Size(TERM, m.term()) + incarnationSize() + messageFieldSize(bodyField(m), bodySize(m));
        }

        /**
         * Writes one frame (4-byte big-endian length, then the envelope) carrying {@code m}, whose
         * envelope is {@code envelopeSize} bytes, to {@code out}.
         */
        void writeFrame(CodedOutputStream out, RaftMessage m, int envelopeSize) throws IOException {
            int before = out.getTotalBytesWritten();
            out.writeFixed32NoTag(Integer.reverseBytes(envelopeSize));   // fixed32 is little-endian: reversed, big-endian
            out.writeUInt32(VERSION, NettyTransportConfig.PROTOCOL_VERSION);
            writeUtf8(out, CLUSTER, clusterUtf8);
            writeUtf8(out, GROUP, utf8(0, m.groupId()));
            writeUtf8(out, SENDER, utf8(1, m.from()));
            writeUtf8(out, RECEIVER, utf8(2, m.to()));
            writeU64(out, TERM, m.term());
            if (incarnation != 0) {
                out.writeFixed64(INCARNATION, incarnation);
            }
            out.writeTag(bodyField(m), LEN);
            out.writeUInt32NoTag(bodySize(m));
            writeBody(out, m);
            // Invariant: sizes computed = bytes written; anything else is a bug in this class.
            if (out.getTotalBytesWritten() - before != Frames.LENGTH_BYTES + envelopeSize) {
                throw new IllegalStateException("encoded size mismatch for " + m.getClass().getSimpleName());
            }
        }

        /** Appends one frame carrying {@code m} to {@code buf}, which must have room for it. */
        void writeFrame(ByteBuf buf, RaftMessage m, int envelopeSize) {
            int start = buf.writerIndex();
            int frameSize = Frames.LENGTH_BYTES + envelopeSize;
            try {
                writeFrame(output(buf, start, frameSize), m, envelopeSize);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            buf.writerIndex(start + frameSize);
        }

        private byte[] utf8(int slot, String id) {
            if (memoIds[slot] != id) {
                memoUtf8[slot] = id.getBytes(StandardCharsets.UTF_8);
                memoIds[slot] = id;
            }
            return memoUtf8[slot];
        }
    }

    /** An encoder writing {@code length} bytes of {@code buf} from {@code index}. */
    static CodedOutputStream output(ByteBuf buf, int index, int length) {
        return buf.hasArray()
                ? CodedOutputStream.newInstance(buf.array(), buf.arrayOffset() + index, length)
                : CodedOutputStream.newInstance(buf.internalNioBuffer(index, length));
    }

    private static int utf8Size(int field, byte[] utf8) {
        return utf8.length == 0 ? 0 : CodedOutputStream.computeByteArraySize(field, utf8);
    }

    /** Same bytes as {@code writeString}: a string field is its UTF-8 form, length-delimited. */
    private static void writeUtf8(CodedOutputStream out, int field, byte[] utf8) throws IOException {
        if (utf8.length > 0) {
            out.writeByteArray(field, utf8);
        }
    }

    // The one dispatch over the sealed message set on the fast path; WireCodecTest checks every
    // permitted subtype against the generated code.
    private static int bodyField(RaftMessage m) {
        if (m instanceof AppendEntries) {
            return APPEND;
        } else if (m instanceof AppendEntriesResponse) {
            return APPEND_RESPONSE;
        } else if (m instanceof RequestVote) {
            return VOTE;
        } else if (m instanceof RequestVoteResponse) {
            return VOTE_RESPONSE;
        } else if (m instanceof TimeoutNow) {
            return TIMEOUT_NOW;
        } else if (m instanceof InstallSnapshot) {
            return SNAPSHOT;
        } else if (m instanceof InstallSnapshotResponse) {
            return SNAPSHOT_RESPONSE;
        } else if (m instanceof ReadIndexRequest) {
            return READ_INDEX;
        } else if (m instanceof ReadIndexResponse) {
            return READ_INDEX_RESPONSE;
        }
        throw new IllegalArgumentException("unmapped message type " + m.getClass().getName());
    }

    private static int bodySize(RaftMessage message) {
        if (message instanceof AppendEntries m) {
            int size = u64Size(1, m.prevLogIndex()) + u64Size(2, m.prevLogTerm())
                    + u64Size(4, m.leaderCommit()) + u64Size(5, m.round()) + boolSize(6, m.recipientRemoved())
                    + fixed64Size(7, m.bootstrapFingerprint());
            for (LogEntry e : m.entries()) {
                size += messageFieldSize(3, entrySize(e));
            }
            return size;
        } else if (message instanceof AppendEntriesResponse m) {
            return boolSize(1, m.success()) + u64Size(2, m.index()) + u64Size(3, m.hintIndex())
                    + u64Size(4, m.hintTerm()) + u64Size(5, m.round()) + u64Size(6, m.voteRefusalMicros());
        } else if (message instanceof RequestVote m) {
            return u64Size(1, m.lastLogIndex()) + u64Size(2, m.lastLogTerm()) + boolSize(3, m.preVote())
                    + boolSize(4, m.leadershipTransfer()) + fixed64Size(5, m.bootstrapFingerprint());
        } else if (message instanceof RequestVoteResponse m) {
            return boolSize(1, m.granted()) + boolSize(2, m.preVote());
        } else if (message instanceof TimeoutNow) {
            return 0;
        } else if (message instanceof InstallSnapshot m) {
            return messageFieldSize(1, metaSize(m.meta())) + u64Size(2, m.offset()) + bytesSize(3, m.chunk())
                    + boolSize(4, m.done()) + u64Size(5, m.checksum()) + fixed64Size(6, m.bootstrapFingerprint());
        } else if (message instanceof InstallSnapshotResponse m) {
            return u64Size(1, m.snapshotIndex()) + u64Size(2, m.nextOffset()) + boolSize(3, m.done())
                    + boolSize(4, m.rejected());
        } else if (message instanceof ReadIndexRequest m) {
            return u64Size(1, m.requestId()) + boolSize(2, m.lease());
        } else if (message instanceof ReadIndexResponse m) {
            return u64Size(1, m.requestId()) + u64Size(2, m.readIndex()) + boolSize(3, m.refused());
        }
        throw new IllegalArgumentException("unmapped message type " + message.getClass().getName());
    }

    private static void writeBody(CodedOutputStream out, RaftMessage message) throws IOException {
        if (message instanceof AppendEntries m) {
            writeU64(out, 1, m.prevLogIndex());
            writeU64(out, 2, m.prevLogTerm());
            for (LogEntry e : m.entries()) {
                out.writeTag(3, LEN);
                out.writeUInt32NoTag(entrySize(e));
                writeU64(out, 1, e.index());
                writeU64(out, 2, e.term());
                out.writeEnum(3, entryType(e.type()));
                writeBytes(out, 4, e.data());
            }
            writeU64(out, 4, m.leaderCommit());
            writeU64(out, 5, m.round());
            writeBool(out, 6, m.recipientRemoved());
            writeFixed64(out, 7, m.bootstrapFingerprint());
        } else if (message instanceof AppendEntriesResponse m) {
            writeBool(out, 1, m.success());
            writeU64(out, 2, m.index());
            writeU64(out, 3, m.hintIndex());
            writeU64(out, 4, m.hintTerm());
            writeU64(out, 5, m.round());
            writeU64(out, 6, m.voteRefusalMicros());
        } else if (message instanceof RequestVote m) {
            writeU64(out, 1, m.lastLogIndex());
            writeU64(out, 2, m.lastLogTerm());
            writeBool(out, 3, m.preVote());
            writeBool(out, 4, m.leadershipTransfer());
            writeFixed64(out, 5, m.bootstrapFingerprint());
        } else if (message instanceof RequestVoteResponse m) {
            writeBool(out, 1, m.granted());
            writeBool(out, 2, m.preVote());
        } else if (message instanceof InstallSnapshot m) {
            out.writeTag(1, LEN);
            out.writeUInt32NoTag(metaSize(m.meta()));
            writeMeta(out, m.meta());
            writeU64(out, 2, m.offset());
            writeBytes(out, 3, m.chunk());
            writeBool(out, 4, m.done());
            writeU64(out, 5, m.checksum());
            writeFixed64(out, 6, m.bootstrapFingerprint());
        } else if (message instanceof InstallSnapshotResponse m) {
            writeU64(out, 1, m.snapshotIndex());
            writeU64(out, 2, m.nextOffset());
            writeBool(out, 3, m.done());
            writeBool(out, 4, m.rejected());
        } else if (message instanceof ReadIndexRequest m) {
            writeU64(out, 1, m.requestId());
            writeBool(out, 2, m.lease());
        } else if (message instanceof ReadIndexResponse m) {
            writeU64(out, 1, m.requestId());
            writeU64(out, 2, m.readIndex());
            writeBool(out, 3, m.refused());
        }
        // TimeoutNow has no fields.
    }

    private static int entrySize(LogEntry e) {
        return u64Size(1, e.index()) + u64Size(2, e.term())
                + CodedOutputStream.computeEnumSize(3, entryType(e.type())) + bytesSize(4, e.data());
    }

    private static int entryType(EntryType type) {
        return switch (type) {
            case COMMAND -> RaftWire.EntryType.ENTRY_TYPE_COMMAND_VALUE;
            case NOOP -> RaftWire.EntryType.ENTRY_TYPE_NOOP_VALUE;
            case CONFIG -> RaftWire.EntryType.ENTRY_TYPE_CONFIG_VALUE;
        };
    }

    private static int metaSize(SnapshotMeta meta) {
        return u64Size(1, meta.lastIndex()) + u64Size(2, meta.lastTerm()) + messageFieldSize(3, configSize(meta.config()));
    }

    private static void writeMeta(CodedOutputStream out, SnapshotMeta meta) throws IOException {
        writeU64(out, 1, meta.lastIndex());
        writeU64(out, 2, meta.lastTerm());
        out.writeTag(3, LEN);
        out.writeUInt32NoTag(configSize(meta.config()));
        writeConfig(out, meta.config());
    }

    private static int configSize(ClusterConfig c) {
        int size = 0;
        for (String id : c.voters()) {
            size += CodedOutputStream.computeStringSize(1, id);
        }
        for (String id : c.learners()) {
            size += CodedOutputStream.computeStringSize(2, id);
        }
        for (String id : c.outgoingVoters()) {
            size += CodedOutputStream.computeStringSize(3, id);
        }
        for (Map.Entry<String, String> a : c.addresses().entrySet()) {
            size += messageFieldSize(4, addressEntrySize(a));
        }
        return size;
    }

    // Protobuf map entries always carry both key and value, even when empty.
    private static int addressEntrySize(Map.Entry<String, String> a) {
        return CodedOutputStream.computeStringSize(1, a.getKey()) + CodedOutputStream.computeStringSize(2, a.getValue());
    }

    private static void writeConfig(CodedOutputStream out, ClusterConfig c) throws IOException {
        for (String id : c.voters()) {
            out.writeString(1, id);
        }
        for (String id : c.learners()) {
            out.writeString(2, id);
        }
        for (String id : c.outgoingVoters()) {
            out.writeString(3, id);
        }
        for (Map.Entry<String, String> a : c.addresses().entrySet()) {
            out.writeTag(4, LEN);
            out.writeUInt32NoTag(addressEntrySize(a));
            out.writeString(1, a.getKey());
            out.writeString(2, a.getValue());
        }
    }

    // Proto3 leaves out fields holding their default value; so do these, byte for byte.

    private static int u64Size(int field, long value) {
        return value == 0 ? 0 : CodedOutputStream.computeUInt64Size(field, value);
    }

    private static int fixed64Size(int field, long value) {
        return value == 0 ? 0 : CodedOutputStream.computeFixed64Size(field, value);
    }

    private static void writeFixed64(CodedOutputStream out, int field, long value) throws IOException {
        if (value != 0) {
            out.writeFixed64(field, value);
        }
    }

    private static int boolSize(int field, boolean value) {
        return value ? CodedOutputStream.computeBoolSize(field, true) : 0;
    }

    private static int bytesSize(int field, Bytes value) {
        return value.length() == 0 ? 0 : CodedOutputStream.computeByteArraySize(field, value.unsafeArray());
    }

    private static int messageFieldSize(int field, int size) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(size) + size;
    }

    private static void writeU64(CodedOutputStream out, int field, long value) throws IOException {
        if (value != 0) {
            out.writeUInt64(field, value);
        }
    }

    private static void writeBool(CodedOutputStream out, int field, boolean value) throws IOException {
        if (value) {
            out.writeBool(field, true);
        }
    }

    private static void writeBytes(CodedOutputStream out, int field, Bytes value) throws IOException {
        if (value.length() > 0) {
            out.writeByteArray(field, value.unsafeArray());
        }
    }

}

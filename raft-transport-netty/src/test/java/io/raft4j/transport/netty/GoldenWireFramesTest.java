package io.raft4j.transport.netty;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.transport.netty.proto.RaftWire;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Guards the wire compatibility promise of {@code docs/operations.md}: builds of one protocol
 * version interoperate. {@link WireCodecTest} holds the hand-written codec to the generated code,
 * but both follow the {@code .proto}; this test holds them to bytes checked into the repository, so
 * a change of the frames (a renumbered field, a changed type, a changed default) fails here.
 *
 * <ul>
 *   <li>{@code wire-golden/frames-v1.hex}: the frames this build writes for {@link GoldenFrames#messages()}
 *   (4-byte length prefix and envelope, with incarnation). A deliberate change, compatible within
 *   version 1 (a field added), is recorded by regenerating it: run this test with
 *   {@code -Draft4j.golden.regenerate=true} from the module directory (it rewrites the file under
 *   {@code src/test/resources}; the run itself still reads the old copy on the classpath), run it
 *   again without the property, and review the diff. An incompatible change bumps
 *   {@code PROTOCOL_VERSION} and gets a new file instead.</li>
 *   <li>{@code wire-golden/frames-v1-c3fcb82.hex}: the same messages as written by build c3fcb82,
 *   the last before {@code AppendEntriesResponse.vote_refusal_micros} (field 6); captured once from
 *   that build and never regenerated. This build must read each to the same message, the window 0
 *   (and the bootstrap fingerprint 0: it came later still).</li>
 * </ul>
 */
class GoldenWireFramesTest {
    private static final String CURRENT = "/wire-golden/frames-v1.hex";
    private static final String BEFORE_VOTE_REFUSAL = "/wire-golden/frames-v1-c3fcb82.hex";

    private static byte[] encode(RaftMessage m) {
        WireCodec.Writer writer = new WireCodec.Writer(GoldenFrames.CLUSTER, GoldenFrames.INCARNATION);
        int size = writer.envelopeSize(m);
        ByteBuf buf = Unpooled.buffer(Frames.LENGTH_BYTES + size);
        writer.writeFrame(buf, m, size);
        byte[] frame = new byte[buf.readableBytes()];
        buf.readBytes(frame);
        return frame;
    }

    /** Reads one frame (length prefix, then envelope) and checks the prefix and the envelope's context. */
    private static RaftMessage decode(byte[] frame) throws Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        int length = buf.readInt();
        assertEquals(frame.length - Frames.LENGTH_BYTES, length, "length prefix");
        WireReader reader = new WireReader();
        RaftMessage m = reader.read(buf, Frames.LENGTH_BYTES, length);
        assertEquals(NettyTransportConfig.PROTOCOL_VERSION, reader.version());
        assertEquals(GoldenFrames.CLUSTER, reader.clusterId());
        assertEquals(GoldenFrames.INCARNATION, reader.incarnation());
        return m;
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void theEncoderWritesTheGoldenFramesAndTheDecoderReadsThemBack() throws Exception {
        Map<String, RaftMessage> messages = GoldenFrames.messages();
        assertEquals(Set.of(RaftMessage.class.getPermittedSubclasses()),
                messages.values().stream().map(Object::getClass).collect(Collectors.toSet()),
                "the golden messages cover every message type");
        Map<String, byte[]> written = new LinkedHashMap<>();
        messages.forEach((name, m) -> written.put(name, encode(m)));
        if (Boolean.getBoolean("raft4j.golden.regenerate")) {
            GoldenFrames.write(Path.of("src/test/resources" + CURRENT),
                    "Golden wire frames of protocol version " + NettyTransportConfig.PROTOCOL_VERSION
                            + " (GoldenWireFramesTest): name, then the frame in hex (length prefix and envelope).\n"
                            + "Regenerate only for a deliberate, compatible change; see the test's Javadoc.", written);
        }
        Map<String, byte[]> golden = GoldenFrames.read(CURRENT);
        assertEquals(messages.keySet(), golden.keySet(), "the golden file names the golden messages");
        for (Map.Entry<String, RaftMessage> e : messages.entrySet()) {
            String name = e.getKey();
            assertEquals(hex(golden.get(name)), hex(written.get(name)),
                    name + ": the encoder no longer writes the golden frame (an incompatible change bumps "
                            + "PROTOCOL_VERSION; a compatible one regenerates, see the Javadoc)");
            assertEquals(e.getValue(), decode(golden.get(name)), name + ": decoded from the golden frame");
            // The generated code, the format's definition, agrees with the golden bytes too.
            byte[] envelope = java.util.Arrays.copyOfRange(golden.get(name), Frames.LENGTH_BYTES, golden.get(name).length);
            assertEquals(e.getValue(), MessageMapper.fromEnvelope(RaftWire.Envelope.parseFrom(envelope)), name);
        }
    }

    @Test
    void framesOfTheBuildBeforeTheVoteRefusalWindowDecodeWithTheWindowZero() throws Exception {
        Map<String, RaftMessage> messages = GoldenFrames.messages();
        Map<String, byte[]> old = GoldenFrames.read(BEFORE_VOTE_REFUSAL);
        assertEquals(messages.keySet(), old.keySet());
        for (Map.Entry<String, RaftMessage> e : messages.entrySet()) {
            assertEquals(asWrittenBeforeTheWindow(e.getValue()), decode(old.get(e.getKey())), e.getKey());
        }
    }

    /** {@code m} without what build c3fcb82 did not send: the vote-refusal window, the bootstrap fingerprint. */
    private static RaftMessage asWrittenBeforeTheWindow(RaftMessage m) {
        if (m instanceof AppendEntriesResponse r) {
            return new AppendEntriesResponse(r.groupId(), r.from(), r.to(), r.term(), r.success(), r.index(),
                    r.hintIndex(), r.hintTerm(), r.round(), 0);
        }
        if (m instanceof AppendEntries a) {
            return new AppendEntries(a.groupId(), a.from(), a.to(), a.term(), a.prevLogIndex(), a.prevLogTerm(),
                    a.entries(), a.leaderCommit(), a.round(), a.recipientRemoved());
        }
        if (m instanceof RequestVote v) {
            return new RequestVote(v.groupId(), v.from(), v.to(), v.term(), v.lastLogIndex(), v.lastLogTerm(),
                    v.preVote(), v.leadershipTransfer());
        }
        if (m instanceof InstallSnapshot s) {
            return new InstallSnapshot(s.groupId(), s.from(), s.to(), s.term(), s.meta(), s.offset(), s.chunk(),
                    s.done(), s.checksum());
        }
        return m;
    }

    /**
     * The promise that makes adding a field within a version safe: a build skips fields it does
     * not know. Every message of the frame (envelope, body, entries, snapshot meta, configuration)
     * gets an unknown field of each wire type proto3 can add (varint, fixed64, length-delimited,
     * fixed32), and still decodes to the same message.
     */
    @Test
    void unknownFieldsInEveryMessageOfAFrameAreSkipped() throws Exception {
        for (Map.Entry<String, RaftMessage> e : GoldenFrames.messages().entrySet()) {
            RaftWire.Envelope envelope = MessageMapper.toEnvelope(GoldenFrames.CLUSTER, e.getValue());
            byte[] extended = withUnknownFields(envelope).toByteArray();
            assertEquals(e.getValue(), new WireReader().read(Unpooled.wrappedBuffer(extended), 0, extended.length),
                    e.getKey() + " with unknown fields: " + hex(extended));
        }
    }

    private static final UnknownFieldSet UNKNOWN = UnknownFieldSet.newBuilder()
            .addField(1000, UnknownFieldSet.Field.newBuilder().addVarint(7).build())
            .addField(1001, UnknownFieldSet.Field.newBuilder().addFixed64(0x1122334455667788L).build())
            .addField(1002, UnknownFieldSet.Field.newBuilder()
                    .addLengthDelimited(com.google.protobuf.ByteString.copyFromUtf8("future")).build())
            .addField(1003, UnknownFieldSet.Field.newBuilder().addFixed32(0x11223344).build())
            .build();

    /** {@code message} and every message field in it (map entries aside), each with {@link #UNKNOWN}. */
    @SuppressWarnings("unchecked")
    private static <T extends Message> T withUnknownFields(T message) {
        Message.Builder b = message.toBuilder();
        for (Map.Entry<FieldDescriptor, Object> f : message.getAllFields().entrySet()) {
            FieldDescriptor field = f.getKey();
            if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || field.isMapField()) {
                continue;
            }
            if (field.isRepeated()) {
                List<?> values = (List<?>) f.getValue();
                for (int i = 0; i < values.size(); i++) {
                    b.setRepeatedField(field, i, withUnknownFields((Message) values.get(i)));
                }
            } else {
                b.setField(field, withUnknownFields((Message) f.getValue()));
            }
        }
        b.setUnknownFields(UNKNOWN);
        return (T) b.build();
    }
}

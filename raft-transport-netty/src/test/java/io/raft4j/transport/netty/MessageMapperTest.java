package io.raft4j.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.RaftMessage;
import io.raft4j.transport.netty.proto.RaftWire;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every core message survives record -> envelope -> frame bytes -> envelope -> record unchanged. */
class MessageMapperTest {
    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

    private static RaftMessage roundTrip(RaftMessage m) throws Exception {
        ByteBuf frame = Frames.encode(ALLOC, MessageMapper.toEnvelope("c1", m), 1 << 20);
        assertNotNull(frame);
        try {
            assertEquals(frame.readableBytes() - Frames.LENGTH_BYTES, frame.readInt());
            RaftWire.Envelope e = Frames.parse(frame);
            assertEquals(NettyTransportConfig.PROTOCOL_VERSION, e.getProtocolVersion());
            assertEquals("c1", e.getClusterId());
            return MessageMapper.fromEnvelope(e);
        } finally {
            frame.release();
        }
    }

    @Test
    void everyMessageTypeRoundTripsThroughTheWireFormat() throws Exception {
        Set<Class<?>> covered = new HashSet<>();
        for (RaftMessage m : TestMessages.all("group-1", "n1", "n2")) {
            assertEquals(m, roundTrip(m), m.getClass().getSimpleName());
            covered.add(m.getClass());
        }
        // A message type added to the sealed set without a mapping and a sample fails here.
        assertEquals(Set.of(RaftMessage.class.getPermittedSubclasses()), covered);
    }

    @Test
    void largePayloadsAndExtremeValuesRoundTrip() throws Exception {
        byte[] big = new byte[256 * 1024];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        AppendEntries m = new AppendEntries("g", "a", "b", Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE,
                List.of(io.raft4j.message.LogEntry.command(Long.MAX_VALUE, Long.MAX_VALUE,
                        io.raft4j.message.Bytes.wrap(big))), Long.MAX_VALUE, Long.MAX_VALUE);
        assertEquals(m, roundTrip(m));
    }

    @Test
    void encodingRefusesAFrameAboveTheLimit() {
        AppendEntries m = TestMessages.numbered("g", "a", "b", 1, 4096);
        assertNull(Frames.encode(ALLOC, MessageMapper.toEnvelope("c", m), 1024));
    }

    @Test
    void decodingRejectsWhatTheRecordsWouldAcceptButTheCoreCannotUse() {
        RaftWire.Envelope valid = MessageMapper.toEnvelope("c", TestMessages.all("g", "a", "b").get(0));
        // Negative term (uint64 above Long.MAX_VALUE).
        assertThrows(MalformedFrameException.class,
                () -> MessageMapper.fromEnvelope(valid.toBuilder().setTerm(-1).build()));
        // Entries with a gap.
        RaftWire.AppendEntries.Builder gap = valid.getAppendEntries().toBuilder();
        gap.setEntries(1, gap.getEntries(1).toBuilder().setIndex(99));
        assertThrows(MalformedFrameException.class,
                () -> MessageMapper.fromEnvelope(valid.toBuilder().setAppendEntries(gap).build()));
        // An entry type this version does not know.
        RaftWire.AppendEntries.Builder unknownType = valid.getAppendEntries().toBuilder();
        unknownType.setEntries(0, unknownType.getEntries(0).toBuilder().setTypeValue(42));
        assertThrows(MalformedFrameException.class,
                () -> MessageMapper.fromEnvelope(valid.toBuilder().setAppendEntries(unknownType).build()));
        // No body, no sender, snapshot without meta.
        assertThrows(MalformedFrameException.class,
                () -> MessageMapper.fromEnvelope(valid.toBuilder().clearBody().build()));
        assertThrows(MalformedFrameException.class,
                () -> MessageMapper.fromEnvelope(valid.toBuilder().setSender("").build()));
        assertThrows(MalformedFrameException.class, () -> MessageMapper.fromEnvelope(valid.toBuilder()
                .setInstallSnapshot(RaftWire.InstallSnapshot.newBuilder().setOffset(1)).build()));
        // A learner that is also a voter: refused by ClusterConfig's constructor.
        RaftWire.ClusterConfig bad = RaftWire.ClusterConfig.newBuilder().addVoters("x").addLearners("x").build();
        assertThrows(MalformedFrameException.class, () -> MessageMapper.fromEnvelope(valid.toBuilder()
                .setInstallSnapshot(RaftWire.InstallSnapshot.newBuilder()
                        .setMeta(RaftWire.SnapshotMeta.newBuilder().setConfig(bad))).build()));
    }
}

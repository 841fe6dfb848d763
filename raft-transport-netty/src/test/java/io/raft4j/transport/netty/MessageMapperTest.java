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
        long max = MessageMapper.MAX_TERM_OR_INDEX;
        AppendEntries m = new AppendEntries("g", "a", "b", max, max - 1, max,
                List.of(io.raft4j.message.LogEntry.command(max, max, io.raft4j.message.Bytes.wrap(big))), max,
                Long.MAX_VALUE);
        assertEquals(m, roundTrip(m));
    }

    /**
     * Found sending a member one heartbeat of term Long.MAX_VALUE (a raw frame, as a broken or hostile
     * peer would): it took the term, durably; its answers carried it to the leader and the other
     * member; and then no node could ever campaign again, since the term after Long.MAX_VALUE
     * overflows to a negative one, which every peer refused as malformed: a three-node cluster stuck
     * in pre-vote for good, its terms persisted. A snapshot at index Long.MAX_VALUE likewise left the
     * core a first index of Long.MIN_VALUE and a compaction the log storage refuses. Terms and indexes
     * above MAX_TERM_OR_INDEX, which no cluster reaches, are now refused by both decoders.
     */
    @Test
    void termsAndIndexesNoClusterReachesAreRefused() throws Exception {
        long over = MessageMapper.MAX_TERM_OR_INDEX + 1;
        io.raft4j.message.ClusterConfig config = TestMessages.jointConfig();
        List<RaftMessage> refused = List.of(
                new AppendEntries("g", "a", "b", Long.MAX_VALUE, 0, 0, List.of(), 0, 0),
                new AppendEntries("g", "a", "b", over, 0, 0, List.of(), 0, 0),
                new AppendEntries("g", "a", "b", 5, over, 0, List.of(), 0, 0),
                new AppendEntries("g", "a", "b", 5, 0, over, List.of(), 0, 0),
                new AppendEntries("g", "a", "b", 5, 0, 0, List.of(io.raft4j.message.LogEntry.command(1, over,
                        io.raft4j.message.Bytes.EMPTY)), 0, 0),
                new AppendEntries("g", "a", "b", 5, 0, 0, List.of(), over, 0),
                new io.raft4j.message.AppendEntriesResponse("g", "a", "b", 5, true, over, 0, 0, 0, 0),
                new io.raft4j.message.AppendEntriesResponse("g", "a", "b", 5, false, 1, over, 0, 0, 0),
                new io.raft4j.message.AppendEntriesResponse("g", "a", "b", 5, false, 1, 0, over, 0, 0),
                new io.raft4j.message.RequestVote("g", "a", "b", 5, over, 1, false, false),
                new io.raft4j.message.RequestVote("g", "a", "b", 5, 1, over, false, false),
                new io.raft4j.message.InstallSnapshot("g", "a", "b", 5, new io.raft4j.message.SnapshotMeta(Long.MAX_VALUE, 4,
                        config), 0, io.raft4j.message.Bytes.EMPTY, true, 0),
                new io.raft4j.message.InstallSnapshot("g", "a", "b", 5, new io.raft4j.message.SnapshotMeta(1, over,
                        config), 0, io.raft4j.message.Bytes.EMPTY, true, 0),
                new io.raft4j.message.InstallSnapshotResponse("g", "a", "b", 5, over, 0, true, false),
                new io.raft4j.message.ReadIndexResponse("g", "a", "b", 5, 1, over, false));
        for (RaftMessage m : refused) {
            assertThrows(MalformedFrameException.class, () -> roundTrip(m), "generated decoder took " + m);
            ByteBuf frame = Frames.encode(ALLOC, MessageMapper.toEnvelope("c1", m), 1 << 20);
            try {
                assertThrows(MalformedFrameException.class, () -> new WireReader().read(frame, Frames.LENGTH_BYTES,
                        frame.readableBytes() - Frames.LENGTH_BYTES), "wire reader took " + m);
            } finally {
                frame.release();
            }
        }
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

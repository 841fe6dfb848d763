package io.raft4j.transport.netty;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
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
import io.raft4j.message.TimeoutNow;
import io.raft4j.transport.netty.proto.RaftWire;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Holds the hand-written {@link WireCodec} to the generated protobuf code: it writes the same
 * bytes, and reads any input to the same message as the generated parser plus {@link MessageMapper}
 * (or refuses it, only where it is documented to be stricter).
 */
class WireCodecTest {
    private static final String CLUSTER = "codec-cluster";
    private final WireCodec.Writer codec = new WireCodec.Writer(CLUSTER);

    private byte[] encode(RaftMessage m) {
        int size = codec.envelopeSize(m);
        ByteBuf buf = Unpooled.buffer(Frames.LENGTH_BYTES + size);
        codec.writeFrame(buf, m, size);
        assertEquals(size, buf.readInt());
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    @Test
    void writesExactlyTheBytesOfTheGeneratedCodeAndReadsThemBack() throws Exception {
        SplittableRandom random = new SplittableRandom(42);
        List<RaftMessage> messages = new ArrayList<>(TestMessages.all("g", "n1", "n2"));
        for (int i = 0; i < 2000; i++) {
            messages.add(randomMessage(random));
        }
        Set<Class<?>> covered = new HashSet<>();
        WireReader reader = new WireReader();
        for (RaftMessage m : messages) {
            byte[] ours = encode(m);
            assertArrayEquals(MessageMapper.toEnvelope(CLUSTER, m).toByteArray(), ours, m.toString());
            assertEquals(m, reader.read(Unpooled.wrappedBuffer(ours), 0, ours.length));
            assertEquals(NettyTransportConfig.PROTOCOL_VERSION, reader.version());
            assertEquals(CLUSTER, reader.clusterId());
            covered.add(m.getClass());
        }
        assertEquals(Set.of(RaftMessage.class.getPermittedSubclasses()), covered);
    }

    @Test
    void readsLikeTheGeneratedParserOnRandomAndMutatedInput() {
        int iterations = Integer.getInteger("raft.fuzz.iterations", 100_000);
        long seed = Long.getLong("raft.fuzz.seed", 20_261_122L);
        SplittableRandom random = new SplittableRandom(seed);
        String context = "(rerun with -Draft.fuzz.seed=" + seed + ")";
        WireReader reader = new WireReader();
        List<byte[]> corpus = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            corpus.add(MessageMapper.toEnvelope(CLUSTER, randomMessage(random)).toByteArray());
        }
        int agreedAccept = 0;
        int agreedReject = 0;
        int stricter = 0;
        for (int i = 0; i < iterations; i++) {
            byte[] input = mutate(corpus.get(random.nextInt(corpus.size())), random);
            RaftMessage reference;
            RaftWire.Envelope envelope = null;
            try {
                envelope = RaftWire.Envelope.parseFrom(input);
                reference = MessageMapper.fromEnvelope(envelope);
            } catch (InvalidProtocolBufferException | MalformedFrameException e) {
                reference = null;
            }
            RaftMessage ours;
            String refusal;
            try {
                ours = reader.read(Unpooled.wrappedBuffer(input), 0, input.length);
                refusal = null;
            } catch (InvalidProtocolBufferException | MalformedFrameException e) {
                ours = null;
                refusal = e.getMessage();
            } catch (RuntimeException e) {
                throw new AssertionError("reader threw " + e + " " + context, e);
            }
            if (ours != null) {
                if (reference == null) {
                    fail("the codec accepted what the generated parser refuses: " + ours + " " + context);
                }
                assertEquals(reference, ours, context);
                assertEquals(envelope.getProtocolVersion(), reader.version(), context);
                assertEquals(envelope.getClusterId(), reader.clusterId(), context);
                agreedAccept++;
            } else if (reference == null) {
                agreedReject++;
            } else {
                // Only the documented strictness may part them.
                assertTrue(refusal.contains("group wire type") || refusal.contains("two "),
                        "the codec refused (" + refusal + ") what the generated parser accepts: " + reference + " " + context);
                stricter++;
            }
        }
        assertTrue(agreedAccept > 0 && agreedReject > 0, "the fuzz exercised both outcomes " + context);
        System.out.printf("codec differential fuzz: %d iterations, %d accepted by both, %d refused by both, "
                + "%d refused only by the stricter codec %s%n", iterations, agreedAccept, agreedReject, stricter, context);
    }

    @Test
    void skipsUnknownFieldsButRefusesGroupsAndDuplicateBodies() throws Exception {
        RaftMessage m = new TimeoutNow("g", "a", "b", 3);
        byte[] valid = encode(m);
        WireReader reader = new WireReader();
        // Unknown varint field 99 and length-delimited field 100 appended: skipped (forward compatibility).
        byte[] extended = concat(valid, new byte[] {(byte) 0x98, 0x06, 0x07, (byte) 0xa2, 0x06, 0x02, 0x41, 0x42});
        assertEquals(m, reader.read(Unpooled.wrappedBuffer(extended), 0, extended.length));
        // A group (field 99, start and end): proto3 has none; refused.
        byte[] group = concat(valid, new byte[] {(byte) 0x9b, 0x06, (byte) 0x9c, 0x06});
        assertRefused(reader, group);
        // A second body.
        byte[] twoBodies = concat(valid, new byte[] {0x72, 0x00});
        assertRefused(reader, twoBodies);
        // Deeply nested groups never reach a recursion: the first is refused.
        byte[] deep = new byte[20_000];
        for (int i = 0; i < deep.length; i += 2) {
            deep[i] = (byte) 0x9b;
            deep[i + 1] = 0x06;
        }
        assertRefused(reader, concat(valid, deep));
    }

    private static void assertRefused(WireReader reader, byte[] input) {
        try {
            RaftMessage m = reader.read(Unpooled.wrappedBuffer(input), 0, input.length);
            fail("accepted " + m);
        } catch (InvalidProtocolBufferException | MalformedFrameException expected) {
            // refused
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Bit flips, truncation, random splices, insertions of random bytes, or pure noise. */
    private static byte[] mutate(byte[] valid, SplittableRandom random) {
        byte[] b;
        switch (random.nextInt(6)) {
            case 0 -> {
                return valid;
            }
            case 1 -> {
                b = valid.clone();
                for (int f = 1 + random.nextInt(3); f > 0; f--) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 2 -> b = java.util.Arrays.copyOf(valid, random.nextInt(valid.length + 1));
            case 3 -> {
                int at = random.nextInt(valid.length + 1);
                byte[] noise = new byte[1 + random.nextInt(6)];
                random.nextBytes(noise);
                b = concat(concat(java.util.Arrays.copyOf(valid, at), noise),
                        java.util.Arrays.copyOfRange(valid, at, valid.length));
            }
            case 4 -> {
                b = valid.clone();
                int at = random.nextInt(b.length);
                b[at] = (byte) random.nextInt(256);
            }
            default -> {
                b = new byte[random.nextInt(48)];
                random.nextBytes(b);
            }
        }
        return b;
    }

    private static final String[] IDS = {"n1", "n2", "node-3", "ñødé", "x", "\u4e2d\u6587", "a".repeat(200)};

    private static String id(SplittableRandom r) {
        return IDS[r.nextInt(IDS.length)];
    }

    /** A term or log index: up to the largest a frame may carry. */
    private static long num(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextLong(128);
            case 2 -> r.nextLong(1L << 35);
            default -> r.nextLong(MessageMapper.MAX_TERM_OR_INDEX + 1);
        };
    }

    /** Any other number (a round, a byte offset): up to Long.MAX_VALUE. */
    private static long anyNum(SplittableRandom r) {
        return r.nextInt(4) == 0 ? r.nextLong(Long.MAX_VALUE) : num(r);
    }

    private static Bytes bytes(SplittableRandom r, int max) {
        byte[] b = new byte[r.nextInt(max + 1)];
        r.nextBytes(b);
        return Bytes.wrap(b);
    }

    private static ClusterConfig config(SplittableRandom r) {
        Set<String> voters = new HashSet<>();
        Set<String> learners = new HashSet<>();
        Set<String> outgoing = new HashSet<>();
        Map<String, String> addresses = new HashMap<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            voters.add(id(r));
        }
        for (int i = r.nextInt(3); i > 0; i--) {
            outgoing.add(id(r));
        }
        for (int i = r.nextInt(2); i > 0; i--) {
            String l = id(r);
            if (!voters.contains(l) && !outgoing.contains(l)) {
                learners.add(l);
            }
        }
        for (int i = r.nextInt(3); i > 0; i--) {
            addresses.put(id(r), r.nextInt(5) == 0 ? "" : "127.0.0.1:" + r.nextInt(65536));
        }
        return new ClusterConfig(voters, learners, outgoing, addresses);
    }

    static RaftMessage randomMessage(SplittableRandom r) {
        String g = id(r);
        String from = id(r);
        String to = id(r);
        long term = num(r);
        return switch (r.nextInt(7)) {
            case 0 -> {
                long prev = r.nextLong(1L << 40);
                List<LogEntry> entries = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    EntryType type = EntryType.values()[r.nextInt(3)];
                    entries.add(new LogEntry(prev + 1 + entries.size(), num(r), type, bytes(r, 40)));
                }
                yield new AppendEntries(g, from, to, term, prev, num(r), entries, num(r), anyNum(r));
            }
            case 1 -> new AppendEntriesResponse(g, from, to, term, r.nextBoolean(), num(r), num(r), num(r), anyNum(r), num(r));
            case 2 -> new RequestVote(g, from, to, term, num(r), num(r), r.nextBoolean(), r.nextBoolean());
            case 3 -> new RequestVoteResponse(g, from, to, term, r.nextBoolean(), r.nextBoolean());
            case 4 -> new TimeoutNow(g, from, to, term);
            case 5 -> new InstallSnapshot(g, from, to, term, new SnapshotMeta(num(r), num(r), config(r)), anyNum(r),
                    bytes(r, 64), r.nextBoolean(), r.nextLong());
            default -> new InstallSnapshotResponse(g, from, to, term, num(r), anyNum(r), r.nextBoolean(), r.nextBoolean());
        };
    }
}

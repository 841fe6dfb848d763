package io.raft4j.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.raft4j.message.RaftMessage;
import io.raft4j.transport.netty.proto.RaftWire;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Feeds the server pipeline (frame decoder, parser, dispatcher: exactly what an accepted connection
 * runs, minus TLS) random and mutated input: random bytes, valid frames with flipped bytes,
 * truncated frames, frames with forged length prefixes, garbage after valid frames, and valid
 * frames split at random points. Checks that no exception escapes the pipeline, that every byte
 * buffer is released once the connection is gone, that the bytes held per connection never exceed
 * one maximal frame plus the input, and that untouched valid frames are still delivered.
 *
 * <p>{@code -Draft.fuzz.iterations=N} sets the number of connections fuzzed (default 100,000);
 * {@code -Draft.fuzz.seed=S} the seed (fixed by default, so every run is the same run).
 */
class FrameDecoderFuzzTest {
    private static final int MAX_FRAME = 4096;
    private static final String CLUSTER = "fuzz";

    @Test
    void randomAndMutatedFramesNeverEscapeThePipelineNorLeak() {
        int iterations = Integer.getInteger("raft.fuzz.iterations", 100_000);
        long seed = Long.getLong("raft.fuzz.seed", 20_261_122L);
        SplittableRandom random = new SplittableRandom(seed);
        String context = "seed " + seed + " (rerun with -Draft.fuzz.seed=" + seed + ")";

        InboundDispatcher dispatcher = new InboundDispatcher(CLUSTER, Set.of("n1", "n3"));
        List<RaftMessage> delivered = new ArrayList<>();
        dispatcher.register("g", "n2", delivered::add);
        ConnectionGuard guard = new ConnectionGuard("fuzz");
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false);

        List<byte[]> corpus = new ArrayList<>();
        for (RaftMessage m : TestMessages.all("g", "n1", "n2")) {
            corpus.add(frameBytes(alloc, MessageMapper.toEnvelope(CLUSTER, m)));
        }
        for (RaftMessage m : TestMessages.all("g", "n3", "n2")) {
            corpus.add(frameBytes(alloc, MessageMapper.toEnvelope(CLUSTER, m)));
        }

        long intact = 0;
        long rejectedBefore = guard.rejectedConnections();
        long maxHeld = 0;
        for (int i = 0; i < iterations; i++) {
            int kind = random.nextInt(7);
            byte[] input = mutate(kind, corpus, random);
            EmbeddedChannel ch = new EmbeddedChannel();
            ch.config().setAllocator(alloc);
            InboundHandler.addTo(ch.pipeline(), MAX_FRAME, dispatcher, guard);
            int deliveredBefore = delivered.size();

            // Deliver the input in 1 to 4 pieces, as TCP might.
            int offset = 0;
            int pieces = 1 + random.nextInt(4);
            for (int p = 0; p < pieces && offset < input.length && ch.isOpen(); p++) {
                int len = p == pieces - 1 ? input.length - offset : random.nextInt(input.length - offset + 1);
                ByteBuf piece = alloc.heapBuffer(Math.max(len, 1));
                piece.writeBytes(input, offset, len);
                offset += len;
                ch.writeInbound(piece);
                ch.checkException();
                long held = alloc.metric().usedHeapMemory();
                maxHeld = Math.max(maxHeld, held);
                assertTrue(held <= 2L * (MAX_FRAME + input.length) + 1024,
                        "held " + held + " bytes for a " + input.length + "-byte input; " + context);
            }
            assertTrue(ch.inboundMessages().isEmpty(), "nothing passes the dispatcher; " + context);
            if (kind == 0) {
                intact++;
                assertTrue(ch.isOpen(), "a valid frame keeps the connection open; " + context);
                assertEquals(deliveredBefore + 1, delivered.size(), "a valid frame is delivered; " + context);
            }
            ch.finishAndReleaseAll();
            ch.checkException();
            assertEquals(0, alloc.metric().usedHeapMemory(), "every buffer released; iteration " + i + ", " + context);
            if (delivered.size() > 10_000) {
                delivered.clear();
            }
        }
        assertTrue(intact > 0 && guard.rejectedConnections() > rejectedBefore,
                "the fuzz exercised both paths; " + context);
        System.out.printf("fuzz: %d iterations, %d intact, %d connections rejected, max %d bytes held (%s)%n",
                iterations, intact, guard.rejectedConnections() - rejectedBefore, maxHeld, context);
    }

    /** Kind 0 is an untouched valid frame; the others are broken in different ways. */
    private static byte[] mutate(int kind, List<byte[]> corpus, SplittableRandom random) {
        byte[] valid = corpus.get(random.nextInt(corpus.size()));
        switch (kind) {
            case 0:
                return valid;
            case 1: { // random bytes
                byte[] b = new byte[random.nextInt(64)];
                random.nextBytes(b);
                return b;
            }
            case 2: { // flipped bytes anywhere, length prefix included
                byte[] b = valid.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            }
            case 3: { // truncated, with the length prefix fixed up so the frame looks complete
                int keep = random.nextInt(valid.length - Frames.LENGTH_BYTES) + Frames.LENGTH_BYTES;
                byte[] b = java.util.Arrays.copyOf(valid, keep);
                if (random.nextBoolean() && keep > Frames.LENGTH_BYTES) {
                    putLength(b, keep - Frames.LENGTH_BYTES);
                }
                return b;
            }
            case 4: { // forged length: zero, negative, oversized, or just off by a little
                byte[] b = valid.clone();
                int[] lengths = {0, -1, Integer.MIN_VALUE, MAX_FRAME + 1, Integer.MAX_VALUE,
                        b.length - Frames.LENGTH_BYTES + 1 + random.nextInt(8), random.nextInt()};
                putLength(b, lengths[random.nextInt(lengths.length)]);
                return b;
            }
            case 5: { // random bytes inside a correct length prefix
                byte[] body = new byte[1 + random.nextInt(128)];
                random.nextBytes(body);
                byte[] b = new byte[body.length + Frames.LENGTH_BYTES];
                putLength(b, body.length);
                System.arraycopy(body, 0, b, Frames.LENGTH_BYTES, body.length);
                return b;
            }
            default: { // a valid frame followed by a mutated one
                byte[] second = mutate(2 + random.nextInt(4), corpus, random);
                byte[] b = java.util.Arrays.copyOf(valid, valid.length + second.length);
                System.arraycopy(second, 0, b, valid.length, second.length);
                return b;
            }
        }
    }

    private static void putLength(byte[] b, int length) {
        b[0] = (byte) (length >>> 24);
        b[1] = (byte) (length >>> 16);
        b[2] = (byte) (length >>> 8);
        b[3] = (byte) length;
    }

    private static byte[] frameBytes(UnpooledByteBufAllocator alloc, RaftWire.Envelope e) {
        ByteBuf buf = Frames.encode(alloc, e, MAX_FRAME);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        return bytes;
    }
}

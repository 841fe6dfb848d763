package io.raft4j.examples.kv.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link RespRequestDecoder} as the server does, at the head of a channel pipeline (an
 * {@link EmbeddedChannel}), feeding the input in given chunks as reads from a socket would. Records
 * what came out after each chunk and how many bytes the decoder held back between reads, which is
 * the memory a client can make it keep.
 */
final class DecoderHarness {
    /**
     * @param messages      everything decoded, in order: commands and at most one protocol error
     * @param countAfter    {@code countAfter[i]}: how many of {@code messages} had come out after chunk {@code i}
     * @param heldAfter     {@code heldAfter[i]}: bytes the decoder held unread after chunk {@code i}
     * @param closeMessages what the decoder still emitted when the connection closed (must be nothing)
     */
    record Run(List<Object> messages, int[] countAfter, long[] heldAfter, List<Object> closeMessages) {
        long held() {
            return heldAfter.length == 0 ? 0 : heldAfter[heldAfter.length - 1];
        }
    }

    private DecoderHarness() {
    }

    /** Feeds {@code input} cut into chunks of {@code sizes}; any exception out of the pipeline propagates. */
    static Run run(RespLimits limits, byte[] input, int[] sizes) {
        RespRequestDecoder decoder = new RespRequestDecoder(limits);
        HeldBytes held = new HeldBytes();
        decoder.setCumulator(held);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        try {
            List<Object> messages = new ArrayList<>();
            int[] countAfter = new int[sizes.length];
            long[] heldAfter = new long[sizes.length];
            int at = 0;
            for (int i = 0; i < sizes.length; i++) {
                // A copy, as a socket read is: the decoder may keep the buffer and compact it in place.
                channel.writeInbound(Unpooled.copiedBuffer(input, at, sizes[i]));
                at += sizes[i];
                if (i > 0) {
                    heldAfter[i - 1] = held.bytes;
                }
                drain(channel, messages);
                countAfter[i] = messages.size();
            }
            // The cumulator sees what the decoder left only when the next read arrives: send an empty one.
            channel.writeInbound(Unpooled.EMPTY_BUFFER);
            if (sizes.length > 0) {
                heldAfter[sizes.length - 1] = held.bytes;
            }
            drain(channel, messages);
            // Closing runs the decoder once more over what it holds (decodeLast).
            channel.finish();
            List<Object> closeMessages = new ArrayList<>();
            drain(channel, closeMessages);
            return new Run(messages, countAfter, heldAfter, closeMessages);
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    private static void drain(EmbeddedChannel channel, List<Object> into) {
        for (Object m; (m = channel.readInbound()) != null; ) {
            into.add(m);
        }
    }

    /** Netty's usual cumulator, noting how many unread bytes the decoder left from the read before this one. */
    private static final class HeldBytes implements ByteToMessageDecoder.Cumulator {
        long bytes;

        @Override
        public ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
            bytes = cumulation.readableBytes();
            return ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
        }
    }
}

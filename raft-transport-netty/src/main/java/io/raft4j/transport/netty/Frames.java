package io.raft4j.transport.netty;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.raft4j.transport.netty.proto.RaftWire;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The framing: a 4-byte big-endian length, then that many bytes of one {@link RaftWire.Envelope}.
 * A length of 0 or above the configured maximum is invalid (see {@link FrameDecoder}).
 */
final class Frames {
    /** Bytes of the length prefix. */
    static final int LENGTH_BYTES = 4;

    private Frames() {
    }

    /**
     * Encodes {@code envelope} as one frame, length prefix included, in a buffer from {@code alloc}.
     *
     * @return the frame, or {@code null} if the envelope is larger than {@code maxFrameBytes}
     */
    static ByteBuf encode(ByteBufAllocator alloc, RaftWire.Envelope envelope, int maxFrameBytes) {
        int size = envelope.getSerializedSize();
        if (size > maxFrameBytes) {
            return null;
        }
        ByteBuf buf = alloc.ioBuffer(LENGTH_BYTES + size);
        try {
            write(buf, envelope, size);
            return buf;
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    /**
     * Appends one frame holding {@code envelope}, whose serialized size is {@code size}, to
     * {@code buf}, which must have {@code LENGTH_BYTES + size} writable bytes.
     */
    static void write(ByteBuf buf, RaftWire.Envelope envelope, int size) {
        int start = buf.writerIndex();
        buf.writeInt(size);
        int body = buf.writerIndex();
        try {
            CodedOutputStream out = buf.hasArray()
                    ? CodedOutputStream.newInstance(buf.array(), buf.arrayOffset() + body, size)
                    : CodedOutputStream.newInstance(buf.internalNioBuffer(body, size));
            envelope.writeTo(out);
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            buf.writerIndex(start);
            throw new UncheckedIOException(e);
        }
        buf.writerIndex(body + size);
    }

    /**
     * Parses the envelope in {@code frame} (its readable bytes, length prefix excluded). Byte fields
     * of the result alias {@code frame}: read them before the frame is released.
     *
     * @throws InvalidProtocolBufferException if the bytes are not an envelope
     */
    static RaftWire.Envelope parse(ByteBuf frame) throws InvalidProtocolBufferException {
        return parse(frame, frame.readerIndex(), frame.readableBytes());
    }

    /** Parses the envelope in {@code length} bytes of {@code buf} from {@code index}; see {@link #parse(ByteBuf)}. */
    static RaftWire.Envelope parse(ByteBuf buf, int index, int length) throws InvalidProtocolBufferException {
        CodedInputStream in = buf.hasArray()
                ? CodedInputStream.newInstance(buf.array(), buf.arrayOffset() + index, length)
                : CodedInputStream.newInstance(buf.nioBufferCount() == 1
                        ? buf.internalNioBuffer(index, length) : buf.nioBuffer(index, length));
        in.enableAliasing(true);
        RaftWire.Envelope envelope = RaftWire.Envelope.parser().parseFrom(in);
        in.checkLastTagWas(0);
        return envelope;
    }
}

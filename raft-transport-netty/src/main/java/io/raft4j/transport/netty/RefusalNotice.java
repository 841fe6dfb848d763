package io.raft4j.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * Why a receiver refuses a peer's frames, written back on the refused connection just before it is
 * closed. Connections carry frames one way, so without it the sender sees only its connection close
 * and the mistake (its address for a peer pointing at another node, another cluster, one node id in
 * two processes) shows only in the receiver's log. Sent only for well-formed frames the receiver
 * will not take, never for garbage (which need not be a member at all).
 *
 * <p>Format: the four bytes {@code R4JN}, a two-byte big-endian length, then that many bytes of
 * UTF-8 text (at most {@link #MAX_TEXT_BYTES}). Dialling ends of earlier versions discard whatever
 * they read, so they are unaffected.
 */
final class RefusalNotice {
    private static final byte[] MAGIC = {'R', '4', 'J', 'N'};
    private static final int HEADER_BYTES = MAGIC.length + 2;
    static final int MAX_TEXT_BYTES = 1024;

    private RefusalNotice() {
    }

    /**
     * What of a refusal is sent back: its head, up to the first {@code ": "}, which by the
     * dispatcher's wording names only what the sender itself sent (its cluster id, its sender or
     * receiver id, its version). The rest (this node's ids, its cluster id, another process's address)
     * stays in this node's log: without TLS, anyone who can connect would otherwise learn what a
     * forged frame needs.
     */
    static String gist(String reason) {
        int end = reason.indexOf(": ");
        return end < 0 ? reason : reason.substring(0, end);
    }

    static ByteBuf encode(ByteBufAllocator alloc, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, MAX_TEXT_BYTES);
        ByteBuf buf = alloc.buffer(HEADER_BYTES + length);
        buf.writeBytes(MAGIC).writeShort(length).writeBytes(text, 0, length);
        return buf;
    }

    /** Reads one notice from a dialled connection's input; bounded, whatever the peer sends. */
    static final class Reader {
        private final byte[] bytes = new byte[HEADER_BYTES + MAX_TEXT_BYTES];
        private int filled;
        private boolean done;

        /**
         * Takes what arrived (without releasing it).
         *
         * @return the reason once the whole notice arrived (once), otherwise {@code null}
         */
        String read(ByteBuf in) {
            if (done) {
                return null;
            }
            int take = Math.min(in.readableBytes(), bytes.length - filled);
            in.getBytes(in.readerIndex(), bytes, filled, take);
            filled += take;
            for (int i = 0; i < Math.min(filled, MAGIC.length); i++) {
                if (bytes[i] != MAGIC[i]) {
                    done = true;   // not a notice: ignored, as earlier versions ignore everything
                    return null;
                }
            }
            if (filled < HEADER_BYTES) {
                return null;
            }
            int length = ((bytes[4] & 0xFF) << 8) | (bytes[5] & 0xFF);
            if (length > MAX_TEXT_BYTES) {
                done = true;
                return null;
            }
            if (filled < HEADER_BYTES + length) {
                return null;
            }
            done = true;
            String text = new String(bytes, HEADER_BYTES, length, StandardCharsets.UTF_8);
            // The peer's words go into this process's log: no line breaks or escapes of its making.
            return text.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        }
    }
}

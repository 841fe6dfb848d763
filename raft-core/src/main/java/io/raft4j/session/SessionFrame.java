package io.raft4j.session;

import io.raft4j.message.Bytes;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The bytes of a command proposed to a {@link SessionStateMachine}: a marker byte ({@code 0xFE},
 * which UTF-8 text never holds, so an unframed text command is told apart), a kind byte, then for
 * a session's command its session id, sequence number and lowest unfinished sequence number, then
 * the application's command. Every field is fixed-width, so a frame is checked by its length alone.
 *
 * @param kind              {@link #PLAIN}, {@link #REGISTER} or {@link #SESSION}
 * @param session           the session's id (for {@link #SESSION})
 * @param sequence          the command's number in its session, from 1
 * @param lowestUnfinished  the session's lowest number whose result the client still waits for:
 *                          results of lower numbers may be forgotten
 * @param payload           the application's command (for {@link #PLAIN} and {@link #SESSION})
 */
record SessionFrame(byte kind, long session, long sequence, long lowestUnfinished, Bytes payload) {
    static final byte MARKER = (byte) 0xFE;
    static final byte PLAIN = 1;
    static final byte SESSION = 2;
    static final byte REGISTER = 3;
    static final int SESSION_HEADER_BYTES = 2 + 8 + 8 + 8;
    static final Bytes REGISTRATION = Bytes.wrap(new byte[]{MARKER, REGISTER});

    static Bytes plain(Bytes payload) {
        byte[] out = new byte[2 + payload.length()];
        out[0] = MARKER;
        out[1] = PLAIN;
        System.arraycopy(payload.unsafeArray(), 0, out, 2, payload.length());
        return Bytes.wrap(out);
    }

    static Bytes session(long session, long sequence, long lowestUnfinished, Bytes payload) {
        ByteBuffer out = ByteBuffer.allocate(SESSION_HEADER_BYTES + payload.length());
        out.put(MARKER).put(SESSION).putLong(session).putLong(sequence).putLong(lowestUnfinished)
                .put(payload.unsafeArray());
        return Bytes.wrap(out.array());
    }

    /**
     * Reads a frame.
     *
     * @throws IllegalArgumentException if {@code command} is not one: the same on every replica, so
     *         the state machine answers it as malformed instead of failing
     */
    static SessionFrame parse(Bytes command) {
        byte[] in = command.unsafeArray();
        if (in.length < 2 || in[0] != MARKER) {
            throw new IllegalArgumentException("not a session frame (" + in.length + " bytes"
                    + (in.length > 0 ? ", starting " + Integer.toHexString(in[0] & 0xFF) : "") + "): propose commands"
                    + " made by ClientSession or SessionStateMachine.withoutSession");
        }
        switch (in[1]) {
            case PLAIN -> {
                return new SessionFrame(PLAIN, 0, 0, 0, Bytes.wrap(Arrays.copyOfRange(in, 2, in.length)));
            }
            case REGISTER -> {
                if (in.length != 2) {
                    throw new IllegalArgumentException("a registration carries nothing, not " + (in.length - 2) + " bytes");
                }
                return new SessionFrame(REGISTER, 0, 0, 0, Bytes.EMPTY);
            }
            case SESSION -> {
                return parseSessionCommand(in);
            }
            default -> throw new IllegalArgumentException("unknown session frame kind " + in[1] + ": propose commands"
                    + " made by ClientSession or SessionStateMachine.withoutSession");
        }
    }

    private static SessionFrame parseSessionCommand(byte[] in) {
        if (in.length < SESSION_HEADER_BYTES) {
            throw new IllegalArgumentException("a session frame of " + in.length + " bytes is shorter than its "
                    + SESSION_HEADER_BYTES + "-byte header");
        }
        ByteBuffer buf = ByteBuffer.wrap(in);
        buf.position(2);
        long session = buf.getLong();
        long sequence = buf.getLong();
        long lowestUnfinished = buf.getLong();
        if (session < 1 || sequence < 1 || lowestUnfinished < 1 || lowestUnfinished > sequence) {
            throw new IllegalArgumentException("session frame numbers out of range: session " + session + ", sequence "
                    + sequence + ", lowest unfinished " + lowestUnfinished);
        }
        return new SessionFrame(SESSION, session, sequence, lowestUnfinished,
                Bytes.wrap(Arrays.copyOfRange(in, SESSION_HEADER_BYTES, in.length)));
    }
}

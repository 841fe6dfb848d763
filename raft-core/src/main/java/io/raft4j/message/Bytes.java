package io.raft4j.message;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable sequence of bytes: the payload of commands, results and snapshot chunks.
 *
 * <p>Records compare {@code byte[]} fields by reference, so payloads are wrapped in this value,
 * which compares by content. {@link #wrap(byte[])} does not copy: the caller hands the array over
 * and must not modify it afterwards. {@link #copyOf(byte[])} copies.
 */
public final class Bytes {
    /** The empty sequence. */
    public static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] bytes;

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Wraps {@code bytes} without copying; the caller must not modify the array afterwards. */
    public static Bytes wrap(byte[] bytes) {
        return bytes.length == 0 ? EMPTY : new Bytes(bytes);
    }

    /** Copies {@code bytes}. */
    public static Bytes copyOf(byte[] bytes) {
        return wrap(bytes.clone());
    }

    /** The UTF-8 encoding of {@code text}. */
    public static Bytes ofUtf8(String text) {
        return wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Number of bytes. */
    public int length() {
        return bytes.length;
    }

    /** The byte at {@code index}. */
    public byte byteAt(int index) {
        return bytes[index];
    }

    /** A fresh copy of the content. */
    public byte[] toByteArray() {
        return bytes.clone();
    }

    /**
     * The backing array, without copying, for serializers on hot paths. Callers must not modify it.
     */
    public byte[] unsafeArray() {
        return bytes;
    }

    /** The content decoded as UTF-8. */
    public String toUtf8() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "Bytes[" + bytes.length + "]";
    }
}

package io.raft4j.examples.kv.resp;

/**
 * Limits on what a client may send, checked while decoding so that an oversized request is refused
 * before it is buffered whole.
 *
 * @param maxBulkBytes    longest bulk string (one argument); Redis's default is 512 MB, ours is lower
 *                        because every value travels through the Raft log
 * @param maxArrayLength  most arguments in one command
 * @param maxInlineBytes  longest inline command (a line typed into telnet) and longest header line
 * @param maxRequestBytes most bytes of arguments in one command, all arguments together
 */
public record RespLimits(int maxBulkBytes, int maxArrayLength, int maxInlineBytes, long maxRequestBytes) {
    /** 16 MiB per argument, 1 Mi arguments, 64 KiB inline, 32 MiB per command. */
    public static final RespLimits DEFAULT = new RespLimits(16 << 20, 1 << 20, 64 << 10, 32L << 20);

    public RespLimits {
        if (maxBulkBytes < 1 || maxArrayLength < 1 || maxInlineBytes < 16 || maxRequestBytes < maxBulkBytes) {
            throw new IllegalArgumentException("implausible RESP limits: " + maxBulkBytes + ", " + maxArrayLength
                    + ", " + maxInlineBytes + ", " + maxRequestBytes);
        }
    }
}

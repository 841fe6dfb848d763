package io.raft4j.examples.kv.resp;

/**
 * Emitted by {@link RespRequestDecoder} instead of a command when the input is not valid RESP or
 * exceeds a {@link RespLimits limit}. The decoder reads nothing more from that connection; the
 * server answers {@code -ERR <message>} after the replies already due and closes it, as Redis does.
 *
 * @param message e.g. {@code "Protocol error: invalid bulk length"}
 */
public record RespProtocolError(String message) {
}

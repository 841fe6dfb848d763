package io.raft4j.transport.netty;

/**
 * A frame from the network that is not a valid message. The connection it came on is closed; the
 * frame never reaches the core. Carries no stack trace: it is an expected outcome of bad input, and
 * a flood of bad frames must stay cheap.
 */
final class MalformedFrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MalformedFrameException(String reason) {
        super(reason, null, false, false);
    }
}

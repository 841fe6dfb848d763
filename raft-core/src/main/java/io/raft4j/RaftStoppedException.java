package io.raft4j;

/** The node is stopped (closed, or failed on a storage or state-machine error). */
public class RaftStoppedException extends RaftException {
    private static final long serialVersionUID = 1L;

    public RaftStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}

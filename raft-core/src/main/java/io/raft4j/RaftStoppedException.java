package io.raft4j;

/**
 * The node is stopped (closed, removed from its group, refused by its transport at start, or
 * failed on a storage or state-machine error: then the cause is that failure or refusal), or was not
 * started yet. A proposal it had already accepted may or may not be applied by the group, as with
 * {@link IndeterminateException}; a call it had not accepted did nothing.
 */
public class RaftStoppedException extends RaftException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what stopped, for the log
     * @param cause   the failure that stopped the node, or {@code null} if it was closed or removed
     */
    public RaftStoppedException(String message, Throwable cause) {
        super(message, cause);
    }
}

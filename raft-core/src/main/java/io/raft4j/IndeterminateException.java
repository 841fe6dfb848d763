package io.raft4j;

/**
 * The node lost leadership after accepting the proposal and before it was known to be committed:
 * the command may or may not be applied. Retrying may apply it twice unless the command is
 * idempotent (see docs/clients.md). A node that stops meanwhile fails the proposal with
 * {@link RaftStoppedException} instead, which leaves the outcome just as open. For a leadership
 * transfer: the leader lost its leadership on the way and has known no leader since, so whether
 * the target leads is not known on this node.
 */
public class IndeterminateException extends RaftException {
    private static final long serialVersionUID = 1L;

    /** @param message what was lost, for the log */
    public IndeterminateException(String message) {
        super(message);
    }
}

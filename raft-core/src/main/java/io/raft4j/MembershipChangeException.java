package io.raft4j;

/**
 * A membership change or leadership transfer was refused or did not happen; the message says why
 * (another change in progress, the leader has not committed an entry of its term yet, the transfer
 * timed out or another node was elected instead, ...). The change asked for was not made; most
 * reasons are transient and the request can be retried.
 */
public class MembershipChangeException extends RaftException {
    private static final long serialVersionUID = 1L;

    public MembershipChangeException(String message) {
        super(message);
    }
}

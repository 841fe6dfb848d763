package io.raft4j.core;

/**
 * A read-index request the leader has confirmed (Raft thesis §6.4): once the state machine has
 * applied up to {@code readIndex}, the read identified by {@code requestId} may be served and is
 * linearizable.
 *
 * @param requestId the id the caller gave to {@link RaftCore#readIndex(long)}
 * @param readIndex the commit index at the time of the request
 */
public record ReadState(long requestId, long readIndex) {
}

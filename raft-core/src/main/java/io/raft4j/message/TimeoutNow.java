package io.raft4j.message;

/**
 * Sent by a leader transferring leadership (thesis §3.10) to a caught-up voter: start an election now.
 */
public record TimeoutNow(String groupId, String from, String to, long term) implements RaftMessage {
}

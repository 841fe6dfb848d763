package io.raft4j.message;

/**
 * Answer to {@link InstallSnapshot}.
 *
 * @param snapshotIndex the {@code lastIndex} of the snapshot being transferred
 * @param nextOffset    the offset the receiver expects next (all bytes before it are stored)
 * @param done          the snapshot was verified and installed
 * @param rejected      the receiver refuses this transfer (e.g. checksum mismatch); the leader
 *                      restarts it from offset 0
 */
public record InstallSnapshotResponse(String groupId, String from, String to, long term,
                                      long snapshotIndex, long nextOffset, boolean done,
                                      boolean rejected) implements RaftMessage {
}

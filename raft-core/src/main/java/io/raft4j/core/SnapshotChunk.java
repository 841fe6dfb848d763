package io.raft4j.core;

import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;

/**
 * A chunk of a snapshot received from the leader, for the driver to append to the snapshot being
 * received (a new one starts at offset 0). On the last chunk the driver publishes the snapshot,
 * verifying {@code checksum}, and reports the outcome with {@link RaftCore#snapshotReceived}.
 *
 * @param meta     what the snapshot covers
 * @param offset   where the chunk goes; 0 starts a new snapshot
 * @param data     the bytes
 * @param last     whether this completes the snapshot
 * @param checksum CRC32C of the whole content, to verify on the last chunk
 */
public record SnapshotChunk(SnapshotMeta meta, long offset, Bytes data, boolean last, long checksum) {
}

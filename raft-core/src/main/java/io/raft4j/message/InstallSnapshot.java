package io.raft4j.message;

import java.util.Objects;

/**
 * InstallSnapshot RPC (Raft Figure 13): one chunk of a snapshot streamed from the leader.
 *
 * @param meta     what the snapshot covers
 * @param offset   byte offset of {@code chunk} within the snapshot
 * @param chunk    the bytes at {@code offset}
 * @param done     whether this is the last chunk
 * @param checksum CRC32C of the whole snapshot content; checked by the receiver on the last chunk
 */
public record InstallSnapshot(String groupId, String from, String to, long term, SnapshotMeta meta,
                              long offset, Bytes chunk, boolean done, long checksum)
        implements RaftMessage {
    /** Requires {@code meta} and {@code chunk}, and an offset from 0. */
    public InstallSnapshot {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(chunk, "chunk");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset");
        }
    }

    @Override
    public long sizeBytes() {
        return 128L + chunk.length();
    }
}

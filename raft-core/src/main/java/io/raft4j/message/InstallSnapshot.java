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
 * @param bootstrapFingerprint the sender's {@link HardState#bootstrapFingerprint()}: which bootstrap of the
 *         group it belongs to; 0 if it does not know (an older sender, or a node that
 *         joined and has heard from no leader yet). A receiver that knows another one
 *         drops the message
 */
public record InstallSnapshot(String groupId, String from, String to, long term, SnapshotMeta meta,
                              long offset, Bytes chunk, boolean done, long checksum, long bootstrapFingerprint)
        implements RaftMessage {
    /** Requires {@code meta} and {@code chunk}, and an offset from 0. */
    public InstallSnapshot {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(chunk, "chunk");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset");
        }
    }

    /** Without a bootstrap fingerprint (0: not known). */
    public InstallSnapshot(String groupId, String from, String to, long term, SnapshotMeta meta, long offset,
                           Bytes chunk, boolean done, long checksum) {
        this(groupId, from, to, term, meta, offset, chunk, done, checksum, 0);
    }

    @Override
    public long sizeBytes() {
        return 128L + chunk.length();
    }
}

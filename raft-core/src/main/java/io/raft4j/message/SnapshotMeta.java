package io.raft4j.message;

import java.util.Objects;

/**
 * What a snapshot covers: the log up to and including {@code lastIndex}, and the cluster
 * configuration in force at that index (Raft Figure 12).
 *
 * @param lastIndex index of the last entry the snapshot replaces
 * @param lastTerm  term of that entry
 * @param config    the configuration as of {@code lastIndex}
 */
public record SnapshotMeta(long lastIndex, long lastTerm, ClusterConfig config) {
    public SnapshotMeta {
        if (lastIndex < 0 || lastTerm < 0) {
            throw new IllegalArgumentException("negative snapshot index or term");
        }
        Objects.requireNonNull(config, "config");
    }
}

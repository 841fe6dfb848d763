package io.raft4j.core;

/** How a leader replicates to one follower (its flow control), as reported by {@link FollowerProgress}. */
public enum ReplicationState {
    /**
     * The leader does not know where the follower's log matches its own: it sends one append at a
     * time and waits for the answer. Normal right after an election or a follower's restart;
     * lasting, it means the follower is unreachable.
     */
    PROBE,
    /** The logs match up to the match index; appends are pipelined. The steady state. */
    REPLICATE,
    /** The follower is behind the leader's log start and is being sent a snapshot. */
    SNAPSHOT
}

package io.raft4j;

/** How fresh a {@link RaftNode#query} must be. */
public enum ReadConsistency {
    /**
     * Linearizable, the default (Raft thesis §6.4, ReadIndex): the leader confirms it still leads with
     * a heartbeat round, then the node asked (the leader, or a follower that asked the leader for its
     * commit index) answers once it has applied everything committed when the query arrived. Costs
     * one round trip to a quorum (shared by all queries waiting at the time), plus one to the leader
     * on a follower.
     */
    LINEARIZABLE,
    /**
     * Linearizable while clocks behave (thesis §6.4.1): a leader that a quorum acknowledged recently
     * answers without a round trip, relying on followers not electing anyone else for an election
     * timeout. Assumes clock rates differ by less than {@code RaftConfig.leaseClockDriftPercent}: a
     * leader whose clock runs slow by more may return stale data. A leader paused in its process (a
     * long GC pause, a stopped process) does not: it counts the lease on the JVM's monotonic clock,
     * which runs on meanwhile. A whole machine suspended is another matter: that clock stops with it
     * (on Linux it does not count suspend), so a leader on a suspended machine or virtual machine may
     * not see the time it lost. Falls back to {@link #LINEARIZABLE} without a lease. On a follower,
     * the leader answers its request for the read index from its lease.
     */
    LEASE,
    /**
     * Whatever this node (leader or follower) has applied: fast, possibly stale, never ahead of the
     * committed state; successive stale reads on one node never go back in time.
     */
    STALE
}

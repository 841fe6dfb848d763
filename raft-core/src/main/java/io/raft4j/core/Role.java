package io.raft4j.core;

/** The role a node plays in its group (Raft §5.2, plus the PreVote phase of thesis §9.6). */
public enum Role {
    /** Follows a leader, or waits for one. */
    FOLLOWER,
    /** Asks whether it could win an election before disturbing anyone with a new term. */
    PRE_CANDIDATE,
    /** Campaigns for votes in a new term. */
    CANDIDATE,
    /** Leads the group for its term. */
    LEADER
}

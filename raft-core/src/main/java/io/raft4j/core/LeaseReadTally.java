package io.raft4j.core;

/**
 * How the lease reads a node took as leader went, over all its leaderships: answered from its lease,
 * or confirmed with a heartbeat round instead. A leader falls back to a round when it holds no lease
 * (before its term's first commit, after it tried a leadership transfer, with too few voters whose
 * announced windows still run: followers without check-quorum, members of an older release), or when
 * the lease ran out before the read was handed out. Operators read the split to see why lease reads
 * cost a round trip.
 */
final class LeaseReadTally {
    private long fromLease;
    private long byRound;

    void answeredFromLease() {
        fromLease++;
    }

    void confirmedByRound() {
        byRound++;
    }

    long fromLease() {
        return fromLease;
    }

    long byRound() {
        return byRound;
    }
}

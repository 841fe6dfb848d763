package io.raft4j;

import io.raft4j.core.RaftCore;
import io.raft4j.core.Role;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * Hands leadership away from a leader whose own disk hangs. Its followers' copies commit its
 * entries without it, but it applies, and so answers its callers' writes and reads, only what its
 * own log holds; and its loop runs on, sending heartbeats its followers answer, so neither their
 * election timers nor CheckQuorum ever end its leadership. Left alone, the group took no write for
 * as long as that disk hung, with a healthy majority. Once a write of its own has waited
 * {@link #ELECTION_TIMEOUTS} election timeouts while its followers committed entries its own disk
 * does not hold yet (so they form a majority without it), the leader transfers its leadership to
 * its most caught-up follower, again after each transfer that timed out.
 *
 * <p>Checked on the loop, every tick.
 */
final class DiskStallHandover {
    private static final Logger LOG = LoggerFactory.getLogger(DiskStallHandover.class);

    /**
     * How long a write must wait, in election timeouts: twice one, as long as a follower waits at
     * most (its timeout is randomised up to twice the setting) for a leader it does not hear from.
     * A disk that is merely slow, each sync well within an election timeout as the settings assume
     * (broadcast time much shorter than the election timeout), never moves leadership: with every
     * disk that slow, moving it on each sync would only add elections to slow writes.
     */
    static final int ELECTION_TIMEOUTS = 2;

    private final String nodeId;
    private final RaftCore core;
    /** How long the storage thread's write under way has lasted, in nanoseconds (0 if none). */
    private final LongSupplier writeUnderWayNanos;
    private final long limitNanos;

    DiskStallHandover(String nodeId, RaftCore core, LongSupplier writeUnderWayNanos, long electionTimeoutNanos) {
        this.nodeId = nodeId;
        this.core = core;
        this.writeUnderWayNanos = writeUnderWayNanos;
        this.limitNanos = ELECTION_TIMEOUTS * electionTimeoutNanos;
    }

    void check() {
        if (core.role() != Role.LEADER || core.transferTarget() != null) {
            return;
        }
        if (core.commitIndex() <= core.persistedIndex()) {
            // The followers commit nothing without this leader (too few of them answer): a
            // follower handed leadership could not be elected either, and the group would be left
            // with no leader, where this one still answers reads of what it applied.
            return;
        }
        long waited = writeUnderWayNanos.getAsLong();
        if (waited < limitNanos) {
            return;
        }
        String target = core.mostCaughtUpVoter();
        if (target == null) {
            return; // no follower answers: none could take over (and none commits either)
        }
        LOG.warn("{}: a write to its log has not completed for {} ms (over {} election timeouts): handing"
                + " leadership to {} so that the group goes on while this disk is stalled", nodeId,
                waited / 1_000_000, ELECTION_TIMEOUTS, target);
        core.transferLeadership(target);
    }
}

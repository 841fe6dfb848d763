package io.raft4j.sim;

import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The settings of one simulated node that decide its timing: its election timeout in its own ticks,
 * how long its ticks are, and whether it runs check-quorum. Every node of a seed shares the seed's,
 * except in the seeds with {@link #mixed} settings, as a group has during a rolling change of them.
 *
 * @param electionTicks the node's election timeout, in its ticks
 * @param tickUs        the nominal length of its ticks (its clock drifts from it)
 * @param checkQuorum   whether it runs check-quorum (and so refuses votes while it hears from a leader)
 */
record NodeTiming(int electionTicks, int tickUs, boolean checkQuorum) {

    /** The seed's settings, the same for every node. */
    static NodeTiming shared(SimParams p) {
        return new NodeTiming(p.electionTicks(), SimParams.TICK_US, p.checkQuorum());
    }

    /**
     * Settings of one node in a seed whose nodes differ: ticks of one or two of the seed's, an election
     * timeout of one to two times the seed's in them (up to four times in real time), and, where the
     * seed runs check-quorum and pre-vote (which alone keeps a removed node from disrupting elections
     * then), without check-quorum one time in three.
     */
    static NodeTiming mixed(SimParams p, SplittableRandom r) {
        int tickUs = SimParams.TICK_US * (1 + r.nextInt(2));
        int electionTicks = p.electionTicks() + r.nextInt(p.electionTicks() + 1);
        boolean checkQuorum = p.checkQuorum() && (!p.preVote() || r.nextInt(3) != 0);
        return new NodeTiming(electionTicks, tickUs, checkQuorum);
    }

    /** The nominal length of the node's election timeout. */
    long timeoutUs() {
        return (long) electionTicks * tickUs;
    }

    Duration tick() {
        return Duration.ofNanos(tickUs * 1000L);
    }
}

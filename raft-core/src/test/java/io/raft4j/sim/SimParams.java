package io.raft4j.sim;

import java.util.SplittableRandom;

/**
 * The fault and workload profile of one simulation run, drawn from its seed so that seeds explore
 * different mixes: some lossy, some partition-heavy, some crash-heavy.
 *
 * <p>Time is in simulated microseconds; a tick is {@link #TICK_US}.
 */
record SimParams(int nodes, int electionTicks, double dropRate, double duplicateRate, int maxDelayUs,
                 double longDelayRate, int maxPersistUs, double tickDrift, int faultEveryUs,
                 double crashRate, double partitionRate, double oneWayRate, int clientEveryUs,
                 double readRate, long faultPhaseUs, long healPhaseUs, boolean preVote, boolean checkQuorum,
                 int snapshotEvery, int snapshotTrailing, int snapshotChunkBytes, int snapshotFillerBytes,
                 double corruptRate, double membershipRate, int spareNodes, boolean leaseReads,
                 double crashBeforeSyncRate, double pauseRate) {

    static final int TICK_US = 1_000;
    /** The most a node's clock runs fast or slow, before a tick's own jitter. */
    static final double MAX_TICK_DRIFT = 0.2;

    static SimParams draw(long seed, int nodes) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int electionTicks = 5 + r.nextInt(6);
        boolean preVote = r.nextDouble() < 0.85;
        boolean checkQuorum = r.nextDouble() < 0.85;
        return new SimParams(
                nodes,
                electionTicks,
                r.nextDouble() < 0.3 ? 0 : r.nextDouble() * 0.15,
                r.nextDouble() * 0.05,
                50 + r.nextInt(400),
                r.nextDouble() * 0.03,
                20 + r.nextInt(300),
                r.nextDouble() * MAX_TICK_DRIFT,
                2_000 + r.nextInt(6_000),
                r.nextDouble() * 0.25,
                r.nextDouble() * 0.25,
                r.nextDouble() * 0.1,
                100 + r.nextInt(600),
                r.nextDouble() * 0.4,
                60L * electionTicks * TICK_US,
                40L * electionTicks * TICK_US,
                preVote,
                checkQuorum,
                r.nextDouble() < 0.5 ? 0 : 10 + r.nextInt(41),
                r.nextInt(21),
                32 + r.nextInt(1024),
                r.nextInt(4096),
                r.nextDouble() * 0.05,
                // A removed node that never learns of its removal disrupts elections forever unless
                // PreVote or CheckQuorum keeps it out (thesis 4.2.3): membership changes need one of them.
                r.nextDouble() < 0.6 || !(preVote || checkQuorum) ? 0 : 0.2 + r.nextDouble() * 0.4,
                2,
                r.nextBoolean(),
                // Crash a node between handing out a write and its sync: the window where an
                // acknowledgement sent too early would be a lie.
                r.nextDouble() < 0.5 ? 0 : r.nextDouble() * 0.01,
                // Pause a node (a GC pause, a stopped process): it neither ticks nor reads its messages
                // for up to three election timeouts, then goes on from where it was. Drawn last, so
                // every other parameter of a seed stays as it was.
                r.nextDouble() < 0.5 ? 0 : 0.05 + r.nextDouble() * 0.25);
    }
}

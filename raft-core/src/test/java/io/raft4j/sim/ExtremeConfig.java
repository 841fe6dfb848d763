package io.raft4j.sim;

import io.raft4j.core.RaftConfig;

import java.util.SplittableRandom;

/**
 * The smallest legal settings, for the seeds that run with them: the range the other seeds draw
 * from (election timeouts of 5 to 10 ticks, messages of hundreds of bytes, snapshots now and then)
 * never shows a protocol that only works while its limits leave it room. Here every entry is larger
 * than an append may carry (each must still go out alone), one append is in flight per follower, a
 * leader holds one uncommitted command at a time, entries are handed out for apply one by one,
 * snapshots come every few entries and are streamed a byte or a few at a time, and the election
 * timeout is the smallest the one-tick heartbeat allows: 2 ticks. That one is safe but unsteady
 * without PreVote and CheckQuorum (a follower's first tick may come right after the heartbeat that
 * reset its timer, so drawing 2 it campaigns whenever the next heartbeat comes a hair late, and
 * deposes a healthy leader unless its pre-vote is refused), which the end-of-run leader check cannot
 * tell from a stall: seeds without them run with 3 ticks.
 *
 * <p>Chosen from the seed ({@link #forSeed}) and drawn from a random stream of its own, so that
 * every other seed's run, and the rest of this seed's draws, stay as they were.
 *
 * @param snapshotEvery       a snapshot once this many entries were applied since the last
 * @param snapshotTrailing    entries kept behind a snapshot
 * @param snapshotChunkBytes  the chunk a snapshot is streamed in
 * @param snapshotFillerBytes the snapshot's size beyond its 16 bytes of state
 */
record ExtremeConfig(int snapshotEvery, int snapshotTrailing, int snapshotChunkBytes, int snapshotFillerBytes) {

    /** A command in the simulation is a decimal number: a few bytes, far below this. */
    static final long ENTRY_BYTES = 64;
    /** {@code maxMessageBytes} and {@code maxApplyBatchBytes}: below the size of any entry. */
    static final long MESSAGE_BYTES = 1;

    /** One seed in eight runs with extreme settings. */
    static ExtremeConfig forSeed(long seed) {
        if (Math.floorMod(seed, 8) != 5) {
            return null;
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        return new ExtremeConfig(
                1 + r.nextInt(4),
                r.nextInt(3),
                1 + r.nextInt(8),
                r.nextInt(64));
    }

    /** The run's profile with the smallest election timeout and these snapshots; its phases keep their lengths. */
    SimParams adjust(SimParams p) {
        int electionTicks = p.preVote() && p.checkQuorum() ? 2 : 3;
        return new SimParams(p.nodes(), electionTicks, p.dropRate(), p.duplicateRate(), p.maxDelayUs(),
                p.longDelayRate(), p.maxPersistUs(), p.tickDrift(), p.faultEveryUs(), p.crashRate(), p.partitionRate(),
                p.oneWayRate(), p.clientEveryUs(), p.readRate(), p.faultPhaseUs(), p.healPhaseUs(), p.preVote(),
                p.checkQuorum(), snapshotEvery, snapshotTrailing, snapshotChunkBytes, snapshotFillerBytes,
                p.corruptRate(), p.membershipRate(), p.spareNodes(), p.leaseReads(), p.crashBeforeSyncRate(),
                p.pauseRate());
    }

    /** Sets the extreme values on a node's settings (after the run's own, which they override). */
    RaftConfig.Builder apply(RaftConfig.Builder b) {
        return b.maxMessageBytes(MESSAGE_BYTES).maxInflightMessages(1).maxInflightBytes(MESSAGE_BYTES)
                .maxEntryBytes(ENTRY_BYTES).maxUncommittedBytes(ENTRY_BYTES).maxApplyBatchBytes(MESSAGE_BYTES)
                .snapshotTrailingEntries(snapshotTrailing).snapshotChunkBytes(snapshotChunkBytes)
                .snapshotChunksInFlight(1).promoteWithinEntries(0);
    }
}

package io.raft4j.core;

import io.raft4j.message.InstallSnapshot;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log a leader keeps after a snapshot it streams (the transfer floor) is held only while that
 * transfer can still finish. One that keeps making chunk progress but never completes (here the
 * snapshot never verifies on the follower, as with a leader snapshot file that rotted on disk after
 * it was checked at open) is never stalled, so never abandoned, and used to stop the leader from
 * compacting for ever while clients wrote (found by a second reader). A transfer starting over now
 * starts with the newest snapshot.
 */
class SnapshotTransferFloorTest {

    @Test
    void aTransferThatNeverCompletesMustNotHoldTheLeadersLogForever() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8)
                .snapshotChunksInFlight(1));
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 30);
        long streamed = c.snapshots.get(leader).latest().orElseThrow().meta().lastIndex();

        AtomicInteger budget = new AtomicInteger();
        Set<InstallSnapshot> corrupted = Collections.newSetFromMap(new IdentityHashMap<>());
        c.dropIf = m -> {
            if (!(m instanceof InstallSnapshot is) || !is.to().equals(lagging)) {
                return false;
            }
            if (corrupted.contains(is)) {
                return false;
            }
            if (budget.getAndDecrement() <= 0) {
                return true; // a slow link: a few chunks per tick
            }
            if (is.done()) {
                // The last chunk arrives, but the snapshot does not verify (checksum mismatch).
                InstallSnapshot bad = new InstallSnapshot(is.groupId(), is.from(), is.to(), is.term(), is.meta(),
                        is.offset(), is.chunk(), true, is.checksum() + 1);
                corrupted.add(bad);
                c.inFlight.addFirst(bad);
                return true;
            }
            return false;
        };
        c.restart(lagging);
        for (int round = 1; round <= 300; round++) {
            budget.set(3);
            for (int i = 0; i < 3; i++) {
                c.propose(leader, "w" + round + "-" + i);
            }
            c.tickAll(1);
            if (round % 20 == 0) {
                c.takeSnapshot(leader);
            }
        }
        RaftCore core = c.core(leader);
        long retained = core.lastIndex() - core.firstIndex() + 1;
        // 15 snapshots were taken since (one every 60 entries, trailing 0): the log should be short.
        assertTrue(core.firstIndex() > streamed + 1,
                "the leader still keeps its whole log after the snapshot at " + streamed + ": first index "
                        + core.firstIndex() + ", last " + core.lastIndex() + " (" + retained + " entries)");
    }
}

package io.raft4j.core;

import io.raft4j.message.InstallSnapshot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A transfer whose follower went silent for an election timeout restarts with the newest snapshot:
 * the follower, once back, would otherwise install the old one first and then need the new one too.
 */
class StalledSnapshotTransferTest {

    @Test
    void aTransferSilentForAnElectionTimeoutRestartsWithTheNewestSnapshot() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8)
                .snapshotChunksInFlight(1));
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 20);
        long first = c.snapshots.get(leader).latest().orElseThrow().meta().lastIndex();
        c.cut.add(lagging + ">" + leader); // the follower's answers are lost: the transfer stalls
        c.restart(lagging);
        c.tickAll(2);
        for (int i = 20; i < 40; i++) {
            c.propose(leader, "value-" + i);
        }
        c.tickAll(3);
        long newest = c.takeSnapshot(leader).lastIndex();
        assertTrue(newest > first);
        List<InstallSnapshot> sent = new ArrayList<>();
        c.dropIf = m -> {
            if (m instanceof InstallSnapshot is) {
                sent.add(is);
            }
            return false;
        };
        c.tickAll(2);
        assertEquals(first, sent.get(sent.size() - 1).meta().lastIndex(), "a stall of a heartbeat or two: same transfer");
        sent.clear();
        c.tickAll(15); // more than an election timeout without an answer
        assertTrue(sent.stream().anyMatch(is -> is.meta().lastIndex() == newest && is.offset() == 0),
                "the leader still streams snapshot " + first + " though " + newest + " exists");
        // Once the follower is heard again, it is caught up from the newest one.
        c.cut.clear();
        c.dropIf = m -> false;
        c.tickAll(30);
        assertEquals(c.core(leader).lastIndex(), c.core(lagging).lastIndex());
    }
}

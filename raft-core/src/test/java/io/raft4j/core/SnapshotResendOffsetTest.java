package io.raft4j.core;

import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leader must not trust a follower's InstallSnapshotResponse.nextOffset: the Netty decoder only
 * refuses negative values, so an offset beyond the snapshot's size can reach the leader.
 */
class SnapshotResendOffsetTest {

    @Test
    void aResendRequestBeyondTheSnapshotsEndDoesNotCrashTheLeader() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8)
                .snapshotChunksInFlight(1));
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 20);
        long size = c.snapshots.get(leader).latest().orElseThrow().sizeBytes();
        c.cut.add(lagging + ">" + leader);     // the follower's answers are lost: the transfer stays open
        List<InstallSnapshot> sent = new ArrayList<>();
        c.dropIf = m -> {
            if (m instanceof InstallSnapshot is) {
                sent.add(is);
            }
            return false;
        };
        c.restart(lagging);
        c.tickAll(2);
        assertTrue(!sent.isEmpty(), "the leader streams its snapshot");
        long index = sent.get(0).meta().lastIndex();
        RaftCore l = c.core(leader);
        InstallSnapshotResponse forged = new InstallSnapshotResponse("default", lagging, leader, l.term(), index,
                size + 1_000, false, true);
        sent.clear();
        assertDoesNotThrow(() -> {
            l.step(forged);
            c.drain(leader);
        }, "a resend request at " + (size + 1_000) + " for a snapshot of " + size + " bytes");
        c.dropIf = m -> false;
        assertTrue(sent.stream().allMatch(is -> is.offset() <= size), "chunks sent past the end: " + sent);
    }
}

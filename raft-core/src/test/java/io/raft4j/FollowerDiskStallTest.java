package io.raft4j;

import io.raft4j.core.FollowerProgress;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follower whose disk stalls: the leader goes on with the other follower, the stalled one
 * acknowledges nothing it has not written, and it catches up once its disk answers again.
 */
class FollowerDiskStallTest {

    @Test
    void aStalledFollowerAcknowledgesOnlyWhatItWroteAndCatchesUp() throws Exception {
        stalledFollower(false);
    }

    /** With its writes on its loop, the stall holds the follower's loop too: nothing else changes. */
    @Test
    void aStalledFollowerWritingOnItsLoopAcknowledgesOnlyWhatItWroteAndCatchesUp() throws Exception {
        stalledFollower(true);
    }

    private static void stalledFollower(boolean persistOnLoop) throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(LocalCluster.steadyLeader(b -> b), persistOnLoop)) {
            RaftNode<String> leader = group.awaitLeader();
            assertEquals("0", leader.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            RaftNode<String> slow = group.nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
            StallableStorage disk = group.disks.get(slow.id());
            disk.stall();

            List<CompletableFuture<String>> proposals = new ArrayList<>();
            for (int i = 1; i <= 50; i++) {
                proposals.add(leader.propose(Bytes.ofUtf8("set:" + i)));
                // Never acknowledged ahead of its disk: checked while the stream goes on.
                assertTrue(match(leader, slow.id()) <= disk.delegate.lastIndex(), "acknowledged ahead of its disk");
            }
            for (int i = 0; i < proposals.size(); i++) {
                assertEquals(String.valueOf(i + 1), proposals.get(i).get(10, TimeUnit.SECONDS),
                        "the leader stalled with its stalled follower");
            }
            // Awaited, not asserted at once: the leader and the other follower can commit all 50
            // before the stalled follower's writer has even reached its disk (seen once in CI, on a
            // loaded machine).
            LocalCluster.await(Duration.ofSeconds(10), () -> disk.waiting.get() > 0);
            assertTrue(match(leader, slow.id()) <= disk.delegate.lastIndex(), "acknowledged ahead of its disk");

            disk.release();
            long last = leader.status().lastIndex();
            LocalCluster.await(Duration.ofSeconds(10), () -> match(leader, slow.id()) >= last
                    && slow.status().appliedIndex() >= last);
            assertEquals("50", slow.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE).get(10, TimeUnit.SECONDS));
            assertTrue(leader.isLeader());
        }
    }

    private static long match(RaftNode<String> leader, String follower) {
        try {
            for (FollowerProgress f : leader.followers().get(10, TimeUnit.SECONDS)) {
                if (f.nodeId().equals(follower)) {
                    return f.matchIndex();
                }
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no progress for " + follower);
    }
}

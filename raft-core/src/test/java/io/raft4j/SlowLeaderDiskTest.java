package io.raft4j;

import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader whose every sync takes 200 ms, within its election timeout (300 ms here): writes slow
 * down, grouped many to a sync, but none fails or times out, nobody campaigns, and leadership
 * stays where it is.
 */
class SlowLeaderDiskTest {

    @Test
    void aPersistentlySlowLeaderDiskSlowsWritesWithoutFailingAnyOrMovingLeadership() throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(b -> b.electionTimeoutTicks(30))) {
            RaftNode<String> leader = group.awaitLeader();
            assertEquals("0", leader.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            List<RaftNode<String>> all = List.copyOf(group.nodes.values());
            long electionsBefore = group.electionsStartedBy(all);
            long writesBefore = leader.stats().logWrites();
            group.disks.get(leader.id()).slowEachWrite(200);

            // Five rounds of 40 concurrent writes: grouped, each round takes a sync or two, not 40.
            int n = 0;
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<String>> proposals = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    proposals.add(leader.propose(Bytes.ofUtf8("set:" + (++n))));
                }
                for (int i = 0; i < proposals.size(); i++) {
                    assertEquals(String.valueOf(n - 39 + i), proposals.get(i).get(10, TimeUnit.SECONDS));
                }
                assertEquals(String.valueOf(n), leader.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE)
                        .get(10, TimeUnit.SECONDS));
                assertEquals(String.valueOf(n), leader.query(Bytes.EMPTY, ReadConsistency.LEASE)
                        .get(10, TimeUnit.SECONDS));
            }
            assertTrue(leader.isLeader(), "leadership moved away from a disk that was slow, not stalled");
            assertEquals(electionsBefore, group.electionsStartedBy(all), "someone campaigned");
            long writes = leader.stats().logWrites() - writesBefore;
            assertTrue(writes <= 5 * 3, "not grouped: " + writes + " writes for 200 proposals");
        }
    }
}

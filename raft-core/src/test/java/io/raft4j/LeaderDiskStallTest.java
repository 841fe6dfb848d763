package io.raft4j;

import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader whose disk stalls in a three-node group. For a moment (a sync that takes less than two
 * election timeouts, then completes): its followers' copies commit its entries meanwhile, its loop
 * goes on (heartbeats, so nobody campaigns needlessly), and once the sync completes every proposal
 * completes and reads see them. For longer: it hands its leadership to a follower.
 */
class LeaderDiskStallTest {

    @Test
    void aLeaderDiskThatStallsThenCompletesLosesNothingAndKeepsItsFollowersQuiet() throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(b -> b.electionTimeoutTicks(100))) {
            RaftNode<String> leader = group.awaitLeader();
            assertEquals("0", leader.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            List<RaftNode<String>> followers = group.nodes.values().stream().filter(n -> n != leader).toList();
            long electionsBefore = group.electionsStartedBy(followers);
            long commitBefore = leader.status().commitIndex();

            StallableStorage disk = group.disks.get(leader.id());
            disk.stall();
            List<CompletableFuture<String>> proposals = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                proposals.add(leader.propose(Bytes.ofUtf8("set:" + i)));
            }
            // The followers' copies commit them while the leader's own write waits.
            LocalCluster.await(Duration.ofSeconds(10), () -> followers.stream()
                    .allMatch(f -> f.status().commitIndex() >= commitBefore + 20));
            // Awaited, as in FollowerDiskStallTest: its writer may not have reached the disk yet.
            LocalCluster.await(Duration.ofSeconds(10), () -> disk.waiting.get() > 0);
            // Stalled for a while (half its election timeout of 1 s, many heartbeat intervals): not
            // long enough to hand its leadership away, so nothing may move.
            long waitUntil = System.nanoTime() + Duration.ofMillis(500).toNanos();
            LocalCluster.await(Duration.ofSeconds(10), () -> System.nanoTime() > waitUntil);
            assertTrue(leader.isLeader(), "the leader kept its leadership while its disk stalled");
            assertEquals(electionsBefore, group.electionsStartedBy(followers),
                    "a follower campaigned: the stalled leader's heartbeats stopped");

            disk.release();
            for (int i = 0; i < proposals.size(); i++) {
                assertEquals(String.valueOf(i + 1), proposals.get(i).get(10, TimeUnit.SECONDS));
            }
            assertEquals("20", leader.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE).get(10, TimeUnit.SECONDS));
            assertEquals("20", leader.query(Bytes.EMPTY, ReadConsistency.LEASE).get(10, TimeUnit.SECONDS));
        }
    }

    /**
     * A leader whose disk hangs keeps its leadership (its loop runs, its heartbeats flow, its
     * followers answer them, so CheckQuorum is content), but it applies only what its own disk holds:
     * every write waited for as long as the disk hung, though the two followers, a majority, were
     * healthy. It hands leadership to the most caught-up follower once a write of its own has waited
     * two election timeouts.
     */
    @Test
    void aLeaderWhoseDiskHangsHandsLeadershipToAFollowerSoWritesGoOn() throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(b -> b)) {
            RaftNode<String> stalled = group.awaitLeader();
            assertEquals("0", stalled.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            group.disks.get(stalled.id()).stall();
            CompletableFuture<String> held = stalled.propose(Bytes.ofUtf8("set:1"));

            RaftNode<String>[] next = new RaftNode[1];
            LocalCluster.await(Duration.ofSeconds(10), () -> {
                for (RaftNode<String> n : group.nodes.values()) {
                    if (n != stalled && n.isLeader()) {
                        next[0] = n;
                        return true;
                    }
                }
                return false;
            }, () -> "no other leader while " + stalled.id() + "'s disk hangs: "
                    + group.nodes.values().stream().map(RaftNode::status).toList());
            assertEquals("2", LocalCluster.retryingNotLeader(() -> next[0].propose(Bytes.ofUtf8("set:2"))));
            assertNotEquals(stalled.id(), next[0].id());
            // The proposal the stalled leader held completes once its disk comes back: committed by the
            // followers' copies, it is applied there as everywhere.
            group.disks.get(stalled.id()).release();
            assertEquals("1", held.get(10, TimeUnit.SECONDS));
        }
    }

    /**
     * While the leader's disk stalls, what it holds for its callers is bounded: its entries commit
     * on the followers' copies but are applied (and their callers answered) only once its own disk
     * has them, so they count against maxUncommittedBytes until then, and a caller that goes on
     * proposing is refused as overloaded instead of filling the leader's memory.
     */
    @Test
    void whatAStalledLeaderHoldsIsBoundedByItsUncommittedBudget() throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(b -> b.electionTimeoutTicks(500)
                .maxEntryBytes(4096).maxUncommittedBytes(64 * 1024))) {
            RaftNode<String> leader = group.awaitLeader();
            assertEquals("0", leader.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            StallableStorage disk = group.disks.get(leader.id());
            disk.stall();
            String big = "x".repeat(1024);
            List<CompletableFuture<String>> accepted = new ArrayList<>();
            int refused = 0;
            for (int i = 0; i < 1000; i++) {
                CompletableFuture<String> p = leader.propose(Bytes.ofUtf8("set:" + big));
                if (p.isCompletedExceptionally()) {
                    refused++;
                } else {
                    accepted.add(p);
                }
            }
            assertTrue(refused > 0, "nothing refused while the leader's disk stalled");
            assertTrue(accepted.size() * 1024L <= 2 * 64 * 1024, accepted.size() + " accepted");
            disk.release();
            for (CompletableFuture<String> p : accepted) {
                assertEquals(big, p.get(10, TimeUnit.SECONDS));
            }
        }
    }

    /**
     * A leader whose disk hangs while one of its two followers is down: the live follower alone
     * cannot commit without it, nor be elected without its vote, so handing leadership to it only
     * left the group leaderless; kept, the leader still answers reads of what it has applied.
     */
    @Test
    void aStalledLeaderWithoutAMajorityOfFollowersKeepsItsLeadership() throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(b -> b)) {
            RaftNode<String> leader = group.awaitLeader();
            assertEquals("0", leader.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            RaftNode<String> down = group.nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
            down.close();
            group.disks.get(leader.id()).stall();
            CompletableFuture<String> held = leader.propose(Bytes.ofUtf8("set:1"));
            // Six election timeouts, three times the wait after which a stalled leader hands over.
            long waitUntil = System.nanoTime() + Duration.ofMillis(600).toNanos();
            LocalCluster.await(Duration.ofSeconds(10), () -> System.nanoTime() > waitUntil);
            assertTrue(leader.isLeader(), "handed leadership to a follower that could not win: " + group.nodes.values()
                    .stream().map(RaftNode::status).toList());
            assertEquals("0", leader.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE).get(10, TimeUnit.SECONDS));
            group.disks.get(leader.id()).release();
            assertEquals("1", held.get(10, TimeUnit.SECONDS));
        }
    }
}

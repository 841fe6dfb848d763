package io.raft4j.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classic Raft scenarios (as in the MIT 6.824 lab tests), on pure cores driven tick by tick. */
class RaftScenarioTest {


    @Test
    void initialElection() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitLeader();
        c.tickAll(30);
        assertEquals(leader, c.leader(), "leadership is stable without failures");
        for (String id : c.ids()) {
            assertEquals(leader, c.core(id).leaderId());
        }
    }

    @Test
    void reElectionAfterTheLeaderIsLost() {
        CoreCluster c = new CoreCluster(3);
        String first = c.awaitLeader();
        c.crash(first);
        c.tickAll(40);
        String second = c.leader();
        assertNotNull(second);
        assertNotEquals(first, second);
        c.restart(first);
        c.tickAll(40);
        assertEquals(Role.FOLLOWER, c.core(first).role(), "the old leader rejoins as follower");
    }

    @Test
    void noLeaderWithoutAMajority() {
        CoreCluster c = new CoreCluster(5);
        String leader = c.awaitLeader();
        int crashed = 0;
        for (String id : c.ids()) {
            if (crashed < 3) {
                c.crash(id);
                crashed++;
            }
        }
        c.tickAll(100);
        for (String id : c.ids()) {
            if (!c.down.contains(id)) {
                assertNotEquals(Role.LEADER, c.core(id).role(), "no leader with 2 of 5 up (was " + leader + ")");
            }
        }
    }

    @Test
    void agreementDespiteAFailedFollower() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitLeader();
        String follower = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.crash(follower);
        for (int i = 0; i < 5; i++) {
            c.propose(leader, "x" + i);
        }
        c.tickAll(5);
        assertEquals(5, c.applied.get(leader).size());
        c.restart(follower);
        c.tickAll(20);
        assertEquals(c.applied.get(leader), c.applied.get(follower));
    }

    @Test
    void theLeaderReportsEachFollowersProgress() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitLeader();
        List<String> followers = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).toList();
        String up = followers.get(0);
        String crashed = followers.get(1);
        c.crash(crashed);
        for (int i = 0; i < 5; i++) {
            c.propose(leader, "x" + i);
        }
        c.tickAll(30); // three election timeouts: two whole activity rounds pass without the crashed one

        long last = c.core(leader).lastIndex();
        List<FollowerProgress> seen = c.core(leader).followers();
        assertEquals(List.of(up, crashed).stream().sorted().toList(), seen.stream().map(FollowerProgress::nodeId).toList());
        FollowerProgress healthy = seen.stream().filter(f -> f.nodeId().equals(up)).findFirst().orElseThrow();
        assertEquals(new FollowerProgress(up, true, last, last + 1, ReplicationState.REPLICATE, true), healthy);
        FollowerProgress lagging = seen.stream().filter(f -> f.nodeId().equals(crashed)).findFirst().orElseThrow();
        assertTrue(lagging.matchIndex() < last - 4, "the crashed follower lags by the 5 entries: " + lagging);
        assertEquals(ReplicationState.PROBE, lagging.state());
        assertFalse(lagging.recentlyActive());
        assertEquals(List.of(), c.core(up).followers(), "only a leader reports followers");

        c.restart(crashed);
        c.tickAll(20);
        FollowerProgress caughtUp = c.core(leader).followers().stream()
                .filter(f -> f.nodeId().equals(crashed)).findFirst().orElseThrow();
        assertEquals(c.core(leader).lastIndex(), caughtUp.matchIndex());
        assertEquals(ReplicationState.REPLICATE, caughtUp.state());
        assertTrue(caughtUp.recentlyActive());
    }

    @Test
    void aSilentFollowerIsReportedInactiveWithoutCheckQuorumToo() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.checkQuorum(false));
        String leader = c.awaitLeader();
        String crashed = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.tickAll(5);
        assertTrue(c.core(leader).followers().stream().allMatch(FollowerProgress::recentlyActive));
        c.crash(crashed);
        c.tickAll(30);
        for (FollowerProgress f : c.core(leader).followers()) {
            assertEquals(!f.nodeId().equals(crashed), f.recentlyActive(), f.toString());
        }
    }

    @Test
    void noCommitWithoutAMajority() {
        CoreCluster c = new CoreCluster(5);
        String leader = c.awaitLeader();
        int crashed = 0;
        for (String id : c.ids()) {
            if (!id.equals(leader) && crashed < 3) {
                c.crash(id);
                crashed++;
            }
        }
        long commitBefore = c.core(leader).commitIndex();
        c.propose(leader, "lonely");
        c.tickAll(3);
        assertEquals(commitBefore, c.core(leader).commitIndex());
        assertTrue(c.applied.get(leader).isEmpty());
    }

    @Test
    void concurrentProposalsAreCommittedInOneOrder() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitLeader();
        for (int i = 0; i < 200; i++) {
            c.propose(leader, "p" + i);
        }
        c.deliverAll();
        c.tickAll(3);
        for (String id : c.ids()) {
            assertEquals(200, c.applied.get(id).size());
            assertEquals(c.applied.get(leader), c.applied.get(id));
        }
    }

    @Test
    void anOldPartitionedLeaderRejoinsAndItsUncommittedEntriesAreReplaced() {
        CoreCluster c = new CoreCluster(3);
        String old = c.awaitLeader();
        c.propose(old, "committed");
        c.tickAll(2);
        c.isolate(old);
        c.propose(old, "orphan-1");
        c.propose(old, "orphan-2");
        c.tickAll(40);
        String fresh = c.leader();
        assertNotEquals(old, fresh);
        c.propose(fresh, "new");
        c.tickAll(2);
        c.heal();
        c.tickAll(40);
        for (String id : c.ids()) {
            assertEquals(List.of("committed", "new"), c.applied.get(id));
        }
    }

    @Test
    void fastCatchUpOverManyDivergentEntriesTakesFewRoundTrips() {
        CoreCluster c = new CoreCluster(5);
        String first = c.awaitLeader();
        c.propose(first, "base");
        c.tickAll(2);
        // The old leader, alone, appends 60 entries that will never commit.
        c.isolate(first);
        for (int i = 0; i < 60; i++) {
            c.propose(first, "divergent-" + i);
        }
        c.tickAll(40);
        String second = c.leader();
        assertNotEquals(first, second);
        for (int i = 0; i < 60; i++) {
            c.propose(second, "good-" + i);
        }
        c.tickAll(2);
        int[] rejections = {0};
        c.dropIf = m -> {
            if (m instanceof io.raft4j.message.AppendEntriesResponse r && r.from().equals(first) && !r.success()) {
                rejections[0]++;
            }
            return false;
        };
        c.heal();
        c.tickAll(30);
        assertEquals(c.applied.get(second), c.applied.get(first));
        assertTrue(rejections[0] <= 4, "catching up took " + rejections[0] + " rejected round trips");
    }

    @Test
    void persistenceAcrossAWholeClusterRestart() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitLeader();
        for (int i = 0; i < 10; i++) {
            c.propose(leader, "v" + i);
        }
        c.tickAll(3);
        long termBefore = c.core(leader).term();
        for (String id : c.ids()) {
            c.crash(id);
        }
        for (String id : c.ids()) {
            c.restart(id);
            assertTrue(c.core(id).term() >= termBefore, "term survives a restart");
        }
        String next = c.awaitLeader();
        c.tickAll(5);
        for (String id : c.ids()) {
            assertEquals(10, c.applied.get(id).size(), "every node re-applies the committed log after restart");
        }
        assertNotNull(next);
    }

    @Test
    void agreementOnAnUnreliableNetworkWithChurn() {
        CoreCluster c = new CoreCluster(5);
        java.util.SplittableRandom random = new java.util.SplittableRandom(99);
        c.dropIf = m -> random.nextDouble() < 0.1;
        int proposed = 0;
        for (int round = 0; round < 300; round++) {
            if (round % 40 == 0) {
                String victim = c.ids()[random.nextInt(5)];
                if (c.down.contains(victim)) {
                    c.restart(victim);
                } else if (c.down.size() < 2) {
                    c.crash(victim);
                }
            }
            String leader = c.leader();
            if (leader != null && c.propose(leader, "r" + round) > 0) {
                proposed++;
            }
            c.tickAll(1);
        }
        c.dropIf = m -> false;
        for (String id : c.ids()) {
            if (c.down.contains(id)) {
                c.restart(id);
            }
        }
        c.tickAll(60);
        String leader = c.leader();
        assertNotNull(leader);
        for (String id : c.ids()) {
            assertEquals(c.applied.get(leader), c.applied.get(id));
        }
        assertTrue(c.applied.get(leader).size() > 0 && proposed > 0);
    }
}

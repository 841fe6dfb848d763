package io.raft4j.core;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lease reads in a group whose nodes run with different settings, as during a rolling change of
 * configuration: a leader's lease must end before any quorum of its followers, each by its own
 * settings, may elect another leader.
 *
 * <p>Each follower tells its leader how long it refuses votes, in real time, with every append
 * answer, and the leader's lease runs only while a quorum's windows do ({@link VoteRefusal}). Before,
 * the leader counted its lease with its own election timeout, check-quorum and tick length, and the
 * first three tests failed with "n1 answered lease read 42 at index 3, 17 ticks into its lease of 26,
 * although n2 had been elected and committed 5", "... 1 ticks into its lease of 8 ..." and "... 5
 * ticks into its lease of 8 ...".
 */
class MixedSettingsLeaseTest {

    /** A 3-node group where n1 runs {@code leaderSettings} and leads, the others the defaults but 10-tick timeouts. */
    private static CoreCluster leadByN1(UnaryOperator<RaftConfig.Builder> leaderSettings,
                                        UnaryOperator<RaftConfig.Builder> followerSettings) {
        return leadByN1(leaderSettings, followerSettings, 1);
    }

    /**
     * The same, with n1's ticks {@code followerTicksPerLeaderTick} times as long as the others'; the
     * group's time then passes in n1's ticks, the others ticking as often within each.
     */
    private static CoreCluster leadByN1(UnaryOperator<RaftConfig.Builder> leaderSettings,
                                        UnaryOperator<RaftConfig.Builder> followerSettings, int followerTicksPerLeaderTick) {
        CoreCluster c = new CoreCluster(3, 10);
        c.nodeTicks.put("n1", RaftCore.DEFAULT_TICK.multipliedBy(followerTicksPerLeaderTick));
        c.nodeTicks.put("n2", RaftCore.DEFAULT_TICK);
        c.nodeTicks.put("n3", RaftCore.DEFAULT_TICK);
        c.nodeSettings.put("n1", leaderSettings);
        c.nodeSettings.put("n2", followerSettings);
        c.nodeSettings.put("n3", followerSettings);
        for (String id : c.allIds()) {
            c.restart(id);
        }
        String first = c.awaitSettledLeader();
        if (!first.equals("n1")) {
            assertNull(c.core(first).transferLeadership("n1"));
            c.drain(first);
            c.deliverAll();
        }
        assertEquals(Role.LEADER, c.core("n1").role());
        c.tickAll(2); // a heartbeat round acknowledged: n1 holds a lease
        return c;
    }

    /** One of n1's ticks: n1 ticks once, the others {@code followerTicks} times. */
    private static void tickInLeaderTime(CoreCluster c, int followerTicks) {
        c.tick("n1");
        for (int i = 0; i < followerTicks; i++) {
            c.tick("n2");
            c.tick("n3");
        }
        c.deliverAll();
    }

    /**
     * Cuts n1 off, lets n2 and n3 elect one of them and commit a write, then asks n1 for a lease
     * read: it must not answer with the commit index it knew, which misses that write.
     */
    private static void assertNoStaleLeaseRead(CoreCluster c, boolean n2TimesOutAtOnce) {
        assertNoStaleLeaseRead(c, n2TimesOutAtOnce, 1);
    }

    private static void assertNoStaleLeaseRead(CoreCluster c, boolean n2TimesOutAtOnce, int followerTicksPerLeaderTick) {
        long oldCommit = c.core("n1").commitIndex();
        int lease = c.config("n1").leaseTicks();
        c.isolate("n1");
        if (n2TimesOutAtOnce) {
            c.campaign("n2"); // its timer ran out: it had been cut off from n1 for a while (n3 acknowledged n1's round)
        }
        String newLeader = null;
        int ticks = 0;
        for (; ticks < lease && newLeader == null; ticks++) {
            for (String id : List.of("n2", "n3")) {
                if (c.core(id).role() == Role.LEADER) {
                    newLeader = id;
                }
            }
            if (newLeader == null) {
                tickInLeaderTime(c, followerTicksPerLeaderTick);
            }
        }
        if (newLeader == null) {
            return; // no other leader within the lease: nothing a lease read could miss
        }
        long x = c.propose(newLeader, "x");
        c.deliverAll();
        assertTrue(c.core(newLeader).commitIndex() >= x, "the new leader committed x");
        assertEquals(Role.LEADER, c.core("n1").role(), "n1 heard of no new term");

        c.core("n1").readIndex(42, true);
        c.drain("n1");
        List<String> reads = c.reads.getOrDefault("n1", List.of());
        assertTrue(reads.stream().noneMatch(r -> r.equals("42@" + oldCommit)),
                "n1 answered lease read 42 at index " + oldCommit + ", " + ticks + " ticks into its lease of "
                        + lease + ", although " + newLeader + " had been elected and committed " + x + ": " + reads);
    }

    
    @Test
    void aLeaderWithALongerElectionTimeoutThanItsFollowersServesNoStaleLeaseRead() {
        assertNoStaleLeaseRead(leadByN1(b -> b.electionTimeoutTicks(30), b -> b), false);
    }

    
    @Test
    void aLeaderWhoseFollowersRunWithoutCheckQuorumServesNoStaleLeaseRead() {
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b.checkQuorum(false)), true);
    }

    /** The same election timeout in ticks everywhere, but n1's ticks four times as long: its 10 ticks are 4 s, the others' 1 s. */
    @Test
    void aLeaderWithLongerTicksThanItsFollowersServesNoStaleLeaseRead() {
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b, 4), false, 4);
    }

    /**
     * The lease shrinks to what the followers promise rather than ending: n1, with three times their
     * election timeout, still answers a lease read at once right after a round (no message needed).
     */
    @Test
    void aLeaderWithALongerElectionTimeoutStillHoldsALeaseWithinItsFollowersWindows() {
        CoreCluster c = leadByN1(b -> b.electionTimeoutTicks(30), b -> b);
        long commit = c.core("n1").commitIndex();
        c.isolate("n1"); // nothing more reaches n1: only the lease can answer
        c.core("n1").readIndex(7, true);
        c.drain("n1");
        assertEquals(List.of("7@" + commit), c.reads.getOrDefault("n1", List.of()));
        assertEquals(1, c.core("n1").leaseReadsFromLease());
        int followersLease = c.config("n2").leaseTicks();
        for (int i = 0; i < followersLease; i++) {
            c.tick("n1");
        }
        c.core("n1").readIndex(8, true);
        c.drain("n1");
        assertEquals(List.of("7@" + commit), c.reads.get("n1"),
                "n1's lease outlived its followers' windows (" + followersLease + " ticks)");
        assertEquals(1, c.core("n1").leaseReadsFromLease());
        assertEquals(1, c.core("n1").leaseReadsByRound(), "read 8 waits for a round");
    }

    /**
     * Followers whose ticks are four times as long as the leader's (400 ms against 100 ms), with a
     * 3-tick election timeout: they announce 1.2 s, but one that ticks right after taking an append
     * refuses votes for two of its ticks only, 800 ms. The leader counted 1.2 s less its drift bound
     * and one of its own ticks, 900 ms, so n3 voted n2 in while n1's lease ran.
     */
    @Test
    void aLeaderWithShorterTicksThanItsFollowersServesNoStaleLeaseRead() {
        CoreCluster c = leadByN1(b -> b.electionTimeoutTicks(30), b -> b.electionTimeoutTicks(3));
        c.nodeTicks.put("n2", RaftCore.DEFAULT_TICK.multipliedBy(4));
        c.nodeTicks.put("n3", RaftCore.DEFAULT_TICK.multipliedBy(4));
        for (String id : List.of("n2", "n3")) {
            c.restart(id);
        }
        c.tickAll(6); // n2 and n3 back as n1's followers, on their longer ticks
        assertEquals(Role.LEADER, c.core("n1").role());
        c.tick("n1"); // a heartbeat round, acknowledged at once
        c.deliverAll();
        long oldCommit = c.core("n1").commitIndex();
        c.isolate("n1");
        int leaderTicks = 0;
        for (int followerTick = 0; followerTick < 2 && c.core("n2").role() != Role.LEADER; followerTick++) {
            c.tick("n2"); // the followers' first tick right after the append, then one every four of n1's
            c.tick("n3");
            c.deliverAll();
            for (int i = 0; i < 4; i++, leaderTicks++) {
                c.tick("n1");
            }
        }
        c.tick("n3"); // n3's third tick since the append: its election timeout ran out, it votes again
        c.deliverAll();
        if (leaderOf(c, "n2", "n3") == null) {
            c.campaign("n2"); // n2, cut off from n1 for a while too, times out now
        }
        String newLeader = leaderOf(c, "n2", "n3");
        assertNotNull(newLeader, "n2 and n3 elected one of them once n3's window had passed");
        long x = c.propose(newLeader, "x");
        c.deliverAll();
        assertTrue(c.core(newLeader).commitIndex() >= x, "the new leader committed x");

        c.core("n1").readIndex(42, true);
        c.drain("n1");
        List<String> reads = c.reads.getOrDefault("n1", List.of());
        assertTrue(reads.stream().noneMatch(r -> r.equals("42@" + oldCommit)),
                "n1 answered lease read 42 at index " + oldCommit + ", " + leaderTicks
                        + " ticks after the round its followers acknowledged, although " + newLeader
                        + " had been elected and committed " + x + ": " + reads);
    }

    /**
     * The restart gap of a rolling change: n2 runs a 30-tick timeout and acknowledges n1's round (a
     * 2.9 s window), then is restarted with a 10-tick one as n1 is cut off. n3, on 10 ticks, voted
     * again after 9; n2 refused votes for its new timeout from its start only, then voted n3 in
     * while n1's lease, resting on n2's old window, still ran (the test failed with "n1 answered lease
     * read 42 at index 3, 18 ticks into its lease of 26, although n3 had been elected and committed
     * 5"). n2 now keeps the window with its term and vote, and refuses for it after the restart.
     */
    @Test
    void aFollowerRestartedWithAShorterTimeoutKeepsTheWindowItAnnounced() {
        CoreCluster c = leadByN1(b -> b.electionTimeoutTicks(30), b -> b);
        c.nodeSettings.put("n2", b -> b.electionTimeoutTicks(30));
        c.restart("n2");
        c.tickAll(40); // n2 back on 30 ticks, past any refusal from its restart, following n1
        assertEquals(Role.LEADER, c.core("n1").role());
        c.tick("n1"); // a round, acknowledged at once: n2 announces 2.9 s
        c.deliverAll();

        c.nodeSettings.put("n2", b -> b);
        c.restart("n2");
        assertNoStaleLeaseRead(c, false);

        // The window ran out: n2 votes and campaigns again, and the group elects a leader.
        for (int i = 0; i < 40 && leaderOf(c, "n2", "n3") == null; i++) {
            c.tick("n2");
            c.tick("n3");
            c.deliverAll();
        }
        assertNotNull(leaderOf(c, "n2", "n3"), "n2 and n3 elect a leader once n2's old window has passed");
    }

    /**
     * The whole group restarted at once with a third of its timeout: every node first waits out the
     * 2.9 s window it stored (none votes, none campaigns), then they elect a leader within a few of
     * their new timeouts, though all their timers ran out during the wait.
     */
    @Test
    void aGroupRestartedWholeWithShorterTimeoutsElectsOnceTheStoredWindowsPassed() {
        CoreCluster c = leadByN1(b -> b.electionTimeoutTicks(30), b -> b.electionTimeoutTicks(30));
        for (String id : c.allIds()) {
            c.nodeSettings.put(id, b -> b);
            c.restart(id);
        }
        int ticks = 0;
        for (; ticks < 80 && c.leader() == null; ticks++) {
            c.tickAll(1);
        }
        assertTrue(ticks >= 29, "elected after " + ticks + " ticks, within the 2.9 s windows the nodes stored");
        assertNotNull(c.leader(), "no leader 80 ticks after the restart (the windows end at 30, timeouts are 10)");
    }

    /**
     * A whole group restarted at once on shorter timeouts: each node holds its campaign back for the
     * window it stored, and the random part of its election timeout must still tell them apart once
     * that has run out. It did not: every node's timeout had passed long before, so all three
     * campaigned at the tick the window ended and split the vote, each time, losing an election
     * timeout (the test failed with "seed 10: elections started until n1 led ==> expected: <1> but was: <5>").
     */
    @Test
    void aGroupRestartedAtOnceOnShorterTimeoutsDoesNotSplitItsFirstVote() {
        for (long seed = 10; seed <= 50; seed += 10) {
            CoreCluster c = new CoreCluster(3, 30, b -> b, seed);
            c.awaitSettledLeader();
            for (String id : c.allIds()) {
                c.nodeSettings.put(id, b -> b.electionTimeoutTicks(10));
                c.restart(id);
            }
            String leader = c.awaitLeader();
            long elections = 0;
            for (String id : c.allIds()) {
                elections += c.core(id).electionsStarted();
            }
            assertEquals(1, elections, "seed " + seed + ": elections started until " + leader + " led");
        }
    }

    private static String leaderOf(CoreCluster c, String... ids) {
        for (String id : ids) {
            if (c.core(id).role() == Role.LEADER) {
                return id;
            }
        }
        return null;
    }

    /** The same cluster with every node on the defaults: the lease holds (the check of the two tests above). */
    @Test
    void withTheSameSettingsEverywhereTheLeaseHolds() {
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b), false);
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b), true);
    }
}

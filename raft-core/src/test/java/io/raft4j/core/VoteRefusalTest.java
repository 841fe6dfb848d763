package io.raft4j.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What a node tells its leader of its vote refusal, and what a leader's lease counts of it. */
class VoteRefusalTest {
    private static RaftConfig.Builder node() {
        return RaftConfig.builder("n1");
    }

    @Test
    void aNodeRefusesForItsElectionTimeoutInRealTimeOnlyWithCheckQuorum() {
        // Its election timeout less its first tick, which may come right after the append.
        assertEquals(900_000, new VoteRefusal(node().build(), 100_000).windowMicros());
        assertEquals(2_900_000, new VoteRefusal(node().electionTimeoutTicks(30).build(), 100_000).windowMicros());
        assertEquals(450_000, new VoteRefusal(node().build(), 50_000).windowMicros());
        assertEquals(0, new VoteRefusal(node().checkQuorum(false).build(), 100_000).windowMicros());
    }

    @Test
    void aFollowerWithTheLeadersSettingsGivesExactlyTheLeadersOwnLease() {
        for (int timeout : new int[] {2, 3, 7, 10, 33, 1000}) {
            for (int drift : new int[] {0, 10, 33, 50}) {
                for (long tick : new long[] {1, 1000, 100_000, 86_400_000_000L}) {
                    RaftConfig c = node().electionTimeoutTicks(timeout).heartbeatIntervalTicks(1)
                            .leaseClockDriftPercent(drift).build();
                    VoteRefusal same = new VoteRefusal(c, tick);
                    assertEquals(c.leaseTicks(), same.leaseTicksOf(same.windowMicros()),
                            "timeout " + timeout + ", drift " + drift + "%, tick " + tick + " µs");
                }
            }
        }
    }

    @Test
    void aLeaderCountsAFollowersWindowInItsOwnWholeTicksLessDrift() {
        VoteRefusal leader = new VoteRefusal(node().electionTimeoutTicks(30).build(), 100_000); // lease 26 ticks
        assertEquals(8, leader.leaseTicksOf(900_000));   // 900 ms: 810 ms after drift, 8 whole ticks
        assertEquals(4, leader.leaseTicksOf(450_000));   // 450 ms: 405 ms, 4 ticks
        // A follower on 400 ms ticks with a 3-tick timeout refuses for 800 ms at least: 7 ticks.
        assertEquals(7, leader.leaseTicksOf(new VoteRefusal(node().electionTimeoutTicks(3).build(), 400_000)
                .windowMicros()));
        assertEquals(26, leader.leaseTicksOf(10_000_000)); // never beyond its own lease
        assertEquals(0, leader.leaseTicksOf(0));         // a follower without check-quorum, or an older one
        assertEquals(0, leader.leaseTicksOf(-5));
        assertEquals(26, leader.leaseTicksOf(Long.MAX_VALUE)); // no overflow
        assertEquals(0, new VoteRefusal(node().checkQuorum(false).build(), 100_000).leaseTicksOf(1_000_000));
    }

    @Test
    void theTickLengthMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new VoteRefusal(node().build(), 0));
    }
}

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
        assertEquals(1_000_000, new VoteRefusal(node().build(), 100_000).windowMicros());
        assertEquals(3_000_000, new VoteRefusal(node().electionTimeoutTicks(30).build(), 100_000).windowMicros());
        assertEquals(500_000, new VoteRefusal(node().build(), 50_000).windowMicros());
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
    void aLeaderCountsAFollowersWindowInItsOwnTicksLessDriftAndATick() {
        VoteRefusal leader = new VoteRefusal(node().electionTimeoutTicks(30).build(), 100_000); // lease 26 ticks
        assertEquals(8, leader.leaseTicksOf(1_000_000)); // 1 s: 900 ms after drift, 9 ticks, less one
        assertEquals(3, leader.leaseTicksOf(500_000));   // 450 ms: 4 ticks, less one
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

package io.raft4j.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A voter counts how long it has been without a leader (it warns every ten election timeouts). */
class LeaderlessWarningTest {

    @Test
    void aCutOffVoterCountsTheTimeWithoutALeaderUntilItHearsOneAgain() {
        CoreCluster c = new CoreCluster(3, 10);
        String leader = c.awaitLeader();
        String follower = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.tickAll(3);
        assertEquals(0, c.core(follower).ticksWithoutLeader());

        c.isolate(follower);
        c.tickAll(RaftCore.LEADERLESS_WARNING_TIMEOUTS * 10 + 40);
        long without = c.core(follower).ticksWithoutLeader();
        assertTrue(without >= RaftCore.LEADERLESS_WARNING_TIMEOUTS * 10, "counted " + without + " ticks");
        assertEquals(0, c.core(leader).ticksWithoutLeader(), "the leader knows one: itself");

        c.heal();
        c.tickAll(30);
        assertEquals(0, c.core(follower).ticksWithoutLeader());
    }
}

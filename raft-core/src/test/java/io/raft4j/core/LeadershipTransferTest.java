package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.Bytes;
import io.raft4j.message.TimeoutNow;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Leadership transfer (thesis §3.10) on pure cores. */
class LeadershipTransferTest {


    private static String otherThan(CoreCluster c, String id) {
        return c.allIds().stream().filter(x -> !x.equals(id)).findFirst().orElseThrow();
    }

    @Test
    void transferToACaughtUpVoterHandsLeadershipOver() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String target = otherThan(c, leader);
        long term = c.core(leader).term();
        assertNull(c.core(leader).transferLeadership(target));
        c.drain(leader);
        c.deliverAll();
        assertEquals(target, c.leader());
        assertEquals(term + 1, c.core(target).term());
        assertEquals(Role.FOLLOWER, c.core(leader).role());
    }

    @Test
    void transferBringsALaggingTargetUpToDateBeforeTimeoutNow() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String target = otherThan(c, leader);
        c.dropIf = m -> m instanceof AppendEntries a && a.to().equals(target) && !a.entries().isEmpty();
        for (int i = 0; i < 5; i++) {
            c.propose(leader, "v" + i);
        }
        c.tickAll(2);
        long[] targetLastAtTimeoutNow = {-1};
        c.dropIf = m -> {
            if (m instanceof TimeoutNow) {
                targetLastAtTimeoutNow[0] = c.core(target).lastIndex();
            }
            return false;
        };
        assertNull(c.core(leader).transferLeadership(target));
        c.drain(leader);
        c.deliverAll();
        c.tickAll(3);
        assertEquals(target, c.leader());
        assertTrue(targetLastAtTimeoutNow[0] >= 7, "TimeoutNow only once the target had the whole log");
    }

    @Test
    void leaderRefusesProposalsDuringATransfer() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String target = otherThan(c, leader);
        c.cut.add(leader + ">" + target); // the transfer cannot complete yet
        assertNull(c.core(leader).transferLeadership(target));
        assertEquals(target, c.core(leader).transferTarget());
        assertEquals(0, c.core(leader).propose(Bytes.ofUtf8("refused")));
    }

    @Test
    void transferThatTimesOutLeavesTheLeaderLeadingAndTakingProposals() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String target = otherThan(c, leader);
        c.crash(target);
        assertNull(c.core(leader).transferLeadership(target));
        c.tickAll(25);
        assertEquals(leader, c.leader());
        assertNull(c.core(leader).transferTarget(), "the transfer was given up");
        assertTrue(c.core(leader).propose(Bytes.ofUtf8("accepted again")) > 0);
    }

    @Test
    void transferToANonVoterOrItselfIsRefused() {
        CoreCluster c = new CoreCluster(3);
        c.addJoiningNode("n9");
        String leader = c.awaitSettledLeader();
        assertTrue(c.core(leader).transferLeadership("n9").contains("not a voter"));
        assertTrue(c.core(leader).transferLeadership(leader).contains("already"));
        assertTrue(c.core(otherThan(c, leader)).transferLeadership(leader).contains("not the leader"));
    }
}

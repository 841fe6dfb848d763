package io.raft4j.core;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lease reads in a group whose nodes run with different settings, as during a rolling change of
 * configuration: a leader's lease must end before any quorum of its followers, each by its own
 * settings, may elect another leader.
 *
 * <p>It does not: the leader counts its lease with its own election timeout and check-quorum, and no
 * message tells it its followers'. The first two tests show the stale reads that follow; they are
 * disabled, the limit documented (docs/configuration.md, "Changing settings one node at a time"),
 * until followers advertise what the lease needs. Enabled, they fail with "n1 answered lease read 42
 * at index 3, 17 ticks into its lease of 26, although n2 had been elected and committed 5" and
 * "... 1 ticks into its lease of 8 ...".
 */
class MixedSettingsLeaseTest {

    /** A 3-node group where n1 runs {@code leaderSettings} and leads, the others the defaults but 10-tick timeouts. */
    private static CoreCluster leadByN1(UnaryOperator<RaftConfig.Builder> leaderSettings,
                                        UnaryOperator<RaftConfig.Builder> followerSettings) {
        CoreCluster c = new CoreCluster(3, 10);
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

    /**
     * Cuts n1 off, lets n2 and n3 elect one of them and commit a write, then asks n1 for a lease
     * read: it must not answer with the commit index it knew, which misses that write.
     */
    private static void assertNoStaleLeaseRead(CoreCluster c, boolean n2TimesOutAtOnce) {
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
                c.tickAll(1);
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

    @Disabled("design limit: followers do not tell the leader their election timeout")
    @Test
    void aLeaderWithALongerElectionTimeoutThanItsFollowersServesNoStaleLeaseRead() {
        assertNoStaleLeaseRead(leadByN1(b -> b.electionTimeoutTicks(30), b -> b), false);
    }

    @Disabled("design limit: followers do not tell the leader they run without check-quorum")
    @Test
    void aLeaderWhoseFollowersRunWithoutCheckQuorumServesNoStaleLeaseRead() {
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b.checkQuorum(false)), true);
    }

    /** The same cluster with every node on the defaults: the lease holds (the check of the two tests above). */
    @Test
    void withTheSameSettingsEverywhereTheLeaseHolds() {
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b), false);
        assertNoStaleLeaseRead(leadByN1(b -> b, b -> b), true);
    }
}

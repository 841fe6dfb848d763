package io.raft4j.core;

import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Linearizable reads served by followers (thesis §6.4): the leader confirms, the follower serves. */
class FollowerReadTest {

    private static String follower(CoreCluster c, String leader) {
        return c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    }

    private static List<String> readsOf(CoreCluster c, String id) {
        return c.reads.getOrDefault(id, List.of());
    }

    @Test
    void aFollowerGetsTheLeadersCommitIndexOnlyAfterTheLeaderConfirmedItsLeadership() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String follower = follower(c, leader);
        for (int i = 0; i < 5; i++) {
            c.propose(leader, "w" + i);
        }
        c.deliverAll();
        long commit = c.core(leader).commitIndex();

        // The leader answers only after a heartbeat round that a quorum acknowledged: not while
        // the acknowledgements are lost.
        List<String> confirmations = new java.util.ArrayList<>();
        c.dropIf = m -> {
            if (m instanceof ReadIndexResponse r) {
                confirmations.add(r.from() + ":" + r.readIndex());
            }
            return m instanceof AppendEntriesResponse;
        };
        assertTrue(c.core(follower).readIndex(1, false));
        c.drain(follower);
        c.deliverAll();
        assertEquals(List.of(), confirmations);
        assertEquals(List.of(), readsOf(c, follower));

        c.dropIf = m -> {
            if (m instanceof ReadIndexResponse r) {
                confirmations.add(r.from() + ":" + r.readIndex());
            }
            return false;
        };
        c.tick(leader); // the next heartbeat round
        c.deliverAll();
        assertEquals(List.of(leader + ":" + commit), confirmations);
        assertEquals(List.of("1@" + commit), readsOf(c, follower));
    }

    @Test
    void aReadWhoseLeaderDoesNotAnswerIsAbandonedAfterAnElectionTimeout() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String follower = follower(c, leader);
        c.dropIf = m -> m instanceof ReadIndexRequest;
        assertTrue(c.core(follower).readIndex(7, false));
        c.drain(follower);
        c.deliverAll();
        for (int i = 0; i < c.config(follower).electionTimeoutTicks() - 1; i++) {
            c.tick(follower);
        }
        assertEquals(List.of(), readsOf(c, follower), "still waiting, within an election timeout");
        c.tick(follower);
        assertEquals(List.of("7 abandoned"), readsOf(c, follower));
    }

    /**
     * A follower answered with a read index beyond what it has committed hands the read out only
     * once it has committed that far, waiting while it receives the entries; but if its commit index
     * stands still for an election timeout (cut off from the leader right after the answer) it gives
     * the read up, rather than keep its caller waiting until the partition heals.
     */
    @Test
    void anAnsweredReadWaitsForTheEntriesUpToItsIndexButNotForEver() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String follower = follower(c, leader);
        c.dropIf = m -> m.to().equals(follower) && m instanceof io.raft4j.message.AppendEntries ae
                && !ae.entries().isEmpty(); // heartbeats (and the read's round) pass, entries do not
        c.propose(leader, "w");
        c.deliverAll();
        long commit = c.core(leader).commitIndex();
        assertTrue(c.core(follower).commitIndex() < commit);

        assertTrue(c.core(follower).readIndex(1, false));
        c.drain(follower);
        c.deliverAll();
        c.tick(leader); // the round that confirms it
        c.deliverAll();
        int timeout = c.config(follower).electionTimeoutTicks();
        for (int i = 0; i < timeout - 1; i++) {
            c.tick(follower);
        }
        assertEquals(List.of(), readsOf(c, follower), "answered, but " + commit + " is not committed here yet");
        c.dropIf = m -> false;
        c.tick(leader);
        c.deliverAll();
        assertEquals(commit, c.core(follower).commitIndex());
        assertEquals(List.of("1@" + commit), readsOf(c, follower));

        c.dropIf = m -> m.to().equals(follower) && m instanceof io.raft4j.message.AppendEntries ae
                && !ae.entries().isEmpty();
        c.propose(leader, "x");
        c.deliverAll();
        assertTrue(c.core(follower).readIndex(2, false));
        c.drain(follower);
        c.deliverAll();
        c.tick(leader);
        c.deliverAll();
        c.dropIf = m -> m.to().equals(follower) || m.from().equals(follower); // cut off after the answer
        for (int i = 0; i < timeout - 1; i++) {
            c.tick(follower);
        }
        assertEquals(List.of("1@" + commit), readsOf(c, follower), "within an election timeout: still waiting");
        c.tick(follower);
        assertEquals(List.of("1@" + commit, "2 abandoned"), readsOf(c, follower));
    }

    @Test
    void aReadAskedOfANodeThatNoLongerLeadsIsRefusedAndAbandoned() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String follower = follower(c, leader);
        // Leadership moves to the third node while the follower hears nothing, so it still names the old leader.
        String other = c.allIds().stream().filter(id -> !id.equals(leader) && !id.equals(follower)).findFirst().orElseThrow();
        c.dropIf = m -> m.to().equals(follower) || m.from().equals(follower);
        assertEquals(null, c.core(leader).transferLeadership(other));
        c.drain(leader);
        c.deliverAll();
        assertEquals(Role.LEADER, c.core(other).role());
        assertEquals(Role.FOLLOWER, c.core(leader).role());
        assertEquals(leader, c.core(follower).leaderId(), "the follower has not heard of the new term");

        c.dropIf = m -> false;
        assertTrue(c.core(follower).readIndex(3, false));
        c.drain(follower);
        c.deliverAll();
        assertEquals("3 abandoned", readsOf(c, follower).get(0));
    }

    @Test
    void aFollowerWithoutALeaderRefusesAndIdsMustBePositive() {
        CoreCluster c = new CoreCluster(3);
        String candidate = c.allIds().get(0);
        assertFalse(c.core(candidate).readIndex(1, false), "no leader known yet");
        String leader = c.awaitSettledLeader();
        assertThrows(IllegalArgumentException.class, () -> c.core(leader).readIndex(0, false));
    }

    @Test
    void followersReadsAndTheLeadersOwnAreConfirmedTogether() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.propose(leader, "w");
        c.deliverAll();
        long commit = c.core(leader).commitIndex();
        for (String id : c.allIds()) {
            assertTrue(c.core(id).readIndex(id.equals(leader) ? 100 : 200, false));
            c.drain(id);
        }
        c.deliverAll();
        for (String id : c.allIds()) {
            assertEquals(List.of((id.equals(leader) ? 100 : 200) + "@" + commit), readsOf(c, id));
        }
    }
}

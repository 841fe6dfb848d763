package io.raft4j.core;

import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a leader's pending reads end when they cannot be confirmed, or when the leadership ends right
 * after confirming them: every caller hears back, none waits for ever.
 */
class LeaderReadEndingTest {

    private static List<String> readsOf(CoreCluster c, String id) {
        return c.reads.getOrDefault(id, List.of());
    }

    @Test
    void aLeaderWithoutCheckQuorumGivesItsOwnAndFollowersReadsUpAfterAnElectionTimeout() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.checkQuorum(false));
        String leader = c.awaitSettledLeader();
        String follower = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        // The leader keeps sending but hears nothing back: it cannot confirm, and without
        // CheckQuorum it never steps down.
        c.dropIf = m -> m instanceof AppendEntriesResponse;
        assertTrue(c.core(leader).readIndex(1, false));
        c.drain(leader);
        assertTrue(c.core(follower).readIndex(2, false));
        c.drain(follower);
        c.deliverAll();

        int timeout = c.config(leader).electionTimeoutTicks();
        for (int i = 0; i < timeout - 1; i++) {
            c.tick(leader);
            c.deliverAll();
        }
        assertEquals(List.of(), readsOf(c, leader), "still waiting, within an election timeout");
        assertEquals(List.of(), readsOf(c, follower));
        c.tick(leader);
        c.deliverAll();
        assertEquals(Role.LEADER, c.core(leader).role(), "it still leads, as far as it knows");
        assertEquals(List.of("1 abandoned"), readsOf(c, leader));
        assertEquals(List.of("2 abandoned"), readsOf(c, follower),
                "the follower is refused at once rather than left to its own timeout");

        // Once the leader hears from its quorum again, reads are confirmed as before.
        c.dropIf = m -> false;
        assertTrue(c.core(leader).readIndex(3, false));
        c.drain(leader);
        c.deliverAll();
        assertEquals("3@" + c.core(leader).commitIndex(), readsOf(c, leader).get(1));
    }

    @Test
    void readsWaitingForTheNewLeadersFirstCommitAreGivenUpToo() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.checkQuorum(false));
        // Elected, but its no-op is never acknowledged: reads wait for a commit in its term.
        c.dropIf = m -> m instanceof AppendEntriesResponse;
        String leader = c.awaitLeader();
        assertTrue(c.core(leader).commitIndex() < c.core(leader).lastIndex(), "its no-op is not committed");
        assertTrue(c.core(leader).readIndex(9, false));
        c.drain(leader);
        for (int i = 0; i < c.config(leader).electionTimeoutTicks(); i++) {
            c.tick(leader);
            c.deliverAll();
        }
        assertEquals(List.of("9 abandoned"), readsOf(c, leader));
    }

    @Test
    void readsConfirmedJustBeforeTheLeadershipEndsAreStillAnswered() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        long commit = c.core(leader).commitIndex();
        assertTrue(c.core(leader).readIndex(4, false));
        c.drain(leader);
        // The followers answer the heartbeat round...
        List<RaftMessage> heartbeats = new ArrayList<>(c.inFlight);
        c.inFlight.clear();
        for (RaftMessage m : heartbeats) {
            c.core(m.to()).step(m);
            c.drain(m.to());
        }
        List<RaftMessage> answers = new ArrayList<>(c.inFlight);
        c.inFlight.clear();
        // ...and the leader steps the answers, then, in the same batch, a message of a newer term.
        RaftCore core = c.core(leader);
        for (RaftMessage m : answers) {
            core.step(m);
        }
        AppendEntriesResponse newer = (AppendEntriesResponse) answers.get(0);
        core.step(new AppendEntriesResponse(newer.groupId(), newer.from(), leader, core.term() + 1, false,
                0, 0, 0, 0, 0));
        assertEquals(Role.FOLLOWER, core.role());
        c.drain(leader);
        assertEquals(List.of("4@" + commit), readsOf(c, leader),
                "confirmed while it led, so still linearizable: answered, not lost");
    }
}

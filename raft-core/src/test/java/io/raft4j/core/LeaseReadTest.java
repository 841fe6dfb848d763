package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.message.TimeoutNow;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lease reads (thesis §6.4.1) and the vote quarantine after a restart that keeps them safe. */
class LeaseReadTest {

    private static List<ReadState> readNow(CoreCluster c, String leader, long id, boolean lease) {
        c.core(leader).readIndex(id, lease);
        return c.core(leader).ready().readStates();
    }

    @Test
    void leaderWithALeaseAnswersWithoutAHeartbeatRound() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.tickAll(2); // a heartbeat round acknowledged by a quorum
        List<ReadState> states = readNow(c, leader, 1, true);
        assertEquals(1, states.size(), "answered in the same batch, no round trip");
        assertEquals(c.core(leader).commitIndex(), states.get(0).readIndex());
        assertTrue(readNow(c, leader, 2, false).isEmpty(), "a linearizable read still waits for a round");
    }

    @Test
    void leaseExpiresWithoutAcknowledgementsAndReadsFallBackToReadIndex() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.tickAll(2);
        for (String id : c.allIds()) {
            if (!id.equals(leader)) {
                c.cut.add(id + ">" + leader);   // the leader hears nothing back
            }
        }
        for (int i = 0; i < c.config(leader).leaseTicks(); i++) {
            c.tick(leader);
            c.deliverAll();
        }
        assertTrue(readNow(c, leader, 1, true).isEmpty(), "no lease left: the read waits for a quorum round");
    }

    /**
     * A leader that stalled (its ticks were not delivered) learns from its clock that the lease's time
     * has passed: lease reads then wait for a round, although no tick counted that time.
     */
    @Test
    void timeTheClockSawPassEndsTheLeaseWithoutTicks() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.tickAll(2);
        RaftCore core = c.core(leader);
        core.observeTime(core.ticks() - 5); // a clock behind the ticks changes nothing
        assertEquals(1, readNow(c, leader, 1, true).size());
        core.observeTime(core.ticks() + c.config(leader).leaseTicks());
        core.readIndex(2, true);
        assertTrue(core.hasReady());
        Ready rd = core.ready();
        assertTrue(rd.readStates().isEmpty(), "the lease ran out in real time: the read waits for a round");
        rd.messages().forEach(c.inFlight::add);
        c.deliverAll();
        assertTrue(c.reads.get(leader).stream().anyMatch(r -> r.startsWith("2@")), "confirmed by the round");
        assertEquals(1, readNow(c, leader, 3, true).size(), "and the round's acknowledgement renewed the lease");
    }

    /**
     * The lease is checked against the clock read after the read's index was taken (before the
     * ready that hands the read out): a stall between the two, which the earlier reading cannot
     * show, must not let the read through on a lease that ran out meanwhile.
     */
    @Test
    void aLeaseReadIsCheckedAgainstTheClockReadAfterItsIndex() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.tickAll(2);
        RaftCore core = c.core(leader);
        core.readIndex(1, true); // the lease held at the last reading of the clock
        core.observeTime(core.ticks() + c.config(leader).leaseTicks()); // read just before ready()
        Ready rd = core.ready();
        assertTrue(rd.readStates().isEmpty(), "the lease ran out before the clock was read again: a round decides");
        rd.messages().forEach(c.inFlight::add);
        c.deliverAll();
        assertTrue(c.reads.get(leader).stream().anyMatch(r -> r.startsWith("1@")), "confirmed by the round");
    }

    /**
     * The lease clock is the larger of the ticks delivered and the clock's last reading, never more.
     * It used to count every tick on top of the reading: after a stall (ticks behind the clock), a
     * tick that came before the clock reached its next whole tick put the lease clock a tick ahead
     * of real time. A heartbeat round started then was dated a tick late, and if the leader stalled
     * again its lease outlived {@code leaseTicks} of real time by up to that tick, the margin that
     * covers the followers' tick rounding, while they were free to elect another leader.
     */
    @Test
    void aTickAfterAReadingOfTheClockDoesNotRunTheLeaseClockAheadOfIt() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.tickAll(2);
        RaftCore core = c.core(leader);
        int lease = c.config(leader).leaseTicks();
        long stalledUntil = core.ticks() + 20; // its clock saw 20 ticks pass that its loop did not tick
        core.observeTime(stalledUntil);        // real time now: in [stalledUntil, stalledUntil + 1)
        c.tick(leader);                        // before the clock reaches stalledUntil + 1: it starts a round then
        c.deliverAll();                        // a quorum acknowledges the round: the lease is renewed from its start

        core.observeTime(stalledUntil + lease); // stalled again: real time now in [stalledUntil + lease, + lease + 1)
        core.readIndex(43, true);
        Ready rd = core.ready();
        assertTrue(rd.readStates().isEmpty(), "up to a tick more than the lease may have passed since the round"
                + " started: the read must wait for a round, not be answered at once: " + rd.readStates());
    }

    @Test
    void noLeaseWithoutCheckQuorum() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.checkQuorum(false));
        String leader = c.awaitSettledLeader();
        c.tickAll(2);
        assertEquals(0, c.config(leader).leaseTicks());
        assertTrue(readNow(c, leader, 1, true).isEmpty());
    }

    @Test
    void leadershipTransferEndsTheLease() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        c.tickAll(2);
        String target = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.cut.add(leader + ">" + target);
        c.core(leader).transferLeadership(target);
        assertTrue(readNow(c, leader, 1, true).isEmpty(), "the target may be elected before the lease would end");
    }

    @Test
    void restartedNodeRefusesVotesForAnElectionTimeout() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String follower = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.crash(follower);
        c.restart(follower);
        long term = c.core(follower).term();
        c.core(follower).step(new RequestVote("default", leader, follower, term + 1,
                c.core(follower).lastIndex(), c.core(follower).termAt(c.core(follower).lastIndex()), false, false));
        assertEquals(term, c.core(follower).term(), "a just restarted node ignores vote requests");
        assertTrue(c.core(follower).ready().messagesAfterPersist().isEmpty());
        for (int i = 0; i < 20; i++) {
            c.core(follower).tick();
        }
        c.core(follower).ready();
        c.core(follower).step(new RequestVote("default", leader, follower, term + 5,
                c.core(follower).lastIndex(), c.core(follower).termAt(c.core(follower).lastIndex()), false, false));
        assertNotEquals(term, c.core(follower).term(), "after an election timeout it votes again");
    }


    /**
     * Voters grant a transfer's vote request even while they just heard from the leader, so a
     * TimeoutNow delayed past the transfer's timeout can still elect the target at any moment. The
     * lease used to be ended once when the transfer started and then renewed by the heartbeats
     * acknowledged meanwhile: after the transfer gave up, the old leader answered a lease read that
     * missed a write the new leader had committed (found in review). Now a leader that tried a
     * transfer trusts no lease for the rest of its term.
     */
    @Test
    void leaseReadAfterAnAbandonedTransferDoesNotMissANewLeadersWrite() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String target = c.allIds().stream().filter(x -> !x.equals(leader)).findFirst().orElseThrow();
        List<RaftMessage> held = new ArrayList<>();
        c.dropIf = m -> m instanceof TimeoutNow && held.add(m);   // delayed, not lost
        assertNull(c.core(leader).transferLeadership(target));
        c.drain(leader);
        c.deliverAll();
        assertEquals(1, held.size());
        c.tickAll(10);                                             // the transfer times out
        assertNull(c.core(leader).transferTarget());
        assertEquals(Role.LEADER, c.core(leader).role());
        long oldCommit = c.core(leader).commitIndex();

        c.isolate(leader);                                         // from now on the old leader hears nothing
        c.dropIf = m -> false;
        c.core(target).step(held.get(0));                          // the delayed TimeoutNow arrives
        c.drain(target);
        c.deliverAll();
        assertEquals(Role.LEADER, c.core(target).role(), "the target won with the third node's vote");
        long x = c.propose(target, "x");
        c.deliverAll();
        assertTrue(c.core(target).commitIndex() >= x, "the new leader committed x");

        assertTrue(c.core(leader).readIndex(42, true));
        c.drain(leader);
        List<String> reads = c.reads.getOrDefault(leader, List.of());
        assertTrue(reads.stream().noneMatch(r -> r.equals("42@" + oldCommit)),
                "old leader answered lease read 42 at index " + oldCommit + " although " + x
                        + " was committed by the new leader: " + reads);
    }

    /**
     * A follower that heard from its leader lately refuses votes, and leases rely on it. It used to
     * stop refusing as soon as it learned of a newer term from a message that names no leader (here
     * the answer to an append it sent as a former leader, delayed in the network, from a node that
     * campaigned meanwhile): it dropped its leader and granted the next vote request of that term at
     * once, so another node was elected and committed while the leader still held its lease.
     */
    @Test
    void aNewerTermFromANonLeaderDoesNotEndAFollowersRefusalToVote() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.preVote(false));
        String former = c.awaitSettledLeader();
        List<String> others = c.allIds().stream().filter(x -> !x.equals(former)).toList();
        String leader = others.get(0);
        String campaigner = others.get(1);
        List<RaftMessage> heldAppend = new ArrayList<>();
        c.dropIf = m -> heldAppend.isEmpty() && m instanceof AppendEntries && m.from().equals(former)
                && m.to().equals(campaigner) && heldAppend.add(m); // delayed, not lost
        c.tick(former);
        c.deliverAll();
        assertEquals(1, heldAppend.size());
        c.dropIf = m -> false;
        assertNull(c.core(former).transferLeadership(leader));
        c.drain(former);
        c.deliverAll();
        assertEquals(Role.LEADER, c.core(leader).role());
        c.tickAll(2); // the new leader holds a lease: the former one, now its follower, acknowledged a round

        // The campaigner is cut off from the leader and campaigns; its vote request to the former
        // leader is delayed too.
        c.cut.add(leader + ">" + campaigner);
        c.cut.add(campaigner + ">" + leader);
        List<RaftMessage> heldVote = new ArrayList<>();
        c.dropIf = m -> m instanceof RequestVote rv && !rv.preVote() && m.to().equals(former) && heldVote.add(m);
        long leaderTerm = c.core(leader).term();
        for (int i = 0; i < 40 && c.core(campaigner).term() == leaderTerm; i++) {
            c.tickAll(1); // the leader's heartbeats keep its lease fresh meanwhile
        }
        assertEquals(1, heldVote.size(), "the campaigner asked for the former leader's vote");
        c.dropIf = m -> false;
        long oldCommit = c.core(leader).commitIndex();

        c.isolate(leader); // from now on the leader hears nothing: it cannot learn of the newer term
        c.core(campaigner).step(heldAppend.get(0)); // the old append: answered with the newer term
        c.drain(campaigner);
        c.deliverAll();
        c.core(former).step(heldVote.get(0));
        c.drain(former);
        c.deliverAll();
        if (c.core(campaigner).role() == Role.LEADER) {
            long x = c.propose(campaigner, "x");
            c.deliverAll();
            assertTrue(c.core(campaigner).commitIndex() >= x);
        }
        assertTrue(c.core(leader).readIndex(42, true));
        c.drain(leader);
        List<String> reads = c.reads.getOrDefault(leader, List.of());
        assertTrue(c.core(campaigner).role() != Role.LEADER || reads.stream().noneMatch(r -> r.equals("42@" + oldCommit)),
                "the leader answered lease read 42 at index " + oldCommit + " although " + campaigner
                        + " was elected in term " + c.core(campaigner).term() + " and committed: " + reads);
    }
}

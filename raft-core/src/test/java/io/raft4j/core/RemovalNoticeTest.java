package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader keeps a member it removes reachable, and keeps telling it, until it surely knows of its
 * removal: lost notices, a member lagging behind, removed twice, moved, or leaving through a joint
 * configuration (cases a second reader found the first version of this wrong on).
 */
class RemovalNoticeTest {

    /** Gives every member an address (a membership change), committed; returns them. */
    private static Map<String, String> giveAddresses(CoreCluster c, String leader) {
        Map<String, String> addresses = new HashMap<>();
        c.allIds().forEach(id -> addresses.put(id, "127.0.0.1:" + (7000 + id.charAt(1))));
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(addresses)).accepted());
        c.tickAll(3);
        return addresses;
    }

    /** Starts removing two followers at once (a joint configuration); returns one of them. */
    private static String removeTwoVoters(CoreCluster c, String leader, Map<String, String> addresses) {
        List<String> others = c.allIds().stream().filter(id -> !id.equals(leader)).toList();
        Map<String, String> target = new HashMap<>(addresses);
        target.remove(others.get(0));
        target.remove(others.get(1));
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(target)).accepted());
        return others.get(0);
    }

    /** Delivers only the queued messages {@code which} selects (and what they produce), leaving the rest queued in order. */
    private static void deliverOnly(CoreCluster c, Predicate<RaftMessage> which) {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Iterator<RaftMessage> it = c.inFlight.iterator(); it.hasNext(); ) {
                RaftMessage m = it.next();
                if (which.test(m)) {
                    it.remove();
                    c.core(m.to()).step(m);
                    c.drain(m.to());
                    progress = true;
                    break;
                }
            }
        }
    }

    /**
     * The member being removed lags one entry behind (one append in flight at a time): the first
     * message carrying a commit index that covers its removal also carries the entries up to it, and
     * is lost. The next heartbeat carries min(commit, match) below the removal; the member acknowledges
     * that round and the leader forgets it, though it was never told.
     */
    @Test
    void aRemovedMemberThatLagsIsForgottenOnAnAcknowledgedHeartbeatThatDidNotCoverItsRemoval() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxInflightMessages(1));
        String leader = c.awaitSettledLeader();
        String victim = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        String other = c.allIds().stream().filter(id -> !id.equals(leader) && !id.equals(victim)).findFirst().orElseThrow();
        Map<String, String> addresses = giveAddresses(c, leader);

        c.propose(leader, "x");             // in flight to both followers
        addresses.remove(victim);
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(addresses)).accepted());
        c.drain(leader);
        long configIndex = c.core(leader).configIndex();
        // The remaining member answers first: the removal commits while the victim still holds "x" in flight.
        deliverOnly(c, m -> !m.to().equals(victim) && !m.from().equals(victim));
        assertTrue(c.core(leader).commitIndex() >= configIndex);

        boolean[] dropped = {false};
        c.dropIf = m -> {
            if (!dropped[0] && m.to().equals(victim) && m instanceof AppendEntries ae
                    && ae.leaderCommit() >= configIndex) {
                dropped[0] = true; // the first message that would tell it: lost (as in MembershipRulesTest)
                return true;
            }
            return false;
        };
        c.deliverAll();
        assertTrue(dropped[0], "the covering append was sent and lost");

        // Well within the grace period (an election timeout, 10 heartbeats): the leader must keep the
        // victim until it was told, so the victim knows whenever the leader has stopped tracking it.
        for (int i = 0; i < 5; i++) {
            c.tickAll(1);
            boolean tracked = c.core(leader).followers().stream().anyMatch(f -> f.nodeId().equals(victim));
            if (!tracked) {
                assertTrue(c.core(victim).commitIndex() >= configIndex, "forgotten after " + (i + 1)
                        + " heartbeats while the victim's commit index is " + c.core(victim).commitIndex()
                        + " < " + configIndex + " (never sent to it again)");
            }
        }
        c.tickAll(30);

        assertTrue(c.core(victim).isRemoved(), "the removed member learned of its removal (leader tracks: "
                + c.core(leader).followers() + ", peers " + c.core(leader).peerAddresses() + ")");
    }

    /**
     * A member removed while it lags: it answers every message, but the network (one tick a hop)
     * and one append in flight at a time leave it more round trips behind its removal than an
     * election timeout has ticks. The leader forgot it an election timeout after the removal
     * committed, though it answered all along: told nothing more, it never learned of its removal
     * and never stopped (a runtime test's removed node, slowed by a loaded machine, failed to stop
     * within 10 s so). Only a member that does not answer for an election timeout may be forgotten
     * untold.
     */
    @Test
    void aRemovedMemberThatAnswersIsToldHoweverLongItTakesToCatchUp() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxInflightMessages(1).maxMessageBytes(64).snapshotChunkBytes(4096));
        String leader = c.awaitSettledLeader();
        String victim = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        Map<String, String> addresses = giveAddresses(c, leader);

        c.isolate(victim);
        for (int i = 0; i < 40; i++) {
            c.propose(leader, "w" + i);
            c.deliverAll();
        }
        addresses.remove(victim);
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(addresses)).accepted());
        c.drain(leader);
        c.deliverAll();
        long configIndex = c.core(leader).configIndex();
        assertTrue(c.core(leader).commitIndex() >= configIndex, "the removal committed without the victim");

        c.heal();
        // Every message takes a tick to arrive: what a message produces leaves at the next tick.
        for (int t = 0; t < 400 && !c.core(victim).isRemoved(); t++) {
            for (String id : c.allIds()) {
                c.tick(id);
            }
            List<RaftMessage> arriving = new java.util.ArrayList<>(c.inFlight);
            c.inFlight.clear();
            for (RaftMessage m : arriving) {
                c.core(m.to()).step(m);
                c.drain(m.to());
            }
        }
        assertTrue(c.core(victim).isRemoved(), "the removed member, answering all along, learned of its removal"
                + " (its commit index " + c.core(victim).commitIndex() + ", the removal at " + configIndex
                + "; the leader tracks " + c.core(leader).followers() + ")");
    }

    /**
     * A member removed, added back at a new address before the leader forgot it, then removed again:
     * the leader keeps telling the transport its first address.
     */
    @Test
    void aMemberRemovedAgainIsReachedAtItsCurrentAddressNotTheOneItHadWhenFirstRemoved() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String victim = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        Map<String, String> addresses = giveAddresses(c, leader);

        c.isolate(victim); // it does not answer for a moment: the leader keeps tracking it
        Map<String, String> without = new HashMap<>(addresses);
        without.remove(victim);
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(without)).accepted());
        c.tickAll(2);
        assertTrue(c.core(leader).commitIndex() >= c.core(leader).configIndex());

        Map<String, String> moved = new HashMap<>(addresses);
        moved.put(victim, "10.0.0.99:9999"); // it comes back on another host
        var change = c.core(leader).changeMembership(ClusterConfig.ofVoters(moved));
        assertTrue(change.accepted(), String.valueOf(change));
        c.drain(leader);
        assertEquals("10.0.0.99:9999", c.core(leader).peerAddresses().get(victim));
        c.heal();
        c.tickAll(4);
        assertTrue(c.core(leader).commitIndex() >= c.core(leader).configIndex());
        assertTrue(c.core(leader).clusterConfig().isMember(victim));

        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(without)).accepted());
        c.drain(leader);
        assertEquals("10.0.0.99:9999", c.core(leader).peerAddresses().get(victim),
                "the member being removed is told at the address it has now");
    }

    /**
     * Removed, added back before the leader forgot it, removed again: the notice round of the first
     * removal is kept, so the second is forgotten as soon as a covering commit was merely sent.
     */
    @Test
    void aSecondRemovalWaitsForItsOwnNoticeToBeAcknowledged() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String victim = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        Map<String, String> addresses = giveAddresses(c, leader);

        c.isolate(victim);
        Map<String, String> without = new HashMap<>(addresses);
        without.remove(victim);
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(without)).accepted());
        c.tickAll(3);
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(addresses)).accepted());
        c.heal();
        c.tickAll(4);
        assertTrue(c.core(leader).clusterConfig().isMember(victim));
        assertTrue(c.core(leader).commitIndex() >= c.core(leader).configIndex());

        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(without)).accepted());
        long configIndex = c.core(leader).configIndex();
        c.drain(leader);
        boolean[] dropped = {false};
        c.dropIf = m -> {
            if (!dropped[0] && m.to().equals(victim) && m instanceof AppendEntries ae && ae.leaderCommit() >= configIndex) {
                dropped[0] = true;
                return true;
            }
            return false;
        };
        c.deliverAll();
        assertTrue(dropped[0]);
        assertTrue(c.core(leader).followers().stream().noneMatch(f -> f.nodeId().equals(victim))
                        ? c.core(victim).commitIndex() >= configIndex : true,
                "forgotten on a notice only sent (lost); victim commit " + c.core(victim).commitIndex() + " < " + configIndex);
        c.tickAll(5);
        assertTrue(c.core(victim).isRemoved(), "the removed member learned of its removal");
    }

    /** RaftCore.peerAddresses promises the same instance until the addresses change (RaftNode relies on it per batch). */
    @Test
    void peerAddressesIsTheSameInstanceWhileNothingChangesEvenWhileARemovedMemberIsTracked() {
        CoreCluster c = new CoreCluster(3);
        String leader = c.awaitSettledLeader();
        String victim = c.allIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        Map<String, String> addresses = giveAddresses(c, leader);
        c.isolate(victim);
        addresses.remove(victim);
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(addresses)).accepted());
        c.tickAll(2);
        Map<String, String> before = c.core(leader).peerAddresses();
        assertTrue(before.containsKey(victim));
        c.propose(leader, "y");
        c.deliverAll();
        Map<String, String> after = c.core(leader).peerAddresses();
        assertEquals(before, after);
        org.junit.jupiter.api.Assertions.assertSame(before, after, "a new map per batch");
    }

    /**
     * Two voters removed at once go through a joint configuration, whose addresses are the target's:
     * the outgoing voters (still voting in C_old,new) and then the members being removed are missing
     * from peerAddresses.
     */
    @Test
    void membersLeavingThroughAJointConfigurationKeepTheirAddresses() {
        CoreCluster c = new CoreCluster(4);
        String leader = c.awaitSettledLeader();
        Map<String, String> addresses = giveAddresses(c, leader);
        String v1 = removeTwoVoters(c, leader, addresses);
        c.drain(leader);
        assertTrue(c.core(leader).clusterConfig().isJoint());
        assertTrue(c.core(leader).clusterConfig().isMember(v1));
        assertEquals(addresses.get(v1), c.core(leader).peerAddresses().get(v1),
                "a voter of the joint configuration (its old half) is reachable");
    }

    /**
     * A transfer without a target goes to a voter that stays: during a joint configuration the
     * voters being removed still vote, and as caught up as the others (here all equally), one of them
     * was picked, to lead for the moment until its own removal.
     */
    @Test
    void aTransferWithoutTargetDuringAJointConfigurationPicksAVoterThatStays() {
        CoreCluster c = new CoreCluster(4);
        String leader = c.awaitSettledLeader();
        Map<String, String> addresses = giveAddresses(c, leader);
        removeTwoVoters(c, leader, addresses);
        c.drain(leader);
        ClusterConfig joint = c.core(leader).clusterConfig();
        assertTrue(joint.isJoint());
        String picked = c.core(leader).mostCaughtUpVoter();
        assertTrue(joint.voters().contains(picked) && !picked.equals(leader),
                picked + " picked, not a voter of the incoming half " + joint.voters());
    }

    @Test
    void membersRemovedByLeavingAJointConfigurationAreToldAtTheirAddress() {
        CoreCluster c = new CoreCluster(4);
        String leader = c.awaitSettledLeader();
        Map<String, String> addresses = giveAddresses(c, leader);
        String v1 = removeTwoVoters(c, leader, addresses);
        // Until C_new is appended (the joint one committed).
        for (int i = 0; i < 10 && (c.core(leader).clusterConfig().isJoint()); i++) {
            c.drain(leader);
            c.deliverAll();
        }
        assertTrue(!c.core(leader).clusterConfig().isJoint());
        assertTrue(c.core(leader).followers().stream().anyMatch(f -> f.nodeId().equals(v1)), "still tracked");
        assertEquals(addresses.get(v1), c.core(leader).peerAddresses().get(v1),
                "a member being removed that the leader still tracks is reachable");
    }
}

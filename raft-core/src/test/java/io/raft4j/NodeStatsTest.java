package io.raft4j;

import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RaftNode#stats()}: what a node counts of its own work, as an operator reads it. */
class NodeStatsTest {

    @Test
    void aNodeCountsItsElectionsWritesAppliesReadsAndSnapshots() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            RaftNode<String> leader = cluster.awaitLeader();
            awaitOwnWritesCounted(leader); // its first entry of the term may still be syncing
            NodeStats before = leader.stats();
            assertTrue(before.electionsStarted() >= 1, "it campaigned to lead: " + before);
            assertEquals(1, before.termsLed(), "one leadership so far");

            int commands = 20;
            long payload = 0;
            for (int i = 0; i < commands; i++) {
                Bytes command = Bytes.ofUtf8("write-" + i);
                payload += command.length();
                leader.propose(command).get(5, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 3; i++) {
                leader.query(Bytes.EMPTY).get(5, TimeUnit.SECONDS);
            }
            leader.takeSnapshot().get(5, TimeUnit.SECONDS);
            assertEquals(1, leader.stats().snapshotsTaken(), "counted before the snapshot's future completes");

            awaitOwnWritesCounted(leader); // followers' acknowledgements may commit before its own write ends
            NodeStats after = leader.stats();
            assertEquals(commands, after.proposalsAccepted() - before.proposalsAccepted());
            assertEquals(commands, after.commandsApplied() - before.commandsApplied(),
                    "counted before each proposal's future completes");
            assertEquals(3, after.readsServed() - before.readsServed());
            assertTrue(after.logWrites() > before.logWrites() && after.logWrites() <= before.logWrites() + commands,
                    "each write one group of appends: " + after);
            assertTrue(after.entriesWritten() - before.entriesWritten() >= commands);
            assertTrue(after.bytesWritten() - before.bytesWritten() >= payload);
            assertTrue(after.maxLogWriteNanos() > 0 && after.logWriteNanos() >= after.maxLogWriteNanos());
            assertTrue(after.meanLogWriteMicros() > 0);
            assertEquals(0, after.readsGivenUp());

            for (RaftNode<String> node : cluster.nodes.values()) {
                LocalCluster.await(Duration.ofSeconds(5), () -> node.stats().commandsApplied() == commands);
                if (node != leader) {
                    assertEquals(0, node.stats().proposalsAccepted(), "followers accept no proposals");
                    assertEquals(0, node.stats().termsLed());
                    assertTrue(node.stats().entriesWritten() >= commands, "followers write what they replicate");
                }
            }
        }
    }

    /**
     * A leader counts the lease reads it answered from its lease (those it confirmed by a round are
     * counted too: MixedSettingsLeaseTest); followers, whose lease reads their leader answers, count none.
     */
    @Test
    void aLeaderCountsLeaseReadsFromItsLeaseAndThoseConfirmedByARound() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            RaftNode<String> leader = cluster.awaitLeader();
            leader.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS); // a commit of its term: leases may start
            LocalCluster.await(Duration.ofSeconds(10), () -> {
                try {
                    leader.query(Bytes.EMPTY, ReadConsistency.LEASE).get(5, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                return leader.stats().leaseReadsFromLease() > 0;
            }, () -> "no lease read answered from the lease: " + leader.stats());
            for (RaftNode<String> node : cluster.nodes.values()) {
                if (node != leader) {
                    assertEquals(0, node.stats().leaseReadsFromLease() + node.stats().leaseReadsByRound(),
                            "followers count none: their leader does");
                }
            }
        }
    }

    /** Until every entry of the leader's log is counted as written (it never truncates its own log). */
    private static void awaitOwnWritesCounted(RaftNode<String> leader) {
        LocalCluster.await(Duration.ofSeconds(5), () -> leader.stats().entriesWritten() == leader.status().lastIndex());
    }

    /**
     * Admin calls the node refuses at once because of the group's state (not the leader, a transfer
     * or a change under way, the core's checks) are counted, as refused proposals and reads are: an
     * operator's tool retrying them shows up in the stats, not only in its own errors.
     */
    @Test
    void adminCallsRefusedAtOnceAreCounted() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            RaftNode<String> leader = cluster.awaitLeader();
            RaftNode<String> follower = cluster.awaitFollowerOf(leader);
            assertRefused(follower.removeMember(leader.id()));
            assertRefused(follower.addLearner("n9", ""));
            assertRefused(follower.transferLeadership(leader.id()));
            assertRefused(follower.transferLeadership());
            assertEquals(2, follower.stats().membershipChangesRefused(), "not the leader");
            assertEquals(2, follower.stats().leadershipTransfersRefused(), "not the leader");

            assertRefused(leader.transferLeadership(leader.id()));   // already the leader
            assertRefused(leader.transferLeadership("n9"));          // not a voter
            assertEquals(2, leader.stats().leadershipTransfersRefused());
            assertEquals(0, leader.stats().membershipChangesRefused());
            // Bad input is the caller's to see, not the group's state: not counted.
            ExecutionException bad = assertThrows(ExecutionException.class,
                    () -> leader.transferLeadership("").get(5, TimeUnit.SECONDS));
            assertTrue(bad.getCause() instanceof IllegalArgumentException, "refused: " + bad.getCause());
            assertEquals(2, leader.stats().leadershipTransfersRefused());
        }
    }

    private static void assertRefused(java.util.concurrent.CompletableFuture<?> call) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof NotLeaderException || e.getCause() instanceof MembershipChangeException,
                "refused: " + e.getCause());
    }

    @Test
    void aReadThatCannotBeConfirmedIsCountedAsGivenUp() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            RaftNode<String> leader = cluster.awaitLeader();
            RaftNode<String> follower = cluster.awaitFollowerOf(leader);
            cluster.network.isolate(follower.id());
            assertThrows(ExecutionException.class, () -> follower.query(Bytes.EMPTY).get(10, TimeUnit.SECONDS));
            assertEquals(1, follower.stats().readsGivenUp());
            assertEquals(0, follower.stats().readsServed());
        }
    }

    /**
     * The applier publishes its index as it goes, the loop the commit and last index at the end of
     * its batch: read together they must still say what is true, never applied past committed.
     */
    @Test
    void statusNeverShowsMoreAppliedThanCommittedOrLogged() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            RaftNode<String> leader = cluster.awaitLeader();
            for (int i = 0; i < 300; i++) {
                leader.propose(Bytes.ofUtf8("write-" + i)).get(5, TimeUnit.SECONDS);
                for (RaftNode<String> node : cluster.nodes.values()) {
                    NodeStatus s = node.status();
                    assertTrue(s.appliedIndex() <= s.commitIndex() && s.commitIndex() <= s.lastIndex(), s.toString());
                }
            }
        }
    }
}

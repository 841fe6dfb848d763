package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Membership changes and leadership transfer through the runtime's API. */
class MembershipRuntimeTest {
    /**
     * Three nodes whose leader stays put ({@link LocalCluster#STEADY_LEADER_ELECTION_TICKS}): each test
     * here makes its calls on the node it found leading and needs that node to take them, a change to
     * commit under the leader it was asked of. With 100 ms, beside busy loops, leadership moved
     * mid-test: a self-removal failed "node n1 lost leadership before the outcome was known" 0.6 s in,
     * addVoter and propose "node n1 is not the leader; leader unknown".
     */
    private static LocalCluster steadyCluster(UnaryOperator<RaftConfig.Builder> settings) {
        return new LocalCluster(3, LocalCluster.steadyLeader(settings));
    }

    private static LocalCluster steadyCluster() {
        return steadyCluster(b -> b);
    }

    @Test
    void addVoterJoinsAFreshNodeAsLearnerThenPromotesIt() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            for (int i = 0; i < 50; i++) {
                leader.propose(Bytes.ofUtf8("before-" + i)).get(5, TimeUnit.SECONDS);
            }
            cluster.startJoining("n4");
            ClusterConfig config = leader.addVoter("n4", "").get(10, TimeUnit.SECONDS);
            assertEquals(Set.of("n1", "n2", "n3", "n4"), config.voters());
            assertEquals(Set.of(), config.learners());
            leader.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS);
            LocalCluster.await(Duration.ofSeconds(10), () -> cluster.stateMachines.get("n4").applied.size() == 51);
            assertEquals(cluster.stateMachines.get(leader.id()).applied, cluster.stateMachines.get("n4").applied);
        }
    }

    @Test
    void addVoterRetriedAfterBeingCutOffGoesOnFromWhereItStopped() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            cluster.startJoining("n4");
            // What a call cut off between its two steps leaves behind: n4 a learner.
            leader.addLearner("n4", "").get(10, TimeUnit.SECONDS);
            ClusterConfig config = leader.addVoter("n4", "").get(10, TimeUnit.SECONDS);
            assertEquals(Set.of("n1", "n2", "n3", "n4"), config.voters());
            assertEquals(Set.of(), config.learners());
            // Retried once more after it finished: nothing left to do.
            assertEquals(config.voters(), leader.addVoter("n4", "").get(10, TimeUnit.SECONDS).voters());
            // The same id at another address is another node: refused.
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> leader.addVoter("n4", "elsewhere:1").get(10, TimeUnit.SECONDS));
            assertInstanceOf(MembershipChangeException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("already a member"), e.getCause().getMessage());
        }
    }

    @Test
    void aNodeThatNeverAnswersIsNotPromoted() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            // "ghost" is never started. The log is short, so "within promoteWithinEntries of the
            // end" alone held for a match index of 0: it was promoted at once, and with one more
            // node down the cluster lost its quorum.
            CompletableFuture<ClusterConfig> addVoter = leader.addVoter("ghost", "");
            LocalCluster.await(Duration.ofSeconds(5), () -> leader.status().config().learners().contains("ghost"));
            for (int i = 0; i < 5; i++) {
                leader.propose(Bytes.ofUtf8("meanwhile-" + i)).get(5, TimeUnit.SECONDS);
            }
            assertTrue(!addVoter.isDone(), "promoted a node that never answered: " + addVoter);
            assertEquals(Set.of("n1", "n2", "n3"), leader.status().config().voters());
        }
    }

    /** Found by an operator: the call waited its caller's whole timeout for a learner no longer there. */
    @Test
    void addVoterFailsWhenTheLearnerIsRemovedWhileItCatchesUp() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            CompletableFuture<ClusterConfig> adding = leader.addVoter("n9", "");    // no such node: never catches up
            LocalCluster.await(Duration.ofSeconds(5), () -> leader.status().config().learners().contains("n9")
                    && leader.status().commitIndex() == leader.status().lastIndex());   // the addition committed
            leader.removeMember("n9").get(5, TimeUnit.SECONDS);
            ExecutionException e = assertThrows(ExecutionException.class, () -> adding.get(5, TimeUnit.SECONDS));
            assertInstanceOf(MembershipChangeException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("removed while it caught up"), e.getCause().getMessage());
        }
    }

    /**
     * A change that makes two voters learners needs a joint configuration, in which they would be
     * both outgoing voters and learners, which a configuration cannot hold. It used to throw on the
     * leader's loop, and the leader stopped, failed, on a caller's request.
     */
    @Test
    void twoVotersMadeLearnersAtOnceAreRefusedAndTheLeaderGoesOn() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            ClusterConfig current = leader.status().config();
            Set<String> followers = new java.util.TreeSet<>(current.voters());
            followers.remove(leader.id());
            ClusterConfig target = new ClusterConfig(Set.of(leader.id()), followers, Set.of(), current.addresses());
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> leader.changeMembership(target).get(10, TimeUnit.SECONDS));
            assertInstanceOf(MembershipChangeException.class, refused.getCause());
            assertEquals("voters " + followers + " cannot become learners in a change that goes through a joint"
                    + " configuration: make one voter a learner per change", refused.getCause().getMessage());
            assertNull(leader.failure());
            assertEquals("applied:done", leader.propose(Bytes.ofUtf8("done")).get(5, TimeUnit.SECONDS));

            // One at a time, each a change of one voter, they are made learners.
            String first = followers.iterator().next();
            ClusterConfig one = leader.changeMembership(new ClusterConfig(
                    Set.of(leader.id(), followers.stream().filter(id -> !id.equals(first)).findFirst().orElseThrow()),
                    Set.of(first), Set.of(), current.addresses())).get(10, TimeUnit.SECONDS);
            assertEquals(Set.of(first), one.learners());
        }
    }

    @Test
    void aMemberMovesToAnotherAddressByAChangeOfItsAddressOnly() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            ClusterConfig current = leader.status().config();
            ClusterConfig moved = leader.changeMembership(current.withAddress("n3", "elsewhere:7003"))
                    .get(10, TimeUnit.SECONDS);
            assertEquals("elsewhere:7003", moved.addresses().get("n3"));
            assertEquals(current.voters(), moved.voters());
            assertThrows(IllegalArgumentException.class, () -> current.withAddress("n9", "x:1"));
        }
    }

    @Test
    void removedMemberStopsItselfAndTheRestGoOn() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            String victim = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            RaftNode<String> victimNode = cluster.nodes.get(victim);
            ClusterConfig config = LocalCluster.changeMembership(() -> leader.removeMember(victim));
            assertEquals(2, config.voters().size());
            LocalCluster.await(Duration.ofSeconds(10), () -> {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> victimNode.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS));
                return e.getCause() instanceof RaftStoppedException;
            });
            // A process hosting the node learns that it stopped by itself (and can exit).
            victimNode.whenStopped().get(5, TimeUnit.SECONDS);
            assertNull(victimNode.failure());
            assertFalse(leader.whenStopped().isDone(), "the leader runs on");
            assertEquals("applied:still-works", leader.propose(Bytes.ofUtf8("still-works")).get(5, TimeUnit.SECONDS));
        }
    }

    /**
     * Found by an operator: a node added back under the id of a removed one, with an empty data
     * directory, catches up through the log that holds its old addition and removal. When a batch
     * ended just after the old removal, committed, the node took it for its own and stopped (the KV
     * node exited 0), and the new addition timed out. Small messages, one at a time, put a batch end
     * after every entry.
     */
    @Test
    void aNodeAddedBackUnderItsOldIdIsNotStoppedByItsOldRemovalReplayed() throws Exception {
        try (LocalCluster cluster = steadyCluster(b -> b.maxMessageBytes(64).snapshotChunkBytes(4096).maxInflightMessages(1))) {
            RaftNode<String> leader = cluster.awaitLeader();
            cluster.startJoining("n4");
            leader.addVoter("n4", "").get(10, TimeUnit.SECONDS);
            RaftNode<String> first = cluster.nodes.get("n4");
            leader.removeMember("n4").get(10, TimeUnit.SECONDS);
            first.whenStopped().get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++) {
                leader.propose(Bytes.ofUtf8("between-" + i)).get(5, TimeUnit.SECONDS);
            }

            cluster.startJoining("n4");                                 // fresh storage, same id
            RaftNode<String> again = cluster.nodes.get("n4");
            assertEquals(Set.of("n1", "n2", "n3", "n4"), leader.addVoter("n4", "").get(10, TimeUnit.SECONDS).voters());
            leader.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS);
            LocalCluster.await(Duration.ofSeconds(10),
                    () -> cluster.stateMachines.get("n4").applied.equals(cluster.stateMachines.get(leader.id()).applied));
            assertFalse(again.whenStopped().isDone(), "stopped by its old removal: " + again.failure());
        }
    }

    /**
     * Found by a second reader: with a node deciding by its own log alone (and waiting for its log
     * to stop growing), a re-added node whose catch-up paused just past its old removal (a network
     * blip, a leader change, a snapshot transfer) stopped. The leader's appends now say whether the
     * recipient is a member, and only "removed" from the leader stops a node.
     */
    @Test
    void aNodeAddedBackIsNotStoppedWhenItsCatchUpPausesPastItsOldRemoval() throws Exception {
        try (LocalCluster cluster = steadyCluster(
                b -> b.maxMessageBytes(64).snapshotChunkBytes(4096).maxInflightMessages(1))) {
            RaftNode<String> leader = cluster.awaitLeader();
            cluster.startJoining("n4");
            leader.addVoter("n4", "").get(10, TimeUnit.SECONDS);
            RaftNode<String> first = cluster.nodes.get("n4");
            leader.removeMember("n4").get(10, TimeUnit.SECONDS);
            long removedBy = leader.status().commitIndex();
            first.whenStopped().get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 300; i++) {
                leader.propose(Bytes.ofUtf8("between-" + i)).get(5, TimeUnit.SECONDS);
            }
            cluster.startJoining("n4");                                 // fresh storage, same id
            RaftNode<String> again = cluster.nodes.get("n4");
            CompletableFuture<ClusterConfig> added = leader.addVoter("n4", "");
            LocalCluster.await(Duration.ofSeconds(10), () -> again.status().commitIndex() >= removedBy);
            cluster.network.isolate("n4");
            Thread.sleep(5 * LocalCluster.STEADY_LEADER_ELECTION_TICKS * 10L); // the blip: five election timeouts
            cluster.network.heal();
            assertEquals(Set.of("n1", "n2", "n3", "n4"), added.get(10, TimeUnit.SECONDS).voters());
            LocalCluster.await(Duration.ofSeconds(10), () -> again.status().config().isVoter("n4"));
            assertFalse(again.whenStopped().isDone(), "stopped by its old removal: " + again.failure());
        }
    }

    /**
     * A removal its leader could not commit (cut off from the answers, then gone) is committed by the
     * next leader, which inherits it uncommitted: the removed member must still be told, and stop.
     * That leader tracked the members of its configuration only: the removed node, which holds the
     * change and so no longer campaigns, never heard from anyone again and ran on for ever.
     */
    @Test
    void aMemberRemovedByAChangeTheNextLeaderCommitsStopsItself() throws Exception {
        try (LocalCluster cluster = new LocalCluster(4, LocalCluster.steadyLeader(b -> b.strictMembershipChecks(false)))) {
            RaftNode<String> leader = cluster.awaitLeader();
            // Committed in its term first: a change waits for that, and the block below would keep
            // the leader from it (it then stepped down and the change failed, one run in forty).
            assertEquals("applied:before", leader.propose(Bytes.ofUtf8("before")).get(5, TimeUnit.SECONDS));
            List<String> others = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).toList();
            String removed = others.get(0);
            for (String other : others) {
                cluster.network.block(other, leader.id());    // the leader hears no answer: nothing commits
            }
            CompletableFuture<ClusterConfig> removal = leader.removeMember(removed);
            LocalCluster.await(Duration.ofSeconds(10), () -> others.stream()
                    .allMatch(id -> !cluster.nodes.get(id).status().config().isMember(removed)));
            cluster.stop(leader.id());
            cluster.network.heal();
            assertThrows(ExecutionException.class, () -> removal.get(5, TimeUnit.SECONDS));

            RaftNode<String> removedNode = cluster.nodes.get(removed);
            RaftNode<String> next = cluster.awaitLeader();
            if (next == removedNode) {
                // Allowed where the others split their votes for a whole timeout: it commits its removal and stops.
                LocalCluster.await(Duration.ofSeconds(10), () -> removedNode.whenStopped().isDone());
                next = cluster.awaitLeader();
            }
            assertFalse(next.status().config().isMember(removed));
            assertEquals("applied:after", next.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(10), () -> removedNode.whenStopped().isDone(),
                    () -> removed + " still runs: " + removedNode.status());
            assertNull(removedNode.failure());
        }
    }

    /**
     * A node that receives its addition and its removal in one append (it was cut off while both were
     * made, and catches up in one go) was a member all the same, and must stop once told. Whether it
     * had ever been one was sampled once per batch, from the configuration in force at its end: the
     * node took itself for one waiting to be added, and ran on for ever.
     */
    @Test
    void aNodeThatLearnsOfItsAdditionAndRemovalInOneBatchStopsItself() throws Exception {
        // 1 s election timeout: the leader keeps telling a silent removed member for that long.
        try (LocalCluster cluster = new LocalCluster(3, b -> b.electionTimeoutTicks(100))) {
            RaftNode<String> leader = cluster.awaitLeader();
            cluster.startJoining("n4");
            RaftNode<String> n4 = cluster.nodes.get("n4");
            cluster.network.block(leader.id(), "n4");
            leader.addLearner("n4", "").get(5, TimeUnit.SECONDS);
            leader.removeMember("n4").get(5, TimeUnit.SECONDS);
            cluster.network.heal();
            LocalCluster.await(Duration.ofSeconds(10), () -> n4.whenStopped().isDone(),
                    () -> "n4 still runs: " + n4.status());
            assertNull(n4.failure());
        }
    }

    /**
     * A member being removed is told until it acknowledges, also when the next change comes before
     * that: appending it, the leader forgot every member that neither the new configuration nor
     * the committed one listed, so a member removed a moment before, not told yet, was never told.
     */
    @Test
    void aRemovedMemberIsToldEvenIfTheNextChangeComesFirst() throws Exception {
        // 1 s election timeout: the leader keeps telling a silent removed member for that long.
        try (LocalCluster cluster = new LocalCluster(3, b -> b.electionTimeoutTicks(100))) {
            RaftNode<String> leader = cluster.awaitLeader();
            cluster.startJoining("n4");
            RaftNode<String> n4 = cluster.nodes.get("n4");
            leader.addLearner("n4", "").get(5, TimeUnit.SECONDS);
            LocalCluster.await(Duration.ofSeconds(10), () -> n4.status().config().isMember("n4"));
            cluster.network.block(leader.id(), "n4");
            leader.removeMember("n4").get(5, TimeUnit.SECONDS);
            leader.addLearner("n5", "").get(5, TimeUnit.SECONDS);   // never started: only the change matters
            cluster.network.heal();
            LocalCluster.await(Duration.ofSeconds(10), () -> n4.whenStopped().isDone(),
                    () -> "n4 still runs: " + n4.status());
            assertNull(n4.failure());
        }
    }

    /**
     * A leader that removes itself steps down once the removal commits: the caller is told the change
     * was made (it was committed), not that its outcome is unknown.
     */
    @Test
    void aLeaderRemovingItselfIsToldTheRemovalWasMade() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            ClusterConfig config = LocalCluster.changeMembership(() -> leader.removeMember(leader.id()));
            assertEquals(2, config.voters().size());
            assertFalse(config.isMember(leader.id()));
            leader.whenStopped().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Likewise a proposal committed before its leader stepped down (it precedes the removal in the
     * log) completes with its result: the removed node applies it before it stops.
     */
    @Test
    void aProposalCommittedWithTheLeadersOwnRemovalCompletesWithItsResult() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            CompletableFuture<String> last = leader.propose(Bytes.ofUtf8("last"));
            assertEquals(2, LocalCluster.changeMembership(() -> leader.removeMember(leader.id())).voters().size());
            assertEquals("applied:last", last.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aChangeAskedOfAJustElectedLeaderWaitsForItsFirstCommit() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            // Slow messages: the new leader's no-op takes a round trip of 40 ms to commit, and the
            // change is asked well before that (it used to fail, "another membership change is in
            // progress", since even the bootstrap configuration was not known committed yet).
            cluster.network.setDelayMillis(20);
            RaftNode<String> leader = cluster.awaitLeader();
            String victim = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            ClusterConfig config = LocalCluster.changeMembership(() -> leader.removeMember(victim));
            assertEquals(2, config.voters().size());
        }
    }

    /**
     * A leader asked to remove itself while another voter is down would leave two voters of which one
     * answers: nothing could commit and no one be elected until the other came back. Refused (after
     * an election timeout for it to answer), saying who answered; the cluster goes on as it was.
     * Before, the change was made, the leader stepped down, and the group had no leader.
     */
    @Test
    void aChangeThatWouldLeaveTheGroupWithoutAQuorumIsRefused() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            String down = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            cluster.stop(down);
            // The leader counts a voter as answering for one to two election timeouts after its last answer.
            LocalCluster.await(Duration.ofSeconds(10), () -> leader.followers().join().stream()
                    .noneMatch(f -> f.nodeId().equals(down) && f.recentlyActive()));
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> leader.removeMember(leader.id()).get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof MembershipChangeException, e.getCause().toString());
            assertTrue(e.getCause().getMessage().contains("answered lately"), e.getCause().getMessage());
            assertTrue(leader.isLeader());
            assertEquals(3, leader.status().config().voters().size());
            assertEquals("applied:on", leader.propose(Bytes.ofUtf8("on")).get(5, TimeUnit.SECONDS));
            // Removing the voter that is down is what an operator should do instead, and works.
            assertEquals(2, LocalCluster.changeMembership(() -> leader.removeMember(down)).voters().size());
        }
    }

    /**
     * A removal that waits for its new voters to answer must not, once they do, propose the
     * configuration it computed when it was called: a learner added meanwhile (and reported added)
     * was dropped again by it, silently.
     */
    @Test
    void anEditThatWaitedForAnswersKeepsAChangeCommittedMeanwhile() throws Exception {
        // 1 s election timeout: the removal waits at most that long for the silent voter.
        try (LocalCluster cluster = new LocalCluster(3, b -> b.electionTimeoutTicks(100))) {
            RaftNode<String> leader = cluster.awaitLeader();
            String[] others = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id()))
                    .toArray(String[]::new);
            String removed = others[0];
            String silent = others[1];
            cluster.network.isolate(silent);
            LocalCluster.await(Duration.ofSeconds(10), () -> leader.followers().join().stream()
                    .noneMatch(f -> f.nodeId().equals(silent) && f.recentlyActive()));
            // Voters {leader, silent} after it: the leader waits for silent to answer.
            CompletableFuture<ClusterConfig> removal = leader.removeMember(removed);
            ClusterConfig added = leader.addLearner("n4", "").get(5, TimeUnit.SECONDS);
            assertTrue(added.learners().contains("n4"), added.toString());
            assertFalse(removal.isDone(), removal.toString());
            cluster.network.heal();
            ClusterConfig after = removal.get(10, TimeUnit.SECONDS);
            assertEquals(Set.of(leader.id(), silent), after.voters());
            assertTrue(after.learners().contains("n4"), "the learner added meanwhile was dropped: " + after);
            assertTrue(leader.status().config().learners().contains("n4"), leader.status().config().toString());
        }
    }

    @Test
    void membershipChangeRefusedWhileAnotherIsInProgressSaysWhy() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> leader.promote("nobody").get(5, TimeUnit.SECONDS));
            assertInstanceOf(MembershipChangeException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("not a learner"));
        }
    }

    @Test
    void leadershipTransferThroughTheRuntimeCompletesWhenTheTargetLeads() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            leader.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS);
            String target = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            LocalCluster.transferLeadership(leader, target);
            RaftNode<String> now = cluster.awaitLeader();
            assertEquals(target, now.id());
            assertNotNull(now.propose(Bytes.ofUtf8("y")).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void leadershipTransferToAStoppedNodeTimesOutAndTheLeaderLeadsOn() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            String target = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            cluster.stop(target);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> leader.transferLeadership(target).get(10, TimeUnit.SECONDS));
            assertInstanceOf(MembershipChangeException.class, e.getCause());
            assertTrue(leader.isLeader());
            assertEquals("applied:z", leader.propose(Bytes.ofUtf8("z")).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void membershipAdditionAfterCompactionCatchesUpBySnapshotAndStays() throws Exception {
        try (LocalCluster cluster = steadyCluster(b -> b.snapshotEveryEntries(20).snapshotTrailingEntries(0))) {
            RaftNode<String> leader = cluster.awaitLeader();
            for (int i = 0; i < 100; i++) {
                leader.propose(Bytes.ofUtf8("w" + i)).get(5, TimeUnit.SECONDS);
            }
            LocalCluster.await(Duration.ofSeconds(10), () -> cluster.snapshots.get(leader.id()).latest()
                    .map(s -> s.meta().lastIndex() > 50).orElse(false),
                    () -> "the leader's status " + leader.status() + ", stats " + leader.stats() + ", latest snapshot "
                            + cluster.snapshots.get(leader.id()).latest().map(s -> s.meta()).orElse(null));
            cluster.startJoining("n4");
            leader.addVoter("n4", "").get(10, TimeUnit.SECONDS);
            leader.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS);
            // Failed once in 90+ runs (a full build beside a loaded cluster), not reproduced since:
            // say what n4 had, to tell a stall from a miscount next time.
            LocalCluster.await(Duration.ofSeconds(10), () -> cluster.stateMachines.get("n4").applied.size() == 101,
                    () -> "n4 applied " + cluster.stateMachines.get("n4").applied.size() + " commands (distinct "
                            + new java.util.HashSet<>(cluster.stateMachines.get("n4").applied).size() + "), status "
                            + cluster.nodes.get("n4").status() + ", failure " + cluster.nodes.get("n4").failure()
                            + "; leader status " + leader.status() + ", its latest snapshot "
                            + cluster.snapshots.get(leader.id()).latest().map(s -> s.meta()).orElse(null)
                            + ", n4's " + cluster.snapshots.get("n4").latest().map(s -> s.meta()).orElse(null));
            assertTrue(cluster.nodes.get("n4").failure() == null);
            assertEquals("applied:still-here", leader.propose(Bytes.ofUtf8("still-here")).get(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(10), () -> cluster.stateMachines.get("n4").applied.size() == 102);
        }
    }

    /**
     * A call waiting on the loop for a condition (here a learner catching up that never will) fails
     * when the node closes, instead of waiting forever (found in review: it never completed).
     */
    @Test
    void aCallWaitingForALearnerFailsWhenTheNodeCloses() throws Exception {
        try (LocalCluster cluster = new LocalCluster(1, b -> b.promoteWithinEntries(0))) {
            RaftNode<String> leader = cluster.awaitLeader();
            leader.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS);
            CompletableFuture<ClusterConfig> addVoter = leader.addVoter("ghost", "");
            LocalCluster.await(Duration.ofSeconds(5), () -> leader.status().config().learners().contains("ghost"));
            // Applied after the learner's entry, whose completion queued the wait on the loop; the
            // next proposal is queued behind that, so once it completes the wait is registered.
            leader.propose(Bytes.ofUtf8("after the learner")).get(5, TimeUnit.SECONDS);
            leader.propose(Bytes.ofUtf8("after the wait")).get(5, TimeUnit.SECONDS);
            assertTrue(!addVoter.isDone(), "still waiting for the learner to catch up");
            leader.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> addVoter.get(5, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, e.getCause());
        }
    }
}

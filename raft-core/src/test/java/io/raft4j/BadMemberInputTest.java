package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Membership calls carry ids and addresses from outside (an admin command, a client): bad ones fail
 * the call with a clear error and leave the leader leading.
 */
class BadMemberInputTest {
    /**
     * Three nodes whose leader stays put ({@link LocalCluster#STEADY_LEADER_ELECTION_TICKS}): each test
     * shows that the leader given bad input leads on and takes proposals, which a leadership move
     * would fail for another reason (with 100 ms beside busy loops: "node n2 is not the leader;
     * leader unknown" at the proposal after the refusals).
     */
    private static LocalCluster steadyCluster() {
        return new LocalCluster(3, LocalCluster.steadyLeader(b -> b));
    }

    /**
     * A 70,000-character id used to be accepted and then failed to encode into the configuration's
     * log entry on the leader's loop, which stopped the leader ("stopping after failure").
     */
    @Test
    void anIdTooLongForTheLogFailsTheCallNotTheLeader() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();

            assertRefused(leader.addVoter("x".repeat(70_000), ""), "at most 256 characters, not 70000");
            assertRefused(leader.addLearner("n\n4", "somewhere"), "an id must not contain control characters");
            assertRefused(leader.addLearner("n4", "h".repeat(70_000)), "at most 1024 characters, not 70000");

            assertFalse(leader.whenStopped().isDone(), "the leader runs on");
            assertEquals("applied:w", leader.propose(Bytes.ofUtf8("w")).get(5, TimeUnit.SECONDS));
            assertEquals(Set.of("n1", "n2", "n3"), leader.status().config().voters());
        }
    }

    /**
     * Found probing with the 70,000-character id again: promote, removeMember and transferLeadership
     * answered "not a member" with the whole id in the message (and so in logs and client replies).
     */
    @Test
    void anIdNoMemberCanHaveIsRefusedBrieflyByTheOtherMemberCalls() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();
            String huge = "x".repeat(70_000);

            assertRefused(leader.promote(huge), "at most 256 characters, not 70000");
            assertRefused(leader.removeMember("n\n2"), "an id must not contain control characters");
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> leader.transferLeadership(huge).get(5, TimeUnit.SECONDS));
            assertEquals("member id: an id must be at most 256 characters, not 70000", e.getCause().getMessage());

            assertTrue(leader.isLeader(), "the leader leads on");
            assertEquals(Set.of("n1", "n2", "n3"), leader.status().config().voters());
        }
    }

    /** changeMembership(null) threw on the leader's loop, which stopped the leader. */
    @Test
    void aNullArgumentIsRefusedOnTheCallersThread() throws Exception {
        try (LocalCluster cluster = steadyCluster()) {
            RaftNode<String> leader = cluster.awaitLeader();

            assertThrows(NullPointerException.class, () -> leader.changeMembership(null));
            assertThrows(NullPointerException.class, () -> leader.addVoter(null, ""));
            assertThrows(NullPointerException.class, () -> leader.addLearner("n4", null));
            assertThrows(NullPointerException.class, () -> leader.promote(null));
            assertThrows(NullPointerException.class, () -> leader.removeMember(null));

            assertFalse(leader.whenStopped().isDone(), "the leader runs on");
            assertEquals("applied:w", leader.propose(Bytes.ofUtf8("w")).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void aConfigurationWithABadIdCannotBeBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClusterConfig.ofVoters(Map.of("n1", "", " n2", "")));
        assertEquals("member id ' n2': an id must not begin or end with whitespace", e.getMessage());
        assertTrue(ClusterConfig.problemWithId("n2").isEmpty());
        Set<String> tooMany = new HashSet<>();
        for (int i = 0; i <= ClusterConfig.MAX_MEMBERS; i++) {
            tooMany.add("n" + i);
        }
        assertThrows(IllegalArgumentException.class, () -> ClusterConfig.ofVoters(tooMany),
                "more than any replica would decode");
        assertTrue(ClusterConfig.problemWithAddress("").isEmpty(), "no address is a valid address");
        ClusterConfig three = ClusterConfig.ofVoters(Map.of("n1", "", "n2", "", "n3", ""));
        assertEquals("id", assertThrows(NullPointerException.class, () -> three.withAddress(null, "x")).getMessage());
    }

    /**
     * An id with half a surrogate pair used to be accepted: UTF-8 writes it as '?', so the network
     * transport delivered to "n?", not to it, and a RocksDB log recorded an owner that did not read
     * back as itself (the restarted node was refused its own log).
     */
    @Test
    void anIdWithAnUnpairedSurrogateIsRefused() {
        assertEquals(Optional.of("an id must be well-formed Unicode: an unpaired surrogate (half of a UTF-16 pair)"
                + " would be written as '?' in UTF-8"), ClusterConfig.problemWithId("n\uD800"));
        assertTrue(ClusterConfig.problemWithId("\uDC00n").isPresent());
        assertTrue(ClusterConfig.problemWithId("n\uDC00\uD800").isPresent(), "a pair the wrong way round");
        assertTrue(ClusterConfig.problemWithId("n\uD83D\uDE00").isEmpty(), "a pair (an emoji) is text");
        assertTrue(ClusterConfig.problemWithAddress("h\uD800:1").isPresent());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RaftConfig.builder("n1").groupId("g\uD800").build());
        assertTrue(e.getMessage().startsWith("groupId: an id must be well-formed Unicode"), e.getMessage());
    }

    private static void assertRefused(CompletableFuture<ClusterConfig> call, String why) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains(why), e.getCause().getMessage());
    }
}

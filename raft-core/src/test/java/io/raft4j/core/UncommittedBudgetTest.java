package io.raft4j.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader bounds the commands it holds accepted but uncommitted: cut off from its majority it
 * refuses more instead of growing its log, memory and disk without end.
 */
class UncommittedBudgetTest {

    @Test
    void aLeaderCutOffFromItsMajorityRefusesCommandsBeyondTheBoundAndAcceptsAgainOnceTheyCommit() {
        // Each command counts its payload and 128 bytes: two of 100 bytes hold 456, a third would make 684.
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxEntryBytes(100).maxUncommittedBytes(683));
        String leader = c.awaitSettledLeader();
        RaftCore core = c.core(leader);
        cutOff(c, leader);

        assertTrue(c.propose(leader, "a".repeat(100)) > 0);
        assertTrue(c.propose(leader, "b".repeat(100)) > 0);
        long last = core.lastIndex();
        assertEquals(RaftCore.OVERLOADED, c.propose(leader, "c".repeat(100)));
        assertEquals(last, core.lastIndex(), "nothing appended for a refused command");
        assertEquals(456, core.uncommittedBytes());
        assertTrue(c.propose(leader, "d".repeat(50)) > 0, "a smaller command still fits");
        assertEquals(RaftCore.OVERLOADED, c.propose(leader, "e"));

        c.heal();
        c.tickAll(2);
        assertEquals(core.lastIndex(), core.commitIndex());
        assertEquals(0, core.uncommittedBytes());
        assertEquals(List.of("a".repeat(100), "b".repeat(100), "d".repeat(50)),
                c.applied.get(leader).subList(c.applied.get(leader).size() - 3, c.applied.get(leader).size()));
        assertTrue(c.propose(leader, "f".repeat(100)) > 0);
    }

    @Test
    void aCommandAsLargeAsTheWholeBoundIsAcceptedWhenNothingIsPending() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxEntryBytes(250).maxUncommittedBytes(250));
        String leader = c.awaitSettledLeader();

        assertTrue(c.propose(leader, "x".repeat(250)) > 0);
        assertEquals(RaftCore.OVERLOADED, c.propose(leader, "y"));
        c.tickAll(2);
        assertTrue(c.propose(leader, "y") > 0);
    }

    @Test
    void aNewLeaderStartsWithAnEmptyBudget() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxEntryBytes(100).maxUncommittedBytes(100));
        String first = c.awaitSettledLeader();
        cutOff(c, first);
        c.propose(first, "z".repeat(100));
        assertEquals(RaftCore.OVERLOADED, c.propose(first, "z"));

        c.isolate(first);
        c.tickAll(40);
        String second = c.leader();
        assertFalse(second.equals(first));
        assertEquals(0, c.core(second).uncommittedBytes());
        assertEquals(0, c.core(first).uncommittedBytes(), "a node that does not lead holds nothing");
        assertTrue(c.propose(second, "w".repeat(100)) > 0);
    }

    @Test
    void emptyCommandsCountToo() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxEntryBytes(100).maxUncommittedBytes(1000));
        String leader = c.awaitSettledLeader();
        cutOff(c, leader);
        int accepted = 0;
        while (c.core(leader).propose(io.raft4j.message.Bytes.EMPTY) > 0) {
            accepted++;
        }
        assertEquals(1000 / UncommittedBudget.PER_COMMAND_BYTES, accepted);
    }

    @Test
    void aLeaderHandingLeadershipOverSendsCallersOnRatherThanAskingThemToBackOff() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.maxEntryBytes(100).maxUncommittedBytes(100));
        String leader = c.awaitSettledLeader();
        String target = java.util.Arrays.stream(c.ids()).filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        cutOff(c, leader);
        c.propose(leader, "x".repeat(100));
        assertEquals(RaftCore.OVERLOADED, c.core(leader).propose(io.raft4j.message.Bytes.ofUtf8("y")));

        c.core(leader).transferLeadership(target);

        assertEquals(0, c.core(leader).propose(io.raft4j.message.Bytes.ofUtf8("y")));
    }

    /** Nothing {@code leader} sends arrives: it keeps leading (not ticked), and commits nothing. */
    private static void cutOff(CoreCluster c, String leader) {
        for (String other : c.ids()) {
            c.cut.add(leader + ">" + other);
        }
    }

    @Test
    void theBudgetReleasesExactlyTheCommittedCommandsAcrossItsGrowth() {
        UncommittedBudget budget = new UncommittedBudget(1_000_000);
        long index = 10;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 100; i++) {
                budget.proposed(++index, 7);
            }
            budget.handedToApplyThrough(index - 30); // keeps 30 pending: the ring wraps while it grows
            assertEquals(30 * (7 + UncommittedBudget.PER_COMMAND_BYTES), budget.held());
        }
        budget.handedToApplyThrough(index + 5);
        assertEquals(0, budget.held());
        assertTrue(budget.admits(2_000_000), "nothing pending: anything fits");
        budget.proposed(++index, 1_000_000 - 2 * UncommittedBudget.PER_COMMAND_BYTES - 1);
        assertTrue(budget.admits(1));
        assertFalse(budget.admits(2));
    }
}

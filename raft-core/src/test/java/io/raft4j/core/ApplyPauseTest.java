package io.raft4j.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RaftCore#pauseApplies}: committed entries wait in the log; everything else goes on. */
class ApplyPauseTest {

    @Test
    void pausedCommitsAreHandedOutInOrderOnceResumedWhileReplicationGoesOn() {
        CoreCluster c = new CoreCluster(3, 10);
        String leader = c.awaitSettledLeader();
        RaftCore core = c.core(leader);
        int appliedBefore = c.applied.get(leader).size();

        core.pauseApplies(true);
        c.propose(leader, "a");
        c.propose(leader, "b");
        c.tickAll(3);

        assertEquals(core.lastIndex(), core.commitIndex(), "commits go on while paused");
        assertEquals(appliedBefore, c.applied.get(leader).size(), "nothing handed out while paused");
        assertFalse(core.hasReady(), "paused commits alone are not ready output");
        assertEquals(List.of("a", "b"), c.applied.get(c.ids()[leader.equals("n1") ? 1 : 0]).subList(appliedBefore,
                appliedBefore + 2), "followers apply as usual");

        core.pauseApplies(false);
        assertTrue(core.hasReady());
        c.drain(leader);
        assertEquals(List.of("a", "b"), c.applied.get(leader).subList(appliedBefore, appliedBefore + 2));
    }
}

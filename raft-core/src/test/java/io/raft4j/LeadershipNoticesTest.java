package io.raft4j;

import io.raft4j.core.Role;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The two halves of leadership notices, alone: what the loop sees becomes what the listener hears. */
class LeadershipNoticesTest {
    private final List<String> heard = new ArrayList<>();
    private final LeadershipTracker tracker = new LeadershipTracker();
    private final LeadershipNotifier notifier = new LeadershipNotifier("n1", new LeadershipListener() {
        @Override
        public void leaderStarted(long term) {
            heard.add("started " + term);
        }

        @Override
        public void leaderStopped(long term) {
            heard.add("stopped " + term);
        }

        @Override
        public void leaderChanged(String leaderId, long term) {
            heard.add("leader " + leaderId + " " + term);
        }
    });

    private void observe(Role role, long term, String leaderId) {
        tracker.observe(role, term, leaderId).forEach(notifier::handle);
    }

    @Test
    void leadershipStartsWhenItsOwnNoOpIsAppliedAndStopsWhenItSteppsDown() {
        observe(Role.CANDIDATE, 2, null);
        observe(Role.LEADER, 2, "n1");
        notifier.noopApplied(1); // an earlier leader's no-op: not the start
        assertEquals(List.of("leader n1 2"), heard);
        notifier.noopApplied(2);
        observe(Role.FOLLOWER, 3, "n2");
        assertEquals(List.of("leader n1 2", "started 2", "stopped 2", "leader n2 3"), heard);
    }

    @Test
    void aLeaderDeposedBeforeItsNoOpIsAppliedNeitherStartsNorStops() {
        observe(Role.LEADER, 2, "n1");
        observe(Role.FOLLOWER, 3, null);
        notifier.noopApplied(2); // committed by the next leader, after this node stepped down
        assertEquals(List.of("leader n1 2", "leader null 3"), heard);
    }

    @Test
    void changesSeenTogetherStillEndOneLeadershipBeforeTheNextBegins() {
        observe(Role.LEADER, 2, "n1");
        notifier.noopApplied(2);
        observe(Role.LEADER, 4, "n1"); // deposed and elected again between two looks
        notifier.noopApplied(4);
        assertEquals(List.of("leader n1 2", "started 2", "stopped 2", "leader n1 4", "started 4"), heard);
    }

    @Test
    void aFollowerHearsOfTheSameLeaderInALaterTermAndOfLosingIt() {
        observe(Role.FOLLOWER, 2, "n2");
        observe(Role.FOLLOWER, 2, "n2");
        observe(Role.FOLLOWER, 3, "n2");
        observe(Role.PRE_CANDIDATE, 3, null);
        observe(Role.CANDIDATE, 4, null);
        assertEquals(List.of("leader n2 2", "leader n2 3", "leader null 3"), heard);
    }

    @Test
    void stoppingEndsTheLeadershipHeldOnlyOnce() {
        observe(Role.LEADER, 2, "n1");
        notifier.noopApplied(2);
        tracker.stopping().forEach(notifier::handle);
        tracker.stopping().forEach(notifier::handle);
        assertEquals(List.of("leader n1 2", "started 2", "stopped 2"), heard);
    }
}

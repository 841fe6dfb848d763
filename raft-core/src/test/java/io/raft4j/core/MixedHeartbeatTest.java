package io.raft4j.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A leader whose heartbeat interval is above its followers' election timeouts (nodes with
 * different timing, as during a rolling change of it): the followers time out between heartbeats and
 * grant each other's pre-votes, so pre-vote and check-quorum do not keep that leader. What
 * docs/configuration.md ("Changing settings one node at a time") says.
 */
class MixedHeartbeatTest {

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aLeaderWithHeartbeatsAboveItsFollowersTimeoutsIsDeposed(boolean preVote) {
        CoreCluster c = new CoreCluster(3, 10, b -> b.preVote(preVote));
        c.nodeSettings.put("n1", b -> b.electionTimeoutTicks(20).heartbeatIntervalTicks(8));
        c.nodeSettings.put("n2", b -> b.electionTimeoutTicks(5));
        c.nodeSettings.put("n3", b -> b.electionTimeoutTicks(5));
        for (String id : c.allIds()) {
            c.restart(id);
        }
        String first = c.awaitSettledLeader();
        if (!first.equals("n1")) {
            c.core(first).transferLeadership("n1");
            c.drain(first);
            c.deliverAll();
        }
        assertEquals(Role.LEADER, c.core("n1").role());
        for (int i = 0; i < 20 && "n1".equals(c.leader()); i++) {
            c.tickAll(1);
        }
        assertNotEquals("n1", c.leader(), "deposed within 20 ticks");
    }
}

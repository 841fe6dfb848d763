package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A transport may deliver an append without entries (a heartbeat, a read round's confirmation, a
 * commit update) before appends with entries the leader sent earlier: the Netty transport sends
 * small messages ahead of queued bulk ones, and any network may reorder. Such an append must not
 * make the follower reject it and the leader fall back to probing and send the entries again: on a
 * congested link, that would add a second copy of what was already queued.
 */
class EmptyAppendOvertakingTest {

    @Test
    void aReadRoundOvertakingAppendsInFlightCausesNoResend() {
        CoreCluster c = new CoreCluster(3, 10);
        String leader = c.awaitSettledLeader();
        String follower = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        long match = c.core(leader).matchIndexOf(follower);
        assertEquals(c.core(leader).lastIndex(), match);

        c.propose(leader, "a");
        c.propose(leader, "b");
        assertTrue(c.core(leader).readIndex(1));
        c.drain(leader);

        // The leader's messages to the follower, the empty ones first (they overtook the others).
        List<RaftMessage> toFollower = new ArrayList<>();
        c.inFlight.removeIf(m -> m.to().equals(follower) && toFollower.add(m));
        List<RaftMessage> reordered = new ArrayList<>();
        toFollower.stream().filter(m -> m instanceof AppendEntries a && a.entries().isEmpty()).forEach(reordered::add);
        toFollower.stream().filter(m -> !reordered.contains(m)).forEach(reordered::add);
        assertTrue(reordered.get(0) instanceof AppendEntries a && a.entries().isEmpty(), "a read round was sent: " + toFollower);
        assertTrue(reordered.size() > 1, "appends with entries were sent: " + toFollower);
        for (int i = reordered.size() - 1; i >= 0; i--) {
            c.inFlight.addFirst(reordered.get(i));
        }

        List<AppendEntries> resent = new ArrayList<>();
        c.dropIf = m -> {
            if (m instanceof AppendEntries a && a.to().equals(follower) && !a.entries().isEmpty()
                    && toFollower.stream().noneMatch(sent -> sent == m)) {
                resent.add(a);
            }
            return false;
        };
        c.deliverAll();

        assertEquals(List.of(), resent, "entries sent again to " + follower);
        assertEquals(c.core(leader).lastIndex(), c.core(leader).matchIndexOf(follower));
        assertEquals(1, c.reads.get(leader).size(), "the read was confirmed: " + c.reads.get(leader));
    }
}

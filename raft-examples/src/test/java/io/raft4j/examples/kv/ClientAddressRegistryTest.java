package io.raft4j.examples.kv;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The client addresses that leaders record in the replicated state, for followers to forward to: one
 * per node that ever led used to stay for good, removed members' too, in every snapshot, as nodes
 * were replaced (new ids) over a cluster's life.
 */
class ClientAddressRegistryTest {
    @Test
    void aRemovedMembersClientAddressIsForgotten() throws Exception {
        try (InMemoryKvCluster cluster = new InMemoryKvCluster(3)) {
            KvNode first = cluster.awaitLeader();
            String next = first.handOverLeadership();
            assertNotNull(next, "handed over");
            KvNode leader = cluster.node(next);
            InMemoryKvCluster.await(next + " records its address", 30_000,
                    () -> leader.stateMachine().clientAddressOf(next) != null);
            assertNotNull(leader.stateMachine().clientAddressOf(first.nodeId()), "the first leader's, recorded");

            try (RespSocket s = new RespSocket(cluster.port(leader), 30_000)) {
                assertEquals("OK", RespSocket.text(s.call("RAFT.REMOVENODE", first.nodeId())));
            }

            InMemoryKvCluster.await("the removed " + first.nodeId() + "'s address forgotten, on every member", 30_000,
                    () -> cluster.nodes.stream().filter(n -> n != first)
                            .allMatch(n -> n.stateMachine().clientAddressOf(first.nodeId()) == null));
        }
    }

    /** Removed through the API, not RAFT.REMOVENODE: the next leader forgets it. */
    @Test
    void theNextLeaderForgetsTheAddressOfAMemberRemovedMeanwhile() throws Exception {
        try (InMemoryKvCluster cluster = new InMemoryKvCluster(3)) {
            KvNode first = cluster.awaitLeader();
            KvNode leader = cluster.node(first.handOverLeadership());
            InMemoryKvCluster.await(leader.nodeId() + " records its address", 30_000,
                    () -> leader.stateMachine().clientAddressOf(leader.nodeId()) != null);
            leader.raft().removeMember(first.nodeId()).get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertNotNull(leader.stateMachine().clientAddressOf(first.nodeId()), "still recorded");

            assertNotNull(leader.handOverLeadership(), "handed over to the third node");

            InMemoryKvCluster.await("the removed " + first.nodeId() + "'s address forgotten, on every member", 30_000,
                    () -> cluster.nodes.stream().filter(n -> n != first)
                            .allMatch(n -> n.stateMachine().clientAddressOf(first.nodeId()) == null));
        }
    }
}

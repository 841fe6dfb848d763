package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A node started on the storage of another cluster (here: a one-node cluster of its own, whose first
 * entries have the same indexes and terms as the new cluster's) answers with a log no leader of the
 * new cluster can hold. Such answers are ignored: the leader of the other two leads on. It used to
 * take the follower's word for entries beyond its own log and stop with an IllegalStateException
 * ("log compacted to 0 but no snapshot covers it"): one misconfigured node stopped healthy leaders.
 */
class ForeignLogTest {

    @Test
    void aFollowerWithTheLogOfAnotherClusterDoesNotStopTheLeader() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        InMemoryLogStorage foreign = new InMemoryLogStorage();
        RaftNode<String> solo = RaftNode.builder(RaftConfig.builder("n1").initialMembers("n1").build(),
                new LocalCluster.RecordingStateMachine()).transport(network).storage(foreign).tickMillis(10).build();
        solo.start();
        solo.whenLeaderKnown().get(5, TimeUnit.SECONDS);
        solo.propose(Bytes.ofUtf8("of the old cluster")).get(5, TimeUnit.SECONDS);
        solo.close();

        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                RaftNode<String> node = RaftNode.builder(RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                                .electionTimeoutTicks(10).build(), new LocalCluster.RecordingStateMachine())
                        .transport(network).storage(id.equals("n1") ? foreign : new InMemoryLogStorage())
                        .tickMillis(10).build();
                nodes.put(id, node);
                node.start();
            }
            RaftNode<String> n2 = nodes.get("n2");
            RaftNode<String> n3 = nodes.get("n3");
            LocalCluster.await(Duration.ofSeconds(10), () -> n2.isLeader() || n3.isLeader());
            RaftNode<String> leader = n2.isLeader() ? n2 : n3;
            // Enough rounds for the foreign node's answers to have come back many times over.
            for (int i = 0; i < 50; i++) {
                assertEquals("applied:new" + i, leader.propose(Bytes.ofUtf8("new" + i)).get(5, TimeUnit.SECONDS));
            }
            assertNull(n2.failure());
            assertNull(n3.failure());
        } finally {
            for (RaftNode<String> n : nodes.values()) {
                n.close();
            }
            network.close();
        }
    }
}

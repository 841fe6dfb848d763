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
            // Enough rounds for the foreign node's answers to have come back many times over. (n1,
            // the only voter of its old configuration, may lead a term of its own there at first and
            // depose the new leader once by its higher term: then the proposal goes to the next one.)
            for (int i = 0; i < 50; i++) {
                String command = "new" + i;
                String result = null;
                for (int attempt = 0; result == null; attempt++) {
                    LocalCluster.await(Duration.ofSeconds(10), () -> n2.isLeader() || n3.isLeader());
                    RaftNode<String> leader = n2.isLeader() ? n2 : n3;
                    try {
                        result = leader.propose(Bytes.ofUtf8(command)).get(5, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        boolean deposed = e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateException;
                        if (!deposed || attempt > 5) {
                            throw e;
                        }
                    }
                }
                assertEquals("applied:" + command, result);
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

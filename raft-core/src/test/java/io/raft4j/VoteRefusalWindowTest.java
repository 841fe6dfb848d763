package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Each node tells its leader how long it refuses votes in real time, its election timeout less one
 * tick (its first may come at once) times the tick its runtime runs (RaftNode.Builder#tickMillis),
 * so that leaders count leases right when nodes run different settings (see
 * io.raft4j.core.MixedSettingsLeaseTest).
 */
class VoteRefusalWindowTest {

    @Test
    void eachNodeAnnouncesItsElectionTimeoutLessATickTimesItsTickInItsAppendAnswers() throws Exception {
        Map<String, Long> announced = new ConcurrentHashMap<>();
        InMemoryTransport network = new InMemoryTransport();
        ForwardingTransport watching = new ForwardingTransport(network) {
            @Override
            public void send(RaftMessage m) {
                if (m instanceof AppendEntriesResponse r && r.success()) {
                    announced.put(r.from(), r.voteRefusalMicros());
                }
                super.send(m);
            }
        };
        // id -> {tickMillis, electionTimeoutTicks, checkQuorum (1/0)}
        Map<String, int[]> settings = Map.of("n1", new int[] {10, 10, 1}, "n2", new int[] {20, 10, 1},
                "n3", new int[] {10, 15, 1}, "n4", new int[] {10, 10, 0});
        List<RaftNode<String>> nodes = new ArrayList<>();
        try {
            for (String id : List.of("n1", "n2", "n3", "n4")) {
                int[] s = settings.get(id);
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3", "n4")
                        .electionTimeoutTicks(s[1]).checkQuorum(s[2] == 1).build();
                RaftNode<String> node = RaftNode.builder(config, new LeaseAfterStallTest.Register(id))
                        .transport(watching).storage(new InMemoryLogStorage()).tickMillis(s[0]).build();
                nodes.add(node);
                node.start();
            }
            // Whichever leads, the other three answer its heartbeats.
            LocalCluster.await(Duration.ofSeconds(30), () -> announced.size() >= 3, () -> "answers seen: " + announced);
            for (Map.Entry<String, Long> e : announced.entrySet()) {
                int[] s = settings.get(e.getKey());
                long expected = s[2] == 1 ? s[0] * 1000L * (s[1] - 1) : 0;
                assertEquals(expected, e.getValue(), e.getKey() + "'s window, in microseconds");
            }
        } finally {
            for (RaftNode<String> n : nodes) {
                n.close();
            }
            network.close();
        }
    }
}

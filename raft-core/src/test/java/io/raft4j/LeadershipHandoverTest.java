package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Leadership transfers whose leader loses its leadership on the way, with the leader's clock driven by the test. */
class LeadershipHandoverTest {
    private static final int ELECTION_TICKS = LocalCluster.STEADY_LEADER_ELECTION_TICKS;

    /**
     * A leader cut off from the others, asked to hand over (an operator moving leadership off a node
     * that looks sick), is deposed by CheckQuorum before its transfer times out: it then follows no
     * one in the same term, and with PreVote its term stays there while it is cut off. The transfer's
     * future waited for a newer term or a leader, so for as long as the partition lasted, however long.
     */
    @Test
    void aTransferWhoseLeaderIsDeposedWhileCutOffEndsWithinABoundedTime() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        try (ManualTicks n1Clock = new ManualTicks(network, "n1")) {
            for (String id : new String[] {"n1", "n2", "n3"}) {
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                        .electionTimeoutTicks(ELECTION_TICKS).build();
                nodes.put(id, RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(n1Clock)
                        .storage(new InMemoryLogStorage()).applyOnLoop(true).tickMillis(10).build());
            }
            nodes.values().forEach(RaftNode::start);
            try {
                // n1, never ticked, never campaigns: it is made leader by a transfer, which needs no tick.
                LocalCluster.transferLeadership(LocalCluster.awaitSettledLeader(nodes.values()), "n1");
                RaftNode<String> n1 = nodes.get("n1");
                LocalCluster.await(Duration.ofSeconds(10), n1::isLeader);
                network.isolate("n1");
                // The first CheckQuorum round counts the votes that elected n1; the second hears no one.
                n1Clock.tick(ELECTION_TICKS + 1);
                assertTrue(n1.isLeader(), n1.status().toString());
                CompletableFuture<Void> transfer = n1.transferLeadership("n2");
                n1Clock.tick(ELECTION_TICKS - 1);   // the second round ends before the transfer times out
                assertFalse(n1.isLeader(), "not deposed by CheckQuorum: " + n1.status());

                n1Clock.tick(10 * ELECTION_TICKS);
                assertTrue(transfer.isDone(), "the transfer's future still waits, 10 election timeouts after its"
                        + " leader was deposed: " + n1.status());
                ExecutionException e = assertThrows(ExecutionException.class, () -> transfer.get(0, TimeUnit.SECONDS));
                assertInstanceOf(IndeterminateException.class, e.getCause());
            } finally {
                nodes.values().forEach(RaftNode::close);
            }
        } finally {
            network.close();
        }
    }
}

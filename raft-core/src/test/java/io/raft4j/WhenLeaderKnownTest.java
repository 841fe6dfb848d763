package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link RaftNode#whenLeaderKnown}: what an embedder waits for before the first proposal. */
class WhenLeaderKnownTest {

    @Test
    void completesWithTheLeaderOnEveryNodeAndFailsWhenTheNodeStops() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3)) {
            // Asked before any election: completes once one is won.
            CompletableFuture<String> known = cluster.nodes.get("n2").whenLeaderKnown();
            String leaderId = known.get(10, TimeUnit.SECONDS);
            RaftNode<String> leader = cluster.nodes.get(leaderId);
            leader.propose(Bytes.ofUtf8("first")).get(5, TimeUnit.SECONDS);
            // Asked when a leader is known: at once, on any node.
            assertEquals(leaderId, leader.whenLeaderKnown().get(5, TimeUnit.SECONDS));
        }
        InMemoryTransport network = new InMemoryTransport();
        // A node of a cluster whose other members never start: no leader, ever, until it stops.
        RaftNode<String> alone = RaftNode.builder(RaftConfig.builder("a").initialMembers("a", "b", "c").build(),
                new LocalCluster.RecordingStateMachine()).transport(network).storage(new InMemoryLogStorage())
                .tickMillis(10).build();
        alone.start();
        CompletableFuture<String> never = alone.whenLeaderKnown();
        alone.close();
        network.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> never.get(5, TimeUnit.SECONDS));
        assertInstanceOf(RaftStoppedException.class, e.getCause());
    }
}

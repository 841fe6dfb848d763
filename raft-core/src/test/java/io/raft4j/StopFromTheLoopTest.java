package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.Role;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A node closed from a callback its own loop runs (a LeadershipListener with applyOnLoop, or a future
 * the loop completes) cannot wait for its loop to stop: the rest of the batch the loop was handling
 * used to run on, and its status update wrote the core's role back over the stopped status, so the
 * stopped node said it led, for ever (found by a second reader).
 */
class StopFromTheLoopTest {

    @Test
    void aNodeClosedFromItsLeaderStartedNoticeOnTheLoopDoesNotSayItLeads() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        AtomicReference<RaftNode<String>> self = new AtomicReference<>();
        StateMachine<String> sm = (index, command) -> "ok";
        LeadershipListener closeOnLeading = new LeadershipListener() {
            @Override
            public void leaderStarted(long term) {
                self.get().close(); // e.g. "this process must never lead": hand off by stopping
            }
        };
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                .leadershipListener(closeOnLeading).applyOnLoop(true).runOnTransportLoop(false).tickMillis(10).build();
        self.set(node);
        node.start();
        try {
            node.whenStopped().get(10, TimeUnit.SECONDS);
            // Wait for the loop thread to end: whatever it still did after the stop is then done.
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("raft-loop-") && t.getName().contains("solo")) {
                    t.join(10_000);
                }
            }
            assertFalse(node.isLeader(), "a stopped node leads nothing");
            assertEquals(Role.FOLLOWER, node.status().role());
        } finally {
            node.close();
            network.close();
        }
    }
}

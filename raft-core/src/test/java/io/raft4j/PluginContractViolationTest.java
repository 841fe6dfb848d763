package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An embedder's plug-in (transport, log storage) that breaks its contract stops its own node with a
 * clear error, or is worked around: it never leaves the node half stopped or a caller waiting.
 */
class PluginContractViolationTest {

    /**
     * Found by probing close() with a transport whose unregister threw: close() threw it on, and
     * the node's loop and apply threads ran on, so a query waiting for them never completed.
     */
    @Test
    void aTransportThatThrowsOnUnregisterStillLetsTheNodeStop() throws Exception {
        try (InMemoryTransport network = new InMemoryTransport()) {
            Transport throwing = new Transport() {
                @Override
                public void register(String groupId, String localId, Inbound inbound) {
                    network.register(groupId, localId, inbound);
                }

                @Override
                public void unregister(String groupId, String localId) {
                    throw new IllegalStateException("a transport bug");
                }

                @Override
                public void send(RaftMessage message) {
                    network.send(message);
                }
            };
            // Two voters, one never started: no leader, so a linearizable read waits for ever.
            RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2").build();
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                    .transport(throwing).storage(new InMemoryLogStorage()).tickMillis(10).build();
            node.start();
            CompletableFuture<String> waiting = node.whenLeaderKnown();

            node.close();

            assertTrue(node.whenStopped().isDone());
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
            assertInstanceOf(RaftStoppedException.class, e.getCause());
            assertFalse(Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("raft-loop-default-n1") && t.isAlive()), "the loop thread ended");
            assertThrows(ExecutionException.class, () -> node.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS));
        }
    }
}

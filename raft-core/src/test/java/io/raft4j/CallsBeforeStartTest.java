package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Calls made before {@link RaftNode#start()} fail at once with {@link RaftStoppedException} and
 * leave no trace: they took room in the bounds of calls waiting for the loop (proposals, reads,
 * admin calls) and never gave it back, so a client retrying against a node not started yet left
 * it refusing every call as overloaded once it ran.
 */
class CallsBeforeStartTest {
    private final InMemoryTransport network = new InMemoryTransport();
    private RaftNode<String> node;

    @AfterEach
    void tearDown() {
        if (node != null) {
            node.close();
        }
        network.close();
    }

    private static void assertStopped(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(RaftStoppedException.class, e.getCause());
    }

    @Test
    void callsRefusedBeforeStartDoNotUseUpTheRoomOfLaterOnes() throws Exception {
        RaftConfig config = RaftConfig.builder("a").initialMembers("a").maxEntryBytes(1024)
                .maxUncommittedBytes(16 << 10).build();
        node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                .storage(new InMemoryLogStorage()).tickMillis(10).build();
        Bytes command = Bytes.wrap(new byte[1000]);
        for (int i = 0; i < 100; i++) {
            assertStopped(node.propose(command));
        }
        for (int i = 0; i <= config.maxQueuedReads(); i++) {
            assertStopped(node.query(Bytes.EMPTY));
        }
        for (int i = 0; i <= 4096; i++) {
            assertStopped(node.followers());
        }
        assertEquals(0, node.queuedProposalBytes(), "proposal bytes held by calls refused before start");
        assertEquals(0, node.queuedReads(), "reads held by calls refused before start");
        assertEquals(0, node.queuedAdminCalls(), "admin calls held by calls refused before start");

        node.start();
        assertEquals("a", node.whenLeaderKnown().get(10, TimeUnit.SECONDS));
        assertEquals("applied:x", node.propose(Bytes.ofUtf8("x")).get(10, TimeUnit.SECONDS));
        node.query(Bytes.EMPTY).get(10, TimeUnit.SECONDS);
        node.followers().get(10, TimeUnit.SECONDS);
    }
}

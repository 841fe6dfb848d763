package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node closed from a callback on one of its own threads other than the loop (a future the apply
 * thread or the snapshot thread completes): it cannot wait for the thread it runs on, and that
 * thread goes on with the work it was doing when the callback ran.
 */
class CloseFromNodeThreadsTest {

    /**
     * close() from a callback of takeSnapshot(), which completes on the snapshot thread, waited for
     * that very thread to end: 30 seconds, holding the node, before it stopped anything else.
     */
    @Test
    void aTakeSnapshotCallbackMayCloseTheNode() throws Exception {
        GatedStateMachine sm = new GatedStateMachine();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                    .tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                node.propose(Bytes.ofUtf8("a")).get(10, TimeUnit.SECONDS);
                // The snapshot waits at the gate until the callback is attached: it then runs on the snapshot thread.
                CompletableFuture<Void> closed = node.takeSnapshot().thenRun(node::close);
                sm.release();
                closed.get(10, TimeUnit.SECONDS);
                assertTrue(node.whenStopped().isDone());
            } finally {
                node.close();
            }
        }
    }
}

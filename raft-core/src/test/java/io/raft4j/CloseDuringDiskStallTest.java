package io.raft4j;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.core.RaftConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A node closed while its disk hangs: close() gives its storage thread some seconds, then returns
 * with that thread still in the hung write. The writes queued behind it were never done, nor
 * acknowledged; once the hung write returns, the thread must end, not go on writing them to a
 * storage its embedder now owns again (closed, or handed to the node that replaces this one).
 */
class CloseDuringDiskStallTest {

    @Test
    void aStorageThreadLeftInAHungWriteWritesNothingMoreOnceItReturns() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        StallableStorage disk = new StallableStorage(new InMemoryLogStorage());
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").build();
        RaftNode<String> node = RaftNode.builder(config, new StalledDiskGroup.Register()).transport(network)
                .storage(disk).tickMillis(10).build();
        try {
            node.start();
            LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
            assertEquals("0", node.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            disk.stall();
            CompletableFuture<String> first = node.propose(Bytes.ofUtf8("set:1"));
            LocalCluster.await(Duration.ofSeconds(10), () -> disk.waiting.get() == 1);
            CompletableFuture<String> second = node.propose(Bytes.ofUtf8("set:2")); // queued behind it
            CompletableFuture<Void> closed = CompletableFuture.runAsync(node::close);
            closed.get(30, TimeUnit.SECONDS);
            for (CompletableFuture<String> p : java.util.List.of(first, second)) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> p.get(10, TimeUnit.SECONDS));
                assertInstanceOf(RaftStoppedException.class, e.getCause());
            }

            int arrived = disk.arrived.get();
            disk.releaseHeldOnly(); // the hung write returns; any later one would be held
            Thread writer = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("raft-log-default-n1")).findFirst().orElse(null);
            if (writer != null) {
                writer.join(10_000);
            }
            assertEquals(arrived, disk.arrived.get(), "the storage thread wrote on after close() returned");
        } finally {
            disk.release();
            node.close();
            network.close();
        }
    }
}

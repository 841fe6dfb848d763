package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A node's snapshot thread ends once it has been idle a while, and a later snapshot starts another.
 * Snapshots come minutes apart (every 100,000 entries by default), and the thread used to stay for
 * the node's life once it had written one: a process hosting 100 groups on three nodes went from
 * 614 threads to 914 after one snapshot each, for nothing.
 */
class SnapshotThreadIdleTest {
    @Test
    void theSnapshotThreadEndsWhenIdleAndComesBackForTheNextSnapshot() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("idle-snap").initialMembers("idle-snap").build();
        RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(network)
                .storage(new InMemoryLogStorage()).snapshots(new InMemorySnapshotStore()).tickMillis(10).build();
        try {
            node.start();
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            node.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS);
            long first = node.takeSnapshot().get(10, TimeUnit.SECONDS).lastIndex();
            LocalCluster.await(Duration.ofSeconds(10), () -> snapshotThreads().isEmpty(),
                    () -> "snapshot threads still alive: " + snapshotThreads());

            node.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS);
            assertEquals(first + 1, node.takeSnapshot().get(10, TimeUnit.SECONDS).lastIndex(),
                    "a later snapshot is written by a new thread");
        } finally {
            node.close();
            network.close();
        }
    }

    private static List<String> snapshotThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("raft-snapshot-") && name.endsWith("idle-snap")).toList();
    }
}

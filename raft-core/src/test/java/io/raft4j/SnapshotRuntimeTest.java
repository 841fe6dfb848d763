package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.snapshot.FileSnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots through the runtime: automatic and on-demand snapshots, catch-up by InstallSnapshot, restart. */
class SnapshotRuntimeTest {

    @Test
    void laggingFollowerCatchesUpByInstallSnapshotThroughTheRuntime() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, b -> b.snapshotEveryEntries(50).snapshotTrailingEntries(5)
                .snapshotChunkBytes(64))) {
            RaftNode<String> leader = cluster.awaitLeader();
            String lagging = cluster.nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            cluster.stop(lagging);
            for (int i = 0; i < 300; i++) {
                leader.propose(Bytes.ofUtf8("w" + i)).get(5, TimeUnit.SECONDS);
            }
            LocalCluster.await(Duration.ofSeconds(10), () -> leader.status().commitIndex() > 300
                    && cluster.snapshots.get(leader.id()).latest().isPresent());
            cluster.start(lagging);
            LocalCluster.await(Duration.ofSeconds(10), () -> cluster.stateMachines.get(lagging).applied.size() == 300);
            assertEquals(cluster.stateMachines.get(leader.id()).applied, cluster.stateMachines.get(lagging).applied);
            assertTrue(cluster.snapshots.get(lagging).latest().isPresent(), "the follower received a snapshot");
        }
    }

    @Test
    void nodeRestartsFromItsSnapshotFilePlusTheLogAfterIt(@TempDir Path dir) throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        InMemoryLogStorage storage = new InMemoryLogStorage();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").snapshotTrailingEntries(0).build();
        LocalCluster.RecordingStateMachine first = new LocalCluster.RecordingStateMachine();
        RaftNode<String> node = RaftNode.builder(config, first).transport(network).storage(storage)
                .snapshots(new FileSnapshotStore(dir)).tickMillis(10).build();
        node.start();
        LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
        for (int i = 0; i < 10; i++) {
            node.propose(Bytes.ofUtf8("a" + i)).get(5, TimeUnit.SECONDS);
        }
        SnapshotMeta meta = node.takeSnapshot().get(5, TimeUnit.SECONDS);
        assertTrue(meta.lastIndex() >= 11);
        node.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS);
        LocalCluster.await(Duration.ofSeconds(5), () -> storage.firstIndex() > meta.lastIndex());
        node.close();

        LocalCluster.RecordingStateMachine second = new LocalCluster.RecordingStateMachine();
        RaftNode<String> restarted = RaftNode.builder(config, second).transport(network).storage(storage.reopen())
                .snapshots(new FileSnapshotStore(dir)).tickMillis(10).build();
        restarted.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), () -> second.applied.size() == 11);
            assertEquals(first.applied, second.applied);
            assertEquals(List.of("a0", "a1"), second.applied.subList(0, 2));
        } finally {
            restarted.close();
            network.close();
        }
    }
}

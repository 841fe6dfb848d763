package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.snapshot.FileSnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
            assertTrue(cluster.nodes.get(lagging).stats().snapshotsInstalled() >= 1);
            assertTrue(leader.stats().snapshotsTaken() >= 1);
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

    @ParameterizedTest(name = "applyOnLoop={0}")
    @ValueSource(booleans = {false, true})
    void aSnapshotAskedForWhileOneIsWrittenWaitsForItOrTakesTheNext(boolean applyOnLoop) throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        GatedStateMachine sm = new GatedStateMachine();
        RaftNode<String> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                .applyOnLoop(applyOnLoop).tickMillis(10).build();
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            for (int i = 0; i < 5; i++) {
                node.propose(Bytes.ofUtf8("a" + i)).get(5, TimeUnit.SECONDS);
            }
            CompletableFuture<SnapshotMeta> first = node.takeSnapshot();       // its write is held
            CompletableFuture<SnapshotMeta> joining = node.takeSnapshot();     // nothing applied since
            node.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS);
            CompletableFuture<SnapshotMeta> next = node.takeSnapshot();        // "b" is not in the first
            // Requests and applies run in order: once "c" is applied, all three were seen while held.
            node.propose(Bytes.ofUtf8("c")).get(5, TimeUnit.SECONDS);
            assertFalse(first.isDone() || joining.isDone() || next.isDone(), "no request may fail while one is held");
            assertEquals(1, sm.views.get(), "the held snapshot is the only one begun");

            sm.release();
            SnapshotMeta held = first.get(5, TimeUnit.SECONDS);
            assertEquals(held, joining.get(5, TimeUnit.SECONDS));
            SnapshotMeta taken = next.get(5, TimeUnit.SECONDS);
            assertTrue(taken.lastIndex() >= held.lastIndex() + 2, "the next one covers \"b\" and \"c\": " + taken);
            assertEquals(2, sm.views.get());
        } finally {
            node.close();
            network.close();
        }
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follower that must install a snapshot on a slow disk (each chunk written takes longer than an
 * election timeout, so the leader sees the transfer stall again and again, and takes a newer
 * snapshot meanwhile): it still installs one and catches up, and the leader goes on committing.
 */
class SlowSnapshotInstallTest {

    /** A state of many bytes: the values set, concatenated (so its snapshot takes several chunks). */
    static final class Appending implements StateMachine<String> {
        private final StringBuilder state = new StringBuilder();

        @Override
        public synchronized String apply(long index, Bytes command) {
            state.append(command.toUtf8());
            return String.valueOf(state.length());
        }

        @Override
        public synchronized String query(Bytes query) {
            return String.valueOf(state.length());
        }

        @Override
        public synchronized Snapshot snapshot() {
            byte[] bytes = state.toString().getBytes(StandardCharsets.UTF_8);
            return out -> out.write(bytes);
        }

        @Override
        public synchronized void restore(InputStream in) throws java.io.IOException {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            state.setLength(0);
            state.append(all.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aFollowerInstallingOnASlowDiskCatchesUpWhileTheLeaderGoesOn() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        for (String id : new String[]{"a", "b", "c"}) {
            RaftConfig config = RaftConfig.builder(id).initialMembers("a", "b", "c").snapshotTrailingEntries(0)
                    .snapshotEveryEntries(1_000_000).snapshotChunkBytes(4096).snapshotChunksInFlight(2)
                    .electionTimeoutTicks(10).build();
            var snapshots = id.equals("c") ? new SlowSnapshotStore(new InMemorySnapshotStore(), 150)
                    : new InMemorySnapshotStore();
            nodes.put(id, RaftNode.builder(config, new Appending()).transport(network).storage(new InMemoryLogStorage())
                    .snapshots(snapshots).tickMillis(10).build());
        }
        try {
            nodes.get("a").start();
            nodes.get("b").start();
            LocalCluster.await(Duration.ofSeconds(10), () -> nodes.get("a").isLeader() || nodes.get("b").isLeader());
            RaftNode<String> leader = nodes.get("a").isLeader() ? nodes.get("a") : nodes.get("b");
            String value = "x".repeat(1000);
            for (int i = 0; i < 40; i++) {
                LocalCluster.retryingNotLeader(() -> leader.propose(Bytes.ofUtf8(value)));
            }
            leader.takeSnapshot().get(10, TimeUnit.SECONDS); // ~40 KB: ten chunks
            nodes.get("c").start();
            // A newer snapshot while c installs the first: the stalled transfer restarts with it.
            for (int i = 0; i < 10; i++) {
                LocalCluster.retryingNotLeader(() -> leader.propose(Bytes.ofUtf8(value)));
            }
            leader.takeSnapshot().get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 10; i++) {
                assertEquals(String.valueOf(1000 * (51 + i)),
                        LocalCluster.retryingNotLeader(() -> leader.propose(Bytes.ofUtf8(value))));
            }
            assertTrue(leader.isLeader());
            RaftNode<String> c = nodes.get("c");
            LocalCluster.await(Duration.ofSeconds(60), () -> c.status().appliedIndex() >= leader.status().commitIndex(),
                    () -> "c: " + c.status() + ", leader: " + leader.status() + ", installed " + c.stats().snapshotsInstalled());
            assertEquals("60000", c.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE).get(10, TimeUnit.SECONDS));
        } finally {
            for (RaftNode<String> n : nodes.values()) {
                n.close();
            }
            network.close();
        }
    }
}

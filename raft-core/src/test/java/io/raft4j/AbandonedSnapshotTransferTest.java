package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.RaftMessage;
import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A snapshot transfer abandoned half way (its leader died, the next leader needs none) must not keep
 * its temporary file, and the sink's open file, for as long as the follower runs.
 */
class AbandonedSnapshotTransferTest {

    /** Drops what one node sends while the predicate says so. */
    static final class FilteringTransport extends ForwardingTransport {
        volatile Predicate<RaftMessage> drop = m -> false;

        FilteringTransport(Transport delegate) {
            super(delegate);
        }

        @Override
        public void send(RaftMessage m) {
            if (!drop.test(m)) {
                delegate.send(m);
            }
        }
    }

    private static long tmpFiles(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("tmp-")).count();
        }
    }

    @Test
    void halfReceivedSnapshotIsCleanedUpOnceTheTransferIsAbandoned(@TempDir Path dir) throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        String[] ids = {"n1", "n2", "n3"};
        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        Map<String, LocalCluster.RecordingStateMachine> sms = new LinkedHashMap<>();
        Map<String, FilteringTransport> transports = new LinkedHashMap<>();
        for (String id : ids) {
            // The leader must stay, through 50 proposals only it and one follower commit, until the
            // transfer has begun (the test then stops it on purpose): a 500 ms election timeout
            // (LocalCluster.STEADY_LEADER_ELECTION_TICKS). At 100 ms, in a fresh JVM beside busy
            // loops, a proposal failed "node n1 lost leadership before the outcome was known".
            RaftConfig config = RaftConfig.builder(id).initialMembers(ids)
                    .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS)
                    .snapshotTrailingEntries(0).snapshotChunkBytes(64).snapshotChunksInFlight(1).build();
            LocalCluster.RecordingStateMachine sm = new LocalCluster.RecordingStateMachine();
            FilteringTransport t = new FilteringTransport(network);
            SnapshotStore store = new InMemorySnapshotStore();
            sms.put(id, sm);
            transports.put(id, t);
            nodes.put(id, RaftNode.builder(config, sm).transport(t).storage(new InMemoryLogStorage())
                    .snapshots(store).tickMillis(10).build());
        }
        nodes.values().forEach(RaftNode::start);
        RaftNode<String> follower = null;
        try {
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(nodes.values()); // elected is not settled
            String fid = nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            // Rebuild the chosen follower over a FileSnapshotStore in dir.
            nodes.remove(fid).close();
            RaftConfig fconfig = RaftConfig.builder(fid).initialMembers(ids)
                    .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS)
                    .snapshotTrailingEntries(0).snapshotChunkBytes(64).snapshotChunksInFlight(1).build();
            LocalCluster.RecordingStateMachine fsm = new LocalCluster.RecordingStateMachine();
            FilteringTransport ft = new FilteringTransport(network);
            follower = RaftNode.builder(fconfig, fsm).transport(ft).storage(new InMemoryLogStorage())
                    .snapshots(new FileSnapshotStore(dir)).tickMillis(10).build();
            nodes.put(fid, follower);
            network.isolate(fid);
            follower.start();
            for (int i = 0; i < 50; i++) {
                leader.propose(Bytes.ofUtf8("value-" + i + "-".repeat(100))).get(5, TimeUnit.SECONDS);
            }
            leader.takeSnapshot().get(5, TimeUnit.SECONDS); // the leader compacts; the other follower does not
            ft.drop = m -> m instanceof InstallSnapshotResponse; // the transfer never gets past its first chunk
            network.heal();
            LocalCluster.await(Duration.ofSeconds(10), () -> {
                try {
                    return tmpFiles(dir) > 0;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            nodes.remove(leader.id()).close(); // the leader dies mid-transfer
            // The other follower leads with its whole log: the follower catches up by appends.
            LocalCluster.await(Duration.ofSeconds(10), () -> fsm.applied.size() == 50);
            LocalCluster.await(Duration.ofSeconds(5), () -> {
                try {
                    return tmpFiles(dir) == 0;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
        } finally {
            nodes.values().forEach(RaftNode::close);
            network.close();
        }
    }
}

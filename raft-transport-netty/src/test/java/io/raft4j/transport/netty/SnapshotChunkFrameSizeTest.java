package io.raft4j.transport.netty;

import io.raft4j.RaftNode;
import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A snapshot message carries the snapshot's configuration beside its chunk. With settings the node
 * accepts (the transport's frames hold the largest entry, append and chunk plus the envelope
 * allowance), a configuration of many members must not push a chunk's frame over the limit: the
 * frame would be dropped at every resend and the follower that needs the snapshot would never
 * catch up.
 */
class SnapshotChunkFrameSizeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String CLUSTER = "chunk-frames";
    /** Entries, appends and snapshot chunks: all this large. */
    private static final int LIMIT = 256 << 10;
    /** The smallest frame limit a node accepts with {@link #LIMIT}: its payload plus the 64 KiB envelope allowance. */
    private static final int FRAME = LIMIT + (64 << 10);

    /** Keeps every applied command; its snapshot is all of them. */
    static final class Recorder implements StateMachine<Void> {
        final List<Bytes> applied = new CopyOnWriteArrayList<>();

        @Override
        public Void apply(long index, Bytes command) {
            applied.add(command);
            return null;
        }

        @Override
        public Snapshot snapshot() {
            List<Bytes> view = List.copyOf(applied);
            return out -> {
                DataOutputStream data = new DataOutputStream(out);
                data.writeInt(view.size());
                for (Bytes b : view) {
                    data.writeInt(b.length());
                    data.write(b.toByteArray());
                }
                data.flush();
            };
        }

        @Override
        public void restore(InputStream in) throws IOException {
            DataInputStream data = new DataInputStream(in);
            List<Bytes> restored = new ArrayList<>();
            for (int n = data.readInt(); n > 0; n--) {
                byte[] b = new byte[data.readInt()];
                data.readFully(b);
                restored.add(Bytes.wrap(b));
            }
            applied.clear();
            applied.addAll(restored);
        }
    }

    private final Map<String, String> addresses = new LinkedHashMap<>();
    private final Map<String, NettyTransport> transports = new LinkedHashMap<>();
    private final Map<String, RaftNode<Void>> nodes = new LinkedHashMap<>();
    private final Map<String, Recorder> machines = new LinkedHashMap<>();

    @AfterEach
    void stopAll() {
        nodes.values().forEach(RaftNode::close);
        transports.values().forEach(NettyTransport::close);
    }

    private void start(String id) {
        RaftConfig config = RaftConfig.builder(id).initialMembers(addresses).electionTimeoutTicks(25)
                .maxEntryBytes(LIMIT).maxMessageBytes(LIMIT).snapshotChunkBytes(LIMIT)
                .snapshotEveryEntries(20).snapshotTrailingEntries(0).build();
        Recorder machine = new Recorder();
        RaftNode<Void> node = RaftNode.builder(config, machine).transport(transports.get(id))
                .storage(new InMemoryLogStorage()).snapshots(new InMemorySnapshotStore()).tickMillis(20).build();
        machines.put(id, machine);
        nodes.put(id, node);
        node.start();
    }

    private RaftNode<Void> awaitLeader() {
        Await.until(WAIT, "a leader", () -> nodes.values().stream().anyMatch(RaftNode::isLeader));
        return nodes.values().stream().filter(RaftNode::isLeader).findFirst().orElseThrow();
    }

    @Test
    void aFollowerReceivesASnapshotWhoseConfigurationIsLarge() throws Exception {
        for (String id : List.of("n1", "n2", "n3")) {
            NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                    .maxFrameBytes(FRAME).reconnectBackoff(10, 200).ioThreads(1).build());
            transports.put(id, t);
            addresses.put(id, "127.0.0.1:" + t.localPort());
        }
        transports.values().forEach(t -> t.updatePeers("default", addresses));
        start("n1");
        start("n2");
        RaftNode<Void> leader = awaitLeader();

        // 400 learners with the longest ids (no addresses: they are never dialled): a configuration of
        // about 100 KiB, well within maxEntryBytes, so its entry is accepted and replicated.
        Set<String> learners = new TreeSet<>();
        for (int i = 0; i < 400; i++) {
            learners.add(String.format("%03d", i) + "l".repeat(ClusterConfig.MAX_ID_LENGTH - 3));
        }
        ClusterConfig current = leader.status().config();
        ClusterConfig target = new ClusterConfig(current.voters(), learners, Set.of(), current.addresses());
        int configBytes = target.encode().length();
        assertTrue(configBytes > 64 << 10 && configBytes < LIMIT, "configuration of " + configBytes + " bytes");
        leader.changeMembership(target).get(WAIT.toSeconds(), TimeUnit.SECONDS);

        // Commands of 20 KiB: snapshots of hundreds of KiB, sent in chunks of LIMIT.
        byte[] filler = new byte[20 << 10];
        for (int i = 0; i < 45; i++) {
            filler[0] = (byte) i;
            leader.propose(Bytes.wrap(filler.clone())).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        Await.until(WAIT, "the log compacted on the leader", () -> !leader.status().config().learners().isEmpty()
                && leader.status().appliedIndex() >= 45);

        // n3 starts empty; the leader's log is compacted, so n3 needs the snapshot.
        start("n3");
        Await.until(WAIT, "n3 applied what the leader did",
                () -> machines.get("n3").applied.size() == machines.get(leader.id()).applied.size(),
                () -> "(n3 applied " + nodes.get("n3").status().appliedIndex() + " of the leader's "
                        + leader.status().appliedIndex() + ")");
        assertEquals(machines.get(leader.id()).applied, machines.get("n3").applied);
        assertEquals(learners, nodes.get("n3").status().config().learners());
    }
}

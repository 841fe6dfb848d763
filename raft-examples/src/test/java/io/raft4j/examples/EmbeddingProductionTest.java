package io.raft4j.examples;

import io.raft4j.LeadershipListener;
import io.raft4j.RaftNode;
import io.raft4j.ReadConsistency;
import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StateMachine;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import io.raft4j.transport.netty.NettyTransport;
import io.raft4j.transport.netty.NettyTransportConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The production wiring of docs/embedding.md, run: three nodes on 127.0.0.1, each with the RocksDB
 * log, file snapshots and the Netty transport, the doc's counter as state machine. A follower is
 * stopped, misses writes and snapshots, and comes back from its data directory.
 */
class EmbeddingProductionTest {
    private static final String GROUP = "counters";

    /** The state machine of docs/embedding.md. */
    static final class Counter implements StateMachine<Long> {
        private long value;

        @Override
        public Long apply(long index, Bytes command) {
            try {
                value = Math.addExact(value, Long.parseLong(command.toUtf8()));
            } catch (NumberFormatException | ArithmeticException e) {
                return null;
            }
            return value;
        }

        @Override
        public Long query(Bytes query) {
            return value;
        }

        @Override
        public Snapshot snapshot() {
            long view = value;
            return out -> new DataOutputStream(out).writeLong(view);
        }

        @Override
        public void restore(InputStream in) throws IOException {
            value = new DataInputStream(in).readLong();
        }
    }

    /** One process's worth: what the doc opens, in the order it closes them. */
    private static final class Node implements AutoCloseable {
        final NettyTransport transport;
        final RocksDbLogStore logs;
        final LogStorage log;
        final FileSnapshotStore snapshots;
        /** What its leadership listener heard: "started T", "stopped T", "leader ID T". */
        final List<String> notices = new CopyOnWriteArrayList<>();
        RaftNode<Long> raft;

        Node(Path dataDir, int port) throws IOException {
            Files.createDirectories(dataDir);
            logs = RocksDbLogStore.open(dataDir);
            log = logs.forGroup(GROUP);
            snapshots = new FileSnapshotStore(dataDir.resolve("snapshots").resolve(GROUP));
            transport = NettyTransport.start(NettyTransportConfig.builder("prod-cluster").listen("127.0.0.1", port).build());
        }

        void start(String id, Map<String, String> members) {
            RaftConfig config = RaftConfig.builder(id)
                    .groupId(GROUP)
                    .initialMembers(members)
                    .snapshotEveryEntries(40)       // small, so that snapshots and compaction happen
                    .snapshotTrailingEntries(10)
                    // 1-2 s at 20 ms per tick: a stall of a loaded machine must not depose the leader
                    // mid-test (at 200-400 ms one did, and a proposal's outcome became unknown)
                    .electionTimeoutTicks(50)
                    .build();
            raft = RaftNode.builder(config, new Counter()).transport(transport).storage(log).snapshots(snapshots)
                    .leadershipListener(new LeadershipListener() {
                        @Override
                        public void leaderStarted(long term) {
                            notices.add("started " + term);
                        }

                        @Override
                        public void leaderStopped(long term) {
                            notices.add("stopped " + term);
                        }

                        @Override
                        public void leaderChanged(String leaderId, long term) {
                            notices.add("leader " + leaderId + " " + term);
                        }
                    })
                    .tickMillis(20).build();
            raft.start();
        }

        @Override
        public void close() {
            if (raft != null) {
                raft.close();
            }
            transport.close();
            snapshots.close();
            log.close();
            logs.close();
        }
    }

    @Test
    void threeNodesReplicateSnapshotAndRecoverFromTheirDataDirectories(@TempDir Path dir) throws Exception {
        Map<String, Node> nodes = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        try {
            for (String id : new String[] {"n1", "n2", "n3"}) {
                Node node = new Node(dir.resolve(id), 0);
                nodes.put(id, node);
                members.put(id, "127.0.0.1:" + node.transport.localPort());
            }
            nodes.forEach((id, node) -> node.start(id, members));
            RaftNode<Long> leader = awaitLeader(nodes);
            long term = leader.status().term();
            Await.until(() -> nodes.get(leader.id()).notices.contains("started " + term), "the leader to be told it leads");
            for (Node node : nodes.values()) {
                Await.until(() -> node.notices.contains("leader " + leader.id() + " " + term), "every node to be told who leads");
            }

            long expected = 0;
            for (int i = 1; i <= 30; i++) {
                expected += i;
                assertEquals(expected, leader.propose(Bytes.ofUtf8(Integer.toString(i))).get(10, TimeUnit.SECONDS));
            }
            assertEquals(expected, leader.query(Bytes.EMPTY).get(10, TimeUnit.SECONDS));
            for (Node node : nodes.values()) {
                // Linearizable on followers too, right after the writes: each asks the leader for the
                // read index over the wire and waits to apply that far (once it knows the leader).
                Await.until(() -> leader.id().equals(node.raft.status().leaderId()), "every node to know the leader");
                assertEquals(expected, node.raft.query(Bytes.EMPTY).get(10, TimeUnit.SECONDS));
            }

            String followerId = nodes.keySet().stream().filter(id -> !id.equals(leader.id())).findFirst().orElseThrow();
            int port = nodes.get(followerId).transport.localPort();
            long leftAt = nodes.get(followerId).raft.status().lastIndex();
            nodes.remove(followerId).close();
            for (int i = 0; i < 200; i++) {               // several snapshots while it is away
                expected += 1;
                assertEquals(expected, leader.propose(Bytes.ofUtf8("1")).get(10, TimeUnit.SECONDS));
            }
            assertTrue(leader.takeSnapshot().get(10, TimeUnit.SECONDS).lastIndex() > 200);

            Node back = new Node(dir.resolve(followerId), port);
            nodes.put(followerId, back);
            back.start(followerId, members);              // initial members are ignored: its log has them
            long total = expected;
            Await.until(() -> total == back.raft.query(Bytes.EMPTY, ReadConsistency.STALE).join(), "the follower to catch up");
            // The leader compacted its log past where the follower's ended (snapshots keep 10 entries),
            // so it caught up by InstallSnapshot: of the snapshot the leader was streaming to it when
            // it came back, then by appends (the leader keeps the log after a snapshot it streams).
            assertTrue(back.snapshots.latest().orElseThrow().meta().lastIndex() > leftAt);
            for (Node node : nodes.values()) {
                Await.until(() -> total == node.raft.query(Bytes.EMPTY, ReadConsistency.STALE).join(), "every node to apply");
            }
        } finally {
            for (Node node : nodes.values()) {
                node.close();
            }
        }
    }

    private static RaftNode<Long> awaitLeader(Map<String, Node> nodes) {
        Await.until(() -> nodes.values().stream().anyMatch(n -> n.raft.isLeader()), "a leader");
        return nodes.values().stream().filter(n -> n.raft.isLeader()).findFirst().orElseThrow().raft;
    }
}

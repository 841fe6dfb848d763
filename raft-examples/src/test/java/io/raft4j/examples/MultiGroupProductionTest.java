package io.raft4j.examples;

import io.raft4j.IndeterminateException;
import io.raft4j.NotLeaderException;
import io.raft4j.RaftNode;
import io.raft4j.ReadConsistency;
import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.LogStorage;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import io.raft4j.transport.netty.NettyTransport;
import io.raft4j.transport.netty.NettyTransportConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several Raft groups per process, as docs/embedding.md describes: three processes' worth of one
 * Netty transport and one RocksDB store each, every process a member of every group. Groups write
 * at once through the shared connections and the shared database, never see each other's entries,
 * and all come back when one process restarts from its data directory.
 */
class MultiGroupProductionTest {
    private static final List<String> GROUPS = List.of("orders", "users", "stock", "audit");

    /** One process: a transport and a store shared by one node of every group. */
    private static final class Process implements AutoCloseable {
        final NettyTransport transport;
        final RocksDbLogStore logs;
        final Map<String, LogStorage> groupLogs = new LinkedHashMap<>();
        final Map<String, FileSnapshotStore> snapshots = new LinkedHashMap<>();
        final Map<String, RaftNode<Long>> nodes = new LinkedHashMap<>();

        Process(Path dataDir, int port) throws IOException {
            Files.createDirectories(dataDir);
            logs = RocksDbLogStore.open(dataDir);
            transport = NettyTransport.start(NettyTransportConfig.builder("multi").listen("127.0.0.1", port).build());
            for (String group : GROUPS) {
                groupLogs.put(group, logs.forGroup(group));
                snapshots.put(group, new FileSnapshotStore(dataDir.resolve("snapshots").resolve(group)));
            }
        }

        void start(String id, Map<String, String> members) {
            for (String group : GROUPS) {
                RaftConfig config = RaftConfig.builder(id).groupId(group).initialMembers(members)
                        .snapshotEveryEntries(50).snapshotTrailingEntries(10).build();
                RaftNode<Long> node = RaftNode.builder(config, new EmbeddingProductionTest.Counter())
                        .transport(transport).storage(groupLogs.get(group)).snapshots(snapshots.get(group))
                        .tickMillis(20).build();
                nodes.put(group, node);
                node.start();
            }
        }

        @Override
        public void close() {
            nodes.values().forEach(RaftNode::close);
            transport.close();
            snapshots.values().forEach(FileSnapshotStore::close);
            groupLogs.values().forEach(LogStorage::close);
            logs.close();
        }
    }

    @Test
    void groupsShareTransportsAndStoresWithoutSeeingEachOthersEntries(@TempDir Path dir) throws Exception {
        Map<String, Process> processes = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, Long> expected = new LinkedHashMap<>();
        try {
            for (String id : new String[] {"p1", "p2", "p3"}) {
                Process p = new Process(dir.resolve(id), 0);
                processes.put(id, p);
                members.put(id, "127.0.0.1:" + p.transport.localPort());
            }
            processes.forEach((id, p) -> p.start(id, members));
            GROUPS.forEach(g -> expected.put(g, 0L));

            // Every group writes at once: group number k adds k, so a stray entry would show.
            writeToEveryGroup(processes, expected, 100);
            assertEveryNodeApplied(processes, expected);

            // One process goes away with its node of every group; the others go on writing past
            // several snapshots, then it comes back from its data directory.
            String gone = "p3";
            int port = processes.get(gone).transport.localPort();
            processes.remove(gone).close();
            writeToEveryGroup(processes, expected, 150);
            Process back = new Process(dir.resolve(gone), port);
            processes.put(gone, back);
            back.start(gone, members);
            assertEveryNodeApplied(processes, expected);
            for (String group : GROUPS) {
                assertTrue(back.snapshots.get(group).latest().orElseThrow().meta().lastIndex() > 100,
                        group + ": the returning node caught up past the leader's log start, by snapshot");
            }
            // And every group still takes writes with all three processes up.
            writeToEveryGroup(processes, expected, 20);
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(Process::close);
        }
    }

    /**
     * Proposes {@code count} increments to every group's leader, all groups at once, one write in
     * flight per group. A leader may change under load (an election timeout missed on a busy
     * machine): a write refused by a non-leader is sent again to the new leader, and one whose
     * outcome is unknown is settled by reading the counter, which the one write in flight either
     * moved or did not.
     */
    private static void writeToEveryGroup(Map<String, Process> processes, Map<String, Long> expected, int count)
            throws Exception {
        ExecutorService writers = Executors.newFixedThreadPool(GROUPS.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int k = 0; k < GROUPS.size(); k++) {
                String group = GROUPS.get(k);
                long increment = k + 1;
                long start = expected.get(group);
                done.add(writers.submit(() -> {
                    for (int i = 0; i < count; i++) {
                        increment(processes, group, increment, start + i * increment);
                    }
                    return null;
                }));
                expected.merge(group, increment * count, Long::sum);
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            writers.shutdownNow();
        }
    }

    /** Moves {@code group}'s counter from {@code before} by {@code increment}, exactly once. */
    private static void increment(Map<String, Process> processes, String group, long increment, long before)
            throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            RaftNode<Long> leader = awaitLeader(processes, group);
            try {
                assertEquals(before + increment, leader.propose(Bytes.ofUtf8(Long.toString(increment)))
                        .get(30, TimeUnit.SECONDS), group);
                return;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NotLeaderException) {
                    continue; // nothing was done
                }
                if (!(e.getCause() instanceof IndeterminateException)) {
                    throw e;
                }
            }
            long now = linearizableRead(processes, group);
            if (now == before + increment) {
                return;
            }
            assertEquals(before, now, group + ": the counter moved by something other than this write");
        }
        throw new AssertionError(group + ": no leader took the write in 20 attempts");
    }

    private static long linearizableRead(Map<String, Process> processes, String group) throws Exception {
        while (true) {
            try {
                return awaitLeader(processes, group).query(Bytes.EMPTY).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateException)) {
                    throw e;
                }
            }
        }
    }

    private static void assertEveryNodeApplied(Map<String, Process> processes, Map<String, Long> expected) {
        for (Process p : processes.values()) {
            for (String group : GROUPS) {
                RaftNode<Long> node = p.nodes.get(group);
                long want = expected.get(group);
                Await.until(() -> want == node.query(Bytes.EMPTY, ReadConsistency.STALE).join(),
                        group + " on " + node.id() + " to reach " + want);
            }
        }
    }

    private static RaftNode<Long> awaitLeader(Map<String, Process> processes, String group) {
        Await.until(() -> processes.values().stream().anyMatch(p -> p.nodes.get(group).isLeader()), "a leader of " + group);
        return processes.values().stream().map(p -> p.nodes.get(group)).filter(RaftNode::isLeader).findFirst()
                .orElseThrow();
    }
}

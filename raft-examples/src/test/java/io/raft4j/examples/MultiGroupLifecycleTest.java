package io.raft4j.examples;

import io.raft4j.IndeterminateException;
import io.raft4j.NotLeaderException;
import io.raft4j.RaftNode;
import io.raft4j.RaftStoppedException;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifecycle of groups that share a process's transport and store: one group closing and
 * coming back while the others go on, and the shared transport or store closing under them.
 */
class MultiGroupLifecycleTest {
    /** Ids that are prefixes of one another: a key or a registration mixed up between them would show. */
    private static final List<String> GROUPS = List.of("g", "g1", "g10");

    private static final class Process implements AutoCloseable {
        final Path dataDir;
        final NettyTransport transport;
        final RocksDbLogStore logs;
        final Map<String, LogStorage> groupLogs = new LinkedHashMap<>();
        final Map<String, FileSnapshotStore> snapshots = new LinkedHashMap<>();
        final Map<String, RaftNode<Long>> nodes = new LinkedHashMap<>();

        Process(Path dataDir) throws IOException {
            this.dataDir = dataDir;
            Files.createDirectories(dataDir);
            logs = RocksDbLogStore.open(dataDir);
            transport = NettyTransport.start(NettyTransportConfig.builder("multi").listen("127.0.0.1", 0).build());
        }

        void start(String id, String group, Map<String, String> members) {
            start(id, group, members, new EmbeddingProductionTest.Counter());
        }

        void start(String id, String group, Map<String, String> members, StateMachine<Long> machine) {
            groupLogs.put(group, logs.forGroup(group));
            snapshots.put(group, new FileSnapshotStore(dataDir.resolve("snapshots").resolve(group)));
            RaftConfig config = RaftConfig.builder(id).groupId(group).initialMembers(members).build();
            RaftNode<Long> node = RaftNode.builder(config, machine)
                    .transport(transport).storage(groupLogs.get(group)).snapshots(snapshots.get(group))
                    .tickMillis(20).build();
            nodes.put(group, node);
            node.start();
        }

        void stop(String group) {
            nodes.remove(group).close();
            snapshots.remove(group).close();
            groupLogs.remove(group).close();
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

    private static Map<String, Process> startCluster(Path dir, Map<String, String> members) throws IOException {
        Map<String, Process> processes = new LinkedHashMap<>();
        for (String id : new String[] {"p1", "p2", "p3"}) {
            Process p = new Process(dir.resolve(id));
            processes.put(id, p);
            members.put(id, "127.0.0.1:" + p.transport.localPort());
        }
        processes.forEach((id, p) -> GROUPS.forEach(g -> p.start(id, g, members)));
        return processes;
    }

    @Test
    void aGroupClosedInOneProcessComesBackWithItsDataWhileTheOthersGoOn(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, Process> processes = startCluster(dir, members);
        try {
            Map<String, Long> expected = new LinkedHashMap<>();
            for (int k = 0; k < GROUPS.size(); k++) {
                expected.put(GROUPS.get(k), add(processes, GROUPS.get(k), k + 1, 0));
            }
            assertEveryNodeApplied(processes, expected);

            Process p3 = processes.get("p3");
            assertThrows(IllegalStateException.class, () -> p3.logs.forGroup("g1"), "g1 is open already");
            p3.stop("g1");
            long droppedBefore = p3.transport.droppedOnArrival();
            for (int k = 0; k < GROUPS.size(); k++) {
                String group = GROUPS.get(k);
                expected.put(group, add(processes, group, (k + 1) * 10, expected.get(group)));
            }
            Await.until(() -> p3.transport.droppedOnArrival() > droppedBefore,
                    "g1's messages to p3 dropped on arrival while it is closed");
            assertEveryNodeApplied(processes, expected);

            p3.start("p3", "g1", members);
            assertEveryNodeApplied(processes, expected);
            expected.put("g1", add(processes, "g1", 100, expected.get("g1")));
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(Process::close);
        }
    }

    @Test
    void closingTheSharedTransportUnderRunningNodesStopsThem(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, Process> processes = startCluster(dir, members);
        try {
            for (String group : GROUPS) {
                add(processes, group, 1, 0);
            }
            Process p3 = processes.get("p3");
            p3.transport.close();
            for (String group : GROUPS) {
                RaftNode<Long> node = p3.nodes.get(group);
                node.whenStopped().get(10, TimeUnit.SECONDS);
                assertNotNull(node.failure(), group + " on p3 says why it stopped");
            }
            for (String group : GROUPS) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> p3.nodes.get(group).propose(Bytes.ofUtf8("1")).get(10, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof RaftStoppedException, e.toString());
            }
        } finally {
            processes.values().forEach(Process::close);
        }
    }

    /**
     * A state machine that throws stops its node (docs/embedding.md): all three members of the
     * group apply the same command, so the group stops; the groups beside it on the same
     * transports and stores go on committing, and every process closes cleanly.
     */
    @Test
    void aGroupWhoseStateMachineThrowsStopsAloneAndTheOthersGoOn(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, Process> processes = startCluster(dir, members);
        try {
            processes.forEach((id, p) -> p.start(id, "faulty", members, (index, command) -> {
                throw new IllegalStateException(command.toUtf8() + " at " + index + " on " + id);
            }));
            awaitLeader(processes, "faulty").propose(Bytes.ofUtf8("boom"));
            for (Process p : processes.values()) {
                RaftNode<Long> node = p.nodes.get("faulty");
                node.whenStopped().get(30, TimeUnit.SECONDS);
                assertTrue(String.valueOf(node.failure()).contains("boom"), String.valueOf(node.failure()));
            }
            Map<String, Long> expected = new LinkedHashMap<>();
            for (String group : GROUPS) {
                expected.put(group, add(processes, group, 5, 0));
            }
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(Process::close);
        }
    }

    /**
     * A node started on a transport closed already (a group added while the process shuts down):
     * with its own loop thread it used to run, electing itself in a term after another with every
     * message dropped, and never said it could not work.
     */
    @Test
    void aNodeStartedOnAClosedTransportIsRefused(@TempDir Path dir) throws Exception {
        try (Process p = new Process(dir.resolve("p1"))) {
            p.transport.close();
            LogStorage log = p.logs.forGroup("late");
            p.groupLogs.put("late", log);
            RaftConfig config = RaftConfig.builder("p1").groupId("late")
                    .initialMembers(Map.of("p1", "127.0.0.1:1", "p2", "127.0.0.1:2", "p3", "127.0.0.1:3")).build();
            RaftNode<Long> node = RaftNode.builder(config, new EmbeddingProductionTest.Counter())
                    .transport(p.transport).storage(log).runOnTransportLoop(false).tickMillis(20).build();
            p.nodes.put("late", node);
            IllegalStateException refused = assertThrows(IllegalStateException.class, node::start);
            assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
            node.whenStopped().get(10, TimeUnit.SECONDS);
            assertNotNull(node.failure());
        }
    }

    @Test
    void closingTheSharedStoreUnderRunningNodesStopsThemAndTheOthersGoOn(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, Process> processes = startCluster(dir, members);
        try {
            Map<String, Long> expected = new LinkedHashMap<>();
            for (String group : GROUPS) {
                expected.put(group, add(processes, group, 1, 0));
            }
            Process p3 = processes.get("p3");
            p3.logs.close();
            for (String group : GROUPS) {
                expected.put(group, add(processes, group, 1, expected.get(group)));
            }
            for (String group : GROUPS) {
                RaftNode<Long> node = p3.nodes.get(group);
                node.whenStopped().get(10, TimeUnit.SECONDS);
                assertTrue(String.valueOf(node.failure()).contains("store"), group + " on p3 says its store closed: "
                        + node.failure());
            }
            processes.remove("p3").close();
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(Process::close);
        }
    }

    /** Adds {@code increment} to {@code group}'s counter, exactly once; returns the new value. */
    static long add(Map<String, Process> processes, String group, long increment, long before) throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            RaftNode<Long> leader = awaitLeader(processes, group);
            try {
                long after = leader.propose(Bytes.ofUtf8(Long.toString(increment))).get(30, TimeUnit.SECONDS);
                assertEquals(before + increment, after, group);
                return after;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NotLeaderException) {
                    continue;
                }
                // A leader that stopped (its store or transport closed) may or may not have applied it.
                if (!(e.getCause() instanceof IndeterminateException || e.getCause() instanceof RaftStoppedException)) {
                    throw e;
                }
            }
            long now = read(processes, group);
            if (now == before + increment) {
                return now;
            }
            assertEquals(before, now, group);
        }
        throw new AssertionError(group + ": no leader took the write");
    }

    private static void assertEveryNodeApplied(Map<String, Process> processes, Map<String, Long> expected) {
        for (Process p : processes.values()) {
            for (String group : GROUPS) {
                RaftNode<Long> node = p.nodes.get(group);
                if (node == null) {
                    continue;
                }
                long want = expected.get(group);
                Await.until(() -> want == node.query(Bytes.EMPTY, ReadConsistency.STALE).join(),
                        group + " on " + node.id() + " to reach " + want);
            }
        }
    }

    /** A linearizable read of {@code group}'s counter, from whichever node leads it by then. */
    private static long read(Map<String, Process> processes, String group) throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                return awaitLeader(processes, group).query(Bytes.EMPTY).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateException
                        || e.getCause() instanceof RaftStoppedException)) {
                    throw e;
                }
            }
        }
        throw new AssertionError(group + ": no leader answered a read");
    }

    private static RaftNode<Long> awaitLeader(Map<String, Process> processes, String group) {
        Await.until(() -> processes.values().stream().map(p -> p.nodes.get(group))
                .anyMatch(n -> n != null && n.isLeader()), "a leader of " + group);
        return processes.values().stream().map(p -> p.nodes.get(group)).filter(n -> n != null && n.isLeader())
                .findFirst().orElseThrow();
    }
}

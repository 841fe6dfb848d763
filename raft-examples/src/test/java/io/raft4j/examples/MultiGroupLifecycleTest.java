package io.raft4j.examples;

import io.raft4j.RaftNode;
import io.raft4j.RaftStoppedException;
import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static io.raft4j.examples.GroupCounters.assertEveryNodeApplied;
import static io.raft4j.examples.GroupCounters.awaitLeader;
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

    private static GroupProcess process(Path dataDir) throws IOException {
        return new GroupProcess(dataDir, "multi", 0, 20, UnaryOperator.identity());
    }

    private static Map<String, GroupProcess> startCluster(Path dir, Map<String, String> members) throws IOException {
        Map<String, GroupProcess> processes = new LinkedHashMap<>();
        for (String id : new String[] {"p1", "p2", "p3"}) {
            GroupProcess p = process(dir.resolve(id));
            processes.put(id, p);
            members.put(id, "127.0.0.1:" + p.transport.localPort());
        }
        processes.forEach((id, p) -> GROUPS.forEach(g -> p.start(id, g, members, new EmbeddingProductionTest.Counter())));
        return processes;
    }

    @Test
    void aGroupClosedInOneProcessComesBackWithItsDataWhileTheOthersGoOn(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, GroupProcess> processes = startCluster(dir, members);
        try {
            Map<String, Long> expected = new LinkedHashMap<>();
            for (int k = 0; k < GROUPS.size(); k++) {
                expected.put(GROUPS.get(k), add(processes, GROUPS.get(k), k + 1, 0));
            }
            assertEveryNodeApplied(processes, expected);

            GroupProcess p3 = processes.get("p3");
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

            p3.start("p3", "g1", members, new EmbeddingProductionTest.Counter());
            assertEveryNodeApplied(processes, expected);
            expected.put("g1", add(processes, "g1", 100, expected.get("g1")));
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(GroupProcess::close);
        }
    }

    @Test
    void closingTheSharedTransportUnderRunningNodesStopsThem(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, GroupProcess> processes = startCluster(dir, members);
        try {
            for (String group : GROUPS) {
                add(processes, group, 1, 0);
            }
            GroupProcess p3 = processes.get("p3");
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
            processes.values().forEach(GroupProcess::close);
        }
    }

    /**
     * A state machine that throws stops its node (docs/embedding.md): every member that applies the
     * command stops, so the group stops; the groups beside it on the same transports and stores go
     * on committing, and every process closes cleanly. Not every member need stop: one that a leader
     * had not yet told the command was committed when that leader applied it and stopped, and that is
     * left alone once a second leader does the same, never learns the commit (it cannot win an
     * election alone): it runs on, without having applied it. A majority stopping stops the group.
     */
    @Test
    void aGroupWhoseStateMachineThrowsStopsAloneAndTheOthersGoOn(@TempDir Path dir) throws Exception {
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, GroupProcess> processes = startCluster(dir, members);
        try {
            processes.forEach((id, p) -> p.start(id, "faulty", members, (index, command) -> {
                throw new IllegalStateException(command.toUtf8() + " at " + index + " on " + id);
            }));
            awaitLeader(processes, "faulty").propose(Bytes.ofUtf8("boom"));
            List<RaftNode<Long>> faulty = processes.values().stream().map(p -> p.nodes.get("faulty")).toList();
            Await.until(() -> faulty.stream().filter(n -> n.whenStopped().isDone()).count() >= 2,
                    "a majority of the faulty group stopped");
            for (RaftNode<Long> node : faulty) {
                if (node.whenStopped().isDone()) {
                    assertTrue(String.valueOf(node.failure()).contains("boom"), String.valueOf(node.failure()));
                }
            }
            Map<String, Long> expected = new LinkedHashMap<>();
            for (String group : GROUPS) {
                expected.put(group, add(processes, group, 5, 0));
            }
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(GroupProcess::close);
        }
    }

    /**
     * A node started on a transport closed already (a group added while the process shuts down):
     * with its own loop thread it used to run, electing itself in a term after another with every
     * message dropped, and never said it could not work.
     */
    @Test
    void aNodeStartedOnAClosedTransportIsRefused(@TempDir Path dir) throws Exception {
        try (GroupProcess p = process(dir.resolve("p1"))) {
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
        Map<String, GroupProcess> processes = startCluster(dir, members);
        try {
            Map<String, Long> expected = new LinkedHashMap<>();
            for (String group : GROUPS) {
                expected.put(group, add(processes, group, 1, 0));
            }
            GroupProcess p3 = processes.get("p3");
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
            processes.values().forEach(GroupProcess::close);
        }
    }

    /** Adds {@code increment} to {@code group}'s counter, exactly once; returns the new value. */
    private static long add(Map<String, GroupProcess> processes, String group, long increment, long before)
            throws Exception {
        return GroupCounters.write(processes, group, Long.toString(increment), before, before + increment);
    }
}

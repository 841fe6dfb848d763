package io.raft4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.raft4j.examples.GroupCounters.assertEveryNodeApplied;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several Raft groups per process, as docs/embedding.md describes: three processes' worth of one
 * Netty transport and one RocksDB store each, every process a member of every group. Groups write
 * at once through the shared connections and the shared database, never see each other's entries,
 * and all come back when one process restarts from its data directory.
 */
class MultiGroupProductionTest {
    private static final List<String> GROUPS = List.of("orders", "users", "stock", "audit");

    /** One process: a transport and a store that its node of every group will share. */
    private static GroupProcess process(Path dataDir, int port) throws IOException {
        return new GroupProcess(dataDir, "multi", port, 20,
                config -> config.snapshotEveryEntries(50).snapshotTrailingEntries(10));
    }

    private static void startEveryGroup(GroupProcess p, String id, Map<String, String> members) {
        GROUPS.forEach(group -> p.start(id, group, members, new EmbeddingProductionTest.Counter()));
    }

    @Test
    void groupsShareTransportsAndStoresWithoutSeeingEachOthersEntries(@TempDir Path dir) throws Exception {
        Map<String, GroupProcess> processes = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        Map<String, Long> expected = new LinkedHashMap<>();
        try {
            for (String id : new String[] {"p1", "p2", "p3"}) {
                GroupProcess p = process(dir.resolve(id), 0);
                processes.put(id, p);
                members.put(id, "127.0.0.1:" + p.transport.localPort());
            }
            processes.forEach((id, p) -> startEveryGroup(p, id, members));
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
            GroupProcess back = process(dir.resolve(gone), port);
            processes.put(gone, back);
            startEveryGroup(back, gone, members);
            assertEveryNodeApplied(processes, expected);
            for (String group : GROUPS) {
                assertTrue(back.snapshots.get(group).latest().orElseThrow().meta().lastIndex() > 100,
                        group + ": the returning node caught up past the leader's log start, by snapshot");
            }
            // And every group still takes writes with all three processes up.
            writeToEveryGroup(processes, expected, 20);
            assertEveryNodeApplied(processes, expected);
        } finally {
            processes.values().forEach(GroupProcess::close);
        }
    }

    /**
     * Proposes {@code count} increments to every group's leader, all groups at once, one write in
     * flight per group. A leader may change under load (an election timeout missed on a busy
     * machine): a write refused by a non-leader is sent again to the new leader, and one whose
     * outcome is unknown is settled by reading the counter, which the one write in flight either
     * moved or did not.
     */
    private static void writeToEveryGroup(Map<String, GroupProcess> processes, Map<String, Long> expected, int count)
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
    private static void increment(Map<String, GroupProcess> processes, String group, long increment, long before)
            throws Exception {
        GroupCounters.write(processes, group, Long.toString(increment), before, before + increment);
    }
}

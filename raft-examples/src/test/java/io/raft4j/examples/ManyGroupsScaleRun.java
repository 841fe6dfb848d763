package io.raft4j.examples;

import io.raft4j.RaftNode;
import io.raft4j.message.Bytes;
import io.raft4j.spi.LogStorage;
import io.raft4j.storage.rocksdb.RocksDbLogStore;

import com.sun.management.OperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Manual scale run, not a CI test (docs/embedding.md quotes its figures): G groups on three
 * in-process {@link GroupProcess}es, each one Netty transport and one RocksDB store. Prints the time
 * to start them all and to elect every leader, threads, heap, idle CPU by thread kind, the time to
 * close and to reopen one process's logs. Args: G [tickMillis]; run on the test classpath.
 */
final class ManyGroupsScaleRun {
    public static void main(String[] args) throws Exception {
        try (ScratchDirectory scratch = new ScratchDirectory("scale")) {
            run(args, scratch.path);
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        int groups = Integer.parseInt(args[0]);
        int tick = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        var threads = ManagementFactory.getThreadMXBean();
        var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        int t0 = threads.getThreadCount();
        Map<String, GroupProcess> ps = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : new String[] {"p1", "p2", "p3"}) {
            GroupProcess p = new GroupProcess(dir.resolve(id), "scale", 0, tick, UnaryOperator.identity());
            ps.put(id, p);
            members.put(id, "127.0.0.1:" + p.transport.localPort());
        }
        long s = System.nanoTime();
        for (int g = 0; g < groups; g++) {
            String group = "g" + g;
            ps.forEach((id, p) -> p.start(id, group, members, new EmbeddingProductionTest.Counter()));
        }
        long started = System.nanoTime();
        System.out.printf("start %d groups: %d ms, threads %d -> %d%n", groups, (started - s) / 1_000_000, t0,
                threads.getThreadCount());
        for (int g = 0; g < groups; g++) {
            GroupCounters.awaitLeader(ps, "g" + g);
        }
        System.out.printf("all leaders after %d ms%n", (System.nanoTime() - s) / 1_000_000);
        List<CompletableFuture<Long>> writes = new ArrayList<>();
        long w = System.nanoTime();
        for (int g = 0; g < groups; g++) {
            writes.add(GroupCounters.awaitLeader(ps, "g" + g).propose(Bytes.ofUtf8("1")));
        }
        for (var f : writes) {
            f.get(60, TimeUnit.SECONDS);
        }
        System.out.printf("one write per group: %d ms%n", (System.nanoTime() - w) / 1_000_000);
        List<CompletableFuture<?>> snaps = new ArrayList<>();
        for (GroupProcess p : ps.values()) {
            p.nodes.values().forEach(n -> snaps.add(n.takeSnapshot()));
        }
        for (var f : snaps) {
            f.get(120, TimeUnit.SECONDS);
        }
        System.out.printf("after one snapshot per node: threads %d%n", threads.getThreadCount());
        System.gc();
        Runtime rt = Runtime.getRuntime();
        System.out.printf("heap used after gc: %d MiB, threads %d%n", (rt.totalMemory() - rt.freeMemory()) >> 20,
                threads.getThreadCount());
        Map<Long, Long> before = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            before.put(id, threads.getThreadCpuTime(id));
        }
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        Thread.sleep(10_000);
        long cpu = os.getProcessCpuTime() - cpu0;
        long wall = System.nanoTime() - wall0;
        System.out.printf("idle CPU: %.1f%% of one core; threads after 10 s idle %d%n", 100.0 * cpu / wall,
                threads.getThreadCount());
        Map<String, Long> byKind = new TreeMap<>();
        for (long id : threads.getAllThreadIds()) {
            var info = threads.getThreadInfo(id);
            if (info == null || !before.containsKey(id)) {
                continue;
            }
            String kind = info.getThreadName().replaceAll("[-_]?[0-9].*$", "").replaceAll("-p[0-9]+$", "");
            kind = kind.replaceAll("-(p[0-9]|n[0-9]).*", "");
            byKind.merge(kind, threads.getThreadCpuTime(id) - before.get(id), Long::sum);
        }
        byKind.forEach((k, v) -> System.out.printf("  %-30s %.1f%%%n", k, 100.0 * v / wall));
        long leaders = 0;
        for (int g = 0; g < groups; g++) {
            for (GroupProcess p : ps.values()) {
                RaftNode<Long> n = p.nodes.get("g" + g);
                if (n.isLeader()) {
                    leaders++;
                }
            }
        }
        System.out.printf("leaders now %d%n", leaders);
        long c = System.nanoTime();
        ps.values().forEach(GroupProcess::close);
        System.out.printf("close all: %d ms, threads %d%n", (System.nanoTime() - c) / 1_000_000,
                threads.getThreadCount());
        long r = System.nanoTime();
        try (RocksDbLogStore store = RocksDbLogStore.open(dir.resolve("p1"))) {
            List<LogStorage> logs = new ArrayList<>();
            for (int g = 0; g < groups; g++) {
                logs.add(store.forGroup("g" + g));
            }
            System.out.printf("reopen p1's store and its %d group logs: %d ms%n", groups,
                    (System.nanoTime() - r) / 1_000_000);
            logs.forEach(LogStorage::close);
        }
    }
}

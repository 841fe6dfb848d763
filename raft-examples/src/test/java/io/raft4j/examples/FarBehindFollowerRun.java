package io.raft4j.examples;

import io.raft4j.OverloadedException;
import io.raft4j.RaftNode;
import io.raft4j.ReadConsistency;
import io.raft4j.message.Bytes;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Manual scale run (not a CI test): one group on three in-process GroupProcesses; p3's node is
 * closed while the leader takes N entries of 128 B, then started again and timed catching up while
 * the leader keeps taking writes. Run with -Xmx512m. Args: N, snapshotEveryEntries.
 */
final class FarBehindFollowerRun {
    public static void main(String[] args) throws Exception {
        try (ScratchDirectory scratch = new ScratchDirectory("farbehind")) {
            run(args, scratch.path);
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        long n = Long.parseLong(args[0]);
        long snapshotEvery = Long.parseLong(args[1]);

        Map<String, GroupProcess> ps = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : new String[] {"p1", "p2", "p3"}) {
            GroupProcess p = new GroupProcess(dir.resolve(id), "far", 0, 100,
                    b -> b.snapshotEveryEntries(snapshotEvery).snapshotEveryBytes(Long.MAX_VALUE / 4));
            ps.put(id, p);
            members.put(id, "127.0.0.1:" + p.transport.localPort());
        }
        ps.forEach((id, p) -> p.start(id, "g", members, new EmbeddingProductionTest.Counter()));
        GroupProcess p3 = ps.get("p3");
        RaftNode<Long> leader = GroupCounters.awaitLeader(ps, "g");
        if (leader == p3.nodes.get("g")) {
            throw new IllegalStateException("p3 leads; run again");
        }
        p3.stop("g");
        String one = "0".repeat(127) + "1";
        long s = System.nanoTime();
        long done = write(leader, n, one);
        System.out.printf("wrote %d entries of 128 B with p3 down: %d ms%n", done, (System.nanoTime() - s) / 1_000_000);
        long target = leader.status().commitIndex();
        HeapPeaks.reset();
        s = System.nanoTime();
        RaftNode<Long> follower = p3.start("p3", "g", members, new EmbeddingProductionTest.Counter());
        // The leader keeps taking writes while p3 catches up: latency of each, one at a time.
        long worst = 0;
        long writes = 0;
        while (follower.status().appliedIndex() < target) {
            long w = System.nanoTime();
            leader.propose(Bytes.ofUtf8("1")).get(60, TimeUnit.SECONDS);
            worst = Math.max(worst, System.nanoTime() - w);
            writes++;
        }
        System.out.printf("p3 caught up %d entries in %d ms; meanwhile %d writes, worst %.1f ms; peak heap %d MiB%n",
                target, (System.nanoTime() - s) / 1_000_000, writes, worst / 1e6, HeapPeaks.peakHeap() >> 20);
        System.out.printf("p3 value %d, leader %d%n", follower.query(Bytes.EMPTY, ReadConsistency.STALE).join(),
                leader.query(Bytes.EMPTY, ReadConsistency.STALE).join());
        System.out.println("stats p3: " + follower.stats());
        ps.values().forEach(GroupProcess::close);
    }

    private static long write(RaftNode<Long> leader, long n, String command) throws Exception {
        Deque<CompletableFuture<Long>> window = new ArrayDeque<>();
        Bytes c = Bytes.ofUtf8(command);
        long sent = 0;
        while (sent < n) {
            if (window.size() >= 2000) {
                window.poll().get(60, TimeUnit.SECONDS);
            }
            CompletableFuture<Long> f = leader.propose(c);
            if (f.isCompletedExceptionally()) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof OverloadedException) {
                        window.poll().get(60, TimeUnit.SECONDS);
                        continue;
                    }
                    throw e;
                }
            }
            window.add(f);
            sent++;
        }
        for (CompletableFuture<Long> f : window) {
            f.get(60, TimeUnit.SECONDS);
        }
        return sent;
    }

}

package io.raft4j.examples;

import io.raft4j.OverloadedException;
import io.raft4j.RaftNode;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Manual scale run (not a CI test): K entries just under maxEntryBytes (8 MiB) on three
 * in-process nodes under -Xmx512m, all up, then with p3 down and catching up. Args: K.
 */
final class LargeEntriesRun {
    /** Counts the bytes applied. */
    static final class Sizes implements StateMachine<Long> {
        private long bytes;

        @Override
        public Long apply(long index, Bytes command) {
            bytes += command.length();
            return bytes;
        }

        @Override
        public Long query(Bytes query) {
            return bytes;
        }
    }

    public static void main(String[] args) throws Exception {
        try (ScratchDirectory scratch = new ScratchDirectory("large")) {
            run(args, scratch.path);
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        int k = Integer.parseInt(args[0]);

        Map<String, GroupProcess> ps = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : new String[] {"p1", "p2", "p3"}) {
            GroupProcess p = new GroupProcess(dir.resolve(id), "large", 0, 100, b -> b);
            ps.put(id, p);
            members.put(id, "127.0.0.1:" + p.transport.localPort());
        }
        ps.forEach((id, p) -> p.start(id, "g", members, new Sizes()));
        GroupProcess p3 = ps.get("p3");
        RaftNode<Long> leader = GroupCounters.awaitLeader(ps, "g");
        if (leader == p3.nodes.get("g")) {
            throw new IllegalStateException("p3 leads; run again");
        }
        Bytes big = Bytes.wrap(new byte[(8 << 20) - 64]);
        HeapPeaks.reset();
        long s = System.nanoTime();
        write(leader, big, k);
        long ms = (System.nanoTime() - s) / 1_000_000;
        System.out.printf("all up: %d entries of 8 MiB in %d ms (%.1f MiB/s), peak heap %d MiB; leader %s%n", k, ms,
                k * 8.0 * 1000 / ms, HeapPeaks.peakHeap() >> 20, leader.stats());
        p3.stop("g");
        s = System.nanoTime();
        write(leader, big, k);
        ms = (System.nanoTime() - s) / 1_000_000;
        System.out.printf("p3 down: %d entries in %d ms%n", k, ms);
        long target = leader.status().commitIndex();
        HeapPeaks.reset();
        s = System.nanoTime();
        RaftNode<Long> follower = p3.start("p3", "g", members, new Sizes());
        GroupCounters.assertEveryNodeApplied(Map.of("p3", p3), Map.of("g", leader.query(Bytes.EMPTY).get()));
        System.out.printf("p3 caught up to %d in %d ms, peak heap %d MiB; %s%n", target,
                (System.nanoTime() - s) / 1_000_000, HeapPeaks.peakHeap() >> 20, follower.stats());
        ps.values().forEach(GroupProcess::close);
    }

    private static void write(RaftNode<Long> leader, Bytes big, int k) throws Exception {
        Deque<CompletableFuture<Long>> window = new ArrayDeque<>();
        int sent = 0;
        while (sent < k) {
            CompletableFuture<Long> f = leader.propose(big);
            if (f.isCompletedExceptionally()) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof OverloadedException && !window.isEmpty()) {
                        window.poll().get(120, TimeUnit.SECONDS);
                        continue;
                    }
                    throw e;
                }
            }
            window.add(f);
            sent++;
        }
        for (CompletableFuture<Long> f : window) {
            f.get(120, TimeUnit.SECONDS);
        }
    }

}

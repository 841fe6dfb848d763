package io.raft4j.examples;

import io.raft4j.OverloadedException;
import io.raft4j.RaftNode;
import io.raft4j.ReadConsistency;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Manual scale run (not a CI test): a follower is caught up by a snapshot of S MiB (streamed by a
 * state machine that holds only a counter), under -Xmx512m, while the leader keeps taking writes.
 * Args: snapshot MiB.
 */
final class BigSnapshotCatchUpRun {
    /** A counter whose snapshot is {@code bytes} long: its value, then filler. */
    static final class Padded implements StateMachine<Long> {
        private final long bytes;
        private long value;
        volatile long restoredBytes;

        Padded(long bytes) {
            this.bytes = bytes;
        }

        @Override
        public Long apply(long index, Bytes command) {
            return ++value;
        }

        @Override
        public Long query(Bytes query) {
            return value;
        }

        @Override
        public Snapshot snapshot() {
            long view = value;
            return out -> {
                byte[] block = new byte[64 << 10];
                ByteBuffer.wrap(block).putLong(view);
                for (long left = bytes; left > 0; left -= block.length) {
                    out.write(block, 0, (int) Math.min(left, block.length));
                    ByteBuffer.wrap(block).putLong(0);
                }
            };
        }

        @Override
        public void restore(InputStream in) throws IOException {
            byte[] block = new byte[64 << 10];
            long read = 0;
            long v = -1;
            int r;
            while ((r = in.read(block)) > 0) {
                if (read == 0) {
                    v = ByteBuffer.wrap(block).getLong();
                }
                read += r;
            }
            value = v;
            restoredBytes = read;
        }
    }

    public static void main(String[] args) throws Exception {
        try (ScratchDirectory scratch = new ScratchDirectory("bigsnap")) {
            run(args, scratch.path);
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        long bytes = Long.parseLong(args[0]) << 20;

        Map<String, GroupProcess> ps = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        for (String id : new String[] {"p1", "p2", "p3"}) {
            GroupProcess p = new GroupProcess(dir.resolve(id), "big", 0, 100,
                    b -> b.snapshotEveryEntries(2000).snapshotTrailingEntries(100));
            ps.put(id, p);
            members.put(id, "127.0.0.1:" + p.transport.localPort());
        }
        Map<String, Padded> machines = new LinkedHashMap<>();
        ps.forEach((id, p) -> {
            machines.put(id, new Padded(bytes));
            p.start(id, "g", members, machines.get(id));
        });
        GroupProcess p3 = ps.get("p3");
        RaftNode<Long> leader = GroupCounters.awaitLeader(ps, "g");
        if (leader == p3.nodes.get("g")) {
            throw new IllegalStateException("p3 leads; run again");
        }
        p3.stop("g");
        long s = System.nanoTime();
        for (int i = 0; i < 2500; i++) {
            propose(leader);
        }
        System.out.printf("2500 writes with p3 down: %d ms, snapshots taken %d%n", (System.nanoTime() - s) / 1_000_000,
                leader.stats().snapshotsTaken());
        long target = leader.status().commitIndex();
        HeapPeaks.reset();
        s = System.nanoTime();
        Padded fresh = new Padded(bytes);
        RaftNode<Long> follower = p3.start("p3", "g", members, fresh);
        long worst = 0;
        long writes = 0;
        while (follower.status().appliedIndex() < target) {
            long w = System.nanoTime();
            propose(leader);
            worst = Math.max(worst, System.nanoTime() - w);
            writes++;
        }
        long peak = HeapPeaks.peakHeap();
        System.out.printf("p3 caught up to %d in %d ms (restored %d MiB); meanwhile %d writes, worst %.1f ms;"
                + " peak heap %d MiB%n", target, (System.nanoTime() - s) / 1_000_000, fresh.restoredBytes >> 20,
                writes, worst / 1e6, peak >> 20);
        System.out.printf("p3 value %d, leader %d; stats p3 %s%n",
                follower.query(Bytes.EMPTY, ReadConsistency.STALE).join(),
                leader.query(Bytes.EMPTY, ReadConsistency.STALE).join(), follower.stats());
        ps.values().forEach(GroupProcess::close);
    }

    private static void propose(RaftNode<Long> leader) throws Exception {
        while (true) {
            try {
                leader.propose(Bytes.ofUtf8("x")).get(60, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof OverloadedException)) {
                    throw e;
                }
            }
        }
    }
}

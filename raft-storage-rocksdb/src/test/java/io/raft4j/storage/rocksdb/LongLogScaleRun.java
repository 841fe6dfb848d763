package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/** Manual scale run (not a CI test): a log of N entries of B bytes; reopen, lookups, compaction. */
final class LongLogScaleRun {
    public static void main(String[] args) throws Exception {
        if (args.length > 2) {
            run(args, Path.of(args[2])); // kept, to reopen again with the same arguments
            return;
        }
        Path dir = Files.createTempDirectory("longlog");
        try {
            run(args, dir);
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(String[] args, Path dir) throws Exception {
        int n = Integer.parseInt(args[0]);
        int size = Integer.parseInt(args[1]);
        Runtime rt = Runtime.getRuntime();
        if (!Files.exists(dir.resolve("log"))) {
            long s = System.nanoTime();
            try (RocksDbLogStore store = RocksDbLogStore.open(dir)) {
                LogStorage log = store.forGroup("g");
                byte[] payload = new byte[size];
                ThreadLocalRandom.current().nextBytes(payload);
                List<LogEntry> batch = new ArrayList<>();
                for (long i = 1; i <= n; i++) {
                    batch.add(LogEntry.command(i, 1 + i / 100_000, Bytes.wrap(payload)));
                    if (batch.size() == 1000) {
                        log.append(batch, null);
                        batch = new ArrayList<>();
                    }
                }
                if (!batch.isEmpty()) {
                    log.append(batch, null);
                }
                log.close();
            }
            System.out.printf("wrote %d entries of %d B in %d ms (dir %s)%n", n, size,
                    (System.nanoTime() - s) / 1_000_000, dir);
        }
        System.gc();
        long heap0 = rt.totalMemory() - rt.freeMemory();
        long s = System.nanoTime();
        try (RocksDbLogStore store = RocksDbLogStore.open(dir)) {
            LogStorage log = store.forGroup("g");
            long opened = System.nanoTime();
            System.gc();
            System.out.printf("reopen: %d ms, heap +%d MiB, first %d last %d%n", (opened - s) / 1_000_000,
                    (rt.totalMemory() - rt.freeMemory() - heap0) >> 20, log.firstIndex(), log.lastIndex());
            long t = System.nanoTime();
            long sum = 0;
            for (int k = 0; k < 1_000_000; k++) {
                sum += log.term(1 + ThreadLocalRandom.current().nextLong(log.lastIndex()));
            }
            System.out.printf("1M random term lookups: %d ms (%d)%n", (System.nanoTime() - t) / 1_000_000, sum);
            t = System.nanoTime();
            long read = 0;
            for (long i = 1; i <= log.lastIndex(); ) {
                List<LogEntry> es = log.entries(i, log.lastIndex() + 1, 1 << 20);
                read += es.size();
                i += es.size();
            }
            System.out.printf("read all in 1 MiB batches: %d ms, %d entries%n", (System.nanoTime() - t) / 1_000_000, read);
            long last = log.lastIndex();
            t = System.nanoTime();
            log.compact(last - 1000, log.term(last - 1000));
            System.out.printf("compact to %d: %d ms%n", last - 1000, (System.nanoTime() - t) / 1_000_000);
            t = System.nanoTime();
            log.append(List.of(LogEntry.command(last + 1, log.term(last), Bytes.wrap(new byte[size]))), null);
            System.out.printf("append after compaction: %d ms%n", (System.nanoTime() - t) / 1_000_000);
            log.close();
        }
        s = System.nanoTime();
        try (RocksDbLogStore store = RocksDbLogStore.open(dir)) {
            LogStorage log = store.forGroup("g");
            System.out.printf("reopen after compaction: %d ms, first %d%n", (System.nanoTime() - s) / 1_000_000,
                    log.firstIndex());
            log.close();
        }
    }
}

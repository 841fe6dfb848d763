package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Durable appends to one group of a {@link RocksDbLogStore}: each invocation is one
 * {@code append} of {@code batch} entries of {@code entryBytes} payload (one synced RocksDB write,
 * or, for an append of enough large payloads, one synced segment file: docs/storage.md);
 * with {@code snapshots=true} the log is also compacted now and then, as snapshots do.
 * Reports appends/s (the primary score), and as secondary scores {@code entries} (entries/s) and
 * {@code megabytes} (payload MB/s, 10^6 bytes). Compare with the raw fsync probe of the peers
 * harness run in the same sitting ({@code java -jar target/peers.jar --probe fsync}): batches of 256
 * against its 64-records-per-force figure, single appends against its single-record figure.
 *
 * <p>Not run by {@code mvn verify} (Surefire runs only {@code *Test} classes). To run it, from the
 * repository root:
 * <pre>
 * mvn -q -pl raft-core,raft-storage-rocksdb -am package dependency:build-classpath -DskipTests \
 *     -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp "raft-storage-rocksdb/target/test-classes:raft-storage-rocksdb/target/classes:$(cat raft-storage-rocksdb/target/test-classpath.txt)" \
 *     org.openjdk.jmh.Main RocksDbAppendBenchmark -f 1 -wi 2 -i 3 -w 2s -r 2s
 * </pre>
 * ({@code -p snapshots=false} for the append-only half alone; {@code -p batch=256 -p entryBytes=128}
 * for one configuration.) The store lives in a fresh directory under {@code java.io.tmpdir} (set {@code -Djava.io.tmpdir}
 * in {@code -jvmArgsAppend} to measure another disk), deleted afterwards.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class RocksDbAppendBenchmark {
    @Param({"1", "16", "64", "256"})
    public int batch;

    @Param({"128", "4096"})
    public int entryBytes;

    /**
     * {@code false}: appends only, the log grows without bound (the worst case: every byte goes to
     * the WAL and again to SST files when memtables flush). {@code true}: as a Raft node runs, the
     * log is compacted after each {@value #SNAPSHOT_EVERY_BYTES} bytes of payload, as a snapshot
     * would, keeping the last {@value #RETAINED_BYTES} bytes for slow followers; entries deleted
     * before their memtable flushes are never written to SST files.
     */
    @Param({"false", "true"})
    public boolean snapshots;

    static final long SNAPSHOT_EVERY_BYTES = 32L << 20;
    static final long RETAINED_BYTES = 1L << 20;

    private Path dataDir;
    private RocksDbLogStore store;
    private LogStorage log;
    private Bytes payload;
    private long nextIndex = 1;

    /** Secondary scores, reported per second like the primary one. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        /** Entries appended. */
        public long entries;
        /** Payload megabytes appended. */
        public double megabytes;

        @Setup(Level.Iteration)
        public void reset() {
            entries = 0;
            megabytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void open() throws IOException {
        dataDir = Files.createTempDirectory("raft4j-append-bench-");
        store = RocksDbLogStore.open(dataDir);
        log = store.forGroup("bench");
        byte[] bytes = new byte[entryBytes];
        new SplittableRandom(42).nextBytes(bytes);
        payload = Bytes.wrap(bytes);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        store.close();
        Database.deleteRecursively(dataDir);
    }

    @Benchmark
    public void append(Rates rates) {
        List<LogEntry> entries = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
            entries.add(LogEntry.command(nextIndex + i, 1, payload));
        }
        log.append(entries, null);
        nextIndex += batch;
        if (snapshots && (nextIndex - log.firstIndex()) * entryBytes >= SNAPSHOT_EVERY_BYTES) {
            long keep = RETAINED_BYTES / entryBytes;
            log.compact(nextIndex - 1 - keep, 1);
        }
        rates.entries += batch;
        rates.megabytes += (double) batch * entryBytes / 1e6;
    }
}

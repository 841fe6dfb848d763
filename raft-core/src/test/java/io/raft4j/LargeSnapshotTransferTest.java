package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A large state (default 256 MiB) streamed by InstallSnapshot to a fresh follower, measuring the
 * transfer rate and the peak heap. Off by default; run with
 * {@code mvn -pl raft-core test -Dtest=LargeSnapshotTransferTest -Draft.snapshot.largeMiB=256 -DargLine=-Xmx192m}.
 */
@EnabledIfSystemProperty(named = "raft.snapshot.largeMiB", matches = "\\d+")
class LargeSnapshotTransferTest {

    /** A synthetic state of a given size: generated on write, only checksummed on restore (never held). */
    static final class BigState implements StateMachine<String> {
        final long sizeBytes;
        volatile long restoredBytes;
        volatile long restoredCrc;

        BigState(long sizeBytes) {
            this.sizeBytes = sizeBytes;
        }

        @Override
        public String apply(long index, Bytes command) {
            return "ok";
        }

        @Override
        public Snapshot snapshot() {
            return out -> writeContent(out, sizeBytes);
        }

        @Override
        public void restore(InputStream in) throws IOException {
            CRC32C crc = new CRC32C();
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) > 0) {
                crc.update(buffer, 0, n);
                total += n;
            }
            restoredCrc = crc.getValue();
            restoredBytes = total;
        }

        static void writeContent(OutputStream out, long size) throws IOException {
            byte[] block = new byte[1 << 16];
            for (long written = 0; written < size; written += block.length) {
                for (int i = 0; i < block.length; i += 8) {
                    long v = (written + i) * 0x9E3779B97F4A7C15L;
                    for (int b = 0; b < 8; b++) {
                        block[i + b] = (byte) (v >>> (8 * b));
                    }
                }
                out.write(block, 0, (int) Math.min(block.length, size - written));
            }
        }
    }

    @Test
    void largeSnapshotTransfersToAFreshFollowerWithBoundedHeap(@TempDir Path dir) throws Exception {
        long size = Long.getLong("raft.snapshot.largeMiB") << 20;
        InMemoryTransport network = new InMemoryTransport();
        java.util.Map<String, RaftNode<String>> nodes = new java.util.LinkedHashMap<>();
        java.util.Map<String, BigState> states = new java.util.LinkedHashMap<>();
        for (String id : new String[]{"a", "b", "c"}) {
            RaftConfig config = RaftConfig.builder(id).initialMembers("a", "b", "c").snapshotTrailingEntries(0)
                    .snapshotEveryEntries(1_000_000).build();
            BigState state = new BigState(id.equals("c") ? 0 : size);
            states.put(id, state);
            nodes.put(id, RaftNode.builder(config, state).transport(network).storage(new InMemoryLogStorage())
                    .snapshots(new FileSnapshotStore(dir.resolve(id))).tickMillis(10).build());
        }
        try {
            // c is a member that has never run: once the log is compacted it can only catch up by snapshot.
            nodes.get("a").start();
            nodes.get("b").start();
            LocalCluster.await(Duration.ofSeconds(10), () -> nodes.get("a").isLeader() || nodes.get("b").isLeader());
            RaftNode<String> leader = nodes.get("a").isLeader() ? nodes.get("a") : nodes.get("b");
            for (int i = 0; i < 10; i++) {
                leader.propose(Bytes.ofUtf8("x" + i)).get(10, TimeUnit.SECONDS);
            }
            leader.takeSnapshot().get(300, TimeUnit.SECONDS);
            CRC32C expected = new CRC32C();
            BigState.writeContent(new OutputStream() {
                @Override
                public void write(int b) {
                    expected.update(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    expected.update(b, off, len);
                }
            }, size);
            System.gc();
            resetPeakHeap();
            long start = System.nanoTime();
            nodes.get("c").start();
            BigState follower = states.get("c");
            LocalCluster.await(Duration.ofMinutes(10), () -> follower.restoredBytes == size);
            double seconds = (System.nanoTime() - start) / 1e9;
            long peak = peakHeapBytes();
            assertEquals(expected.getValue(), follower.restoredCrc, "restored content differs");
            System.out.printf("large snapshot: %d MiB to a fresh follower in %.2f s = %.1f MB/s; peak heap %.1f MiB"
                            + " (max heap %d MiB)%n", size >> 20, seconds, size / 1e6 / seconds, peak / 1048576.0,
                    Runtime.getRuntime().maxMemory() >> 20);
        } finally {
            for (RaftNode<String> n : nodes.values()) {
                n.close();
            }
            network.close();
        }
    }

    private static void resetPeakHeap() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    static long peakHeapBytes() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak;
    }
}

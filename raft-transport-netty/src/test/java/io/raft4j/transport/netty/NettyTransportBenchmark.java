package io.raft4j.transport.netty;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Messages/s and MB/s between two {@link NettyTransport}s over loopback, measured like the peers
 * harness's raw TCP probe ({@code java -jar target/peers.jar --probe tcp}): a window of W requests
 * outstanding on one connection, each answered as soon as it arrives, the next sent as soon as an
 * answer comes back. A request is an {@link AppendEntries} carrying one entry of S payload bytes;
 * the answer an {@link AppendEntriesResponse}. Both go through the whole transport: record to
 * protobuf, queue, frame, socket, decode, routing, record. Answers are sent from the receiving
 * event-loop thread (no Raft loop in between), so the figure is the transport's own.
 *
 * <p>Not a test; never run by {@code mvn verify}. Run from the repository root:
 * <pre>
 * mvn -q -pl raft-core,raft-transport-netty test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
 * java -cp "raft-transport-netty/target/test-classes:raft-transport-netty/target/classes:$(cat raft-transport-netty/target/test-classpath.txt)" \
 *     io.raft4j.transport.netty.NettyTransportBenchmark [--sizes 128,65536] [--outstanding 1,64] \
 *     [--seconds 5] [--warmup 3] [--io-threads N] [--tls]
 * </pre>
 * Prints one JSON line per (size, outstanding).
 */
public final class NettyTransportBenchmark {

    private NettyTransportBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = {128, 65536};
        int[] windows = {1, 64};
        double seconds = 5;
        double warmup = 3;
        int ioThreads = -1;
        boolean tls = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sizes" -> sizes = ints(args[++i]);
                case "--outstanding" -> windows = ints(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--io-threads" -> ioThreads = Integer.parseInt(args[++i]);
                case "--tls" -> tls = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        TlsSettings[] certs = tls ? certificates() : new TlsSettings[2];
        NettyTransport a = NettyTransport.start(config(ioThreads, certs[0]));
        NettyTransport b = NettyTransport.start(config(ioThreads, certs[1]));
        try {
            Map<String, String> addresses = Map.of("a", "127.0.0.1:" + a.localPort(), "b", "127.0.0.1:" + b.localPort());
            a.updatePeers("bench", addresses);
            b.updatePeers("bench", addresses);
            b.register("bench", "b", message -> {
                AppendEntries req = (AppendEntries) message;
                b.send(new AppendEntriesResponse("bench", "b", "a", req.term(), true, req.lastIndex(), 0, 0, req.round(), 0));
            });
            for (int size : sizes) {
                for (int window : windows) {
                    System.out.println(run(a, size, window, warmup, seconds, tls, a.usesNativeTransport()));
                    System.out.flush();
                }
            }
        } finally {
            a.close();
            b.close();
        }
    }

    private static NettyTransportConfig config(int ioThreads, TlsSettings tls) {
        NettyTransportConfig.Builder b = NettyTransportConfig.builder("bench").listen("127.0.0.1", 0).tls(tls);
        if (ioThreads > 0) {
            b.ioThreads(ioThreads);
        }
        return b.build();
    }

    /** A closed loop of {@code window} outstanding requests; the answer to one sends the next. */
    private static final class Driver implements Transport.Inbound {
        final NettyTransport transport;
        final Bytes payload;
        final Recorder latencies = new Recorder(3);
        final AtomicLong completed = new AtomicLong();
        final AtomicLong sequence = new AtomicLong();
        final long[] sentAt = new long[1 << 16];
        volatile boolean measuring;
        volatile boolean stopping;
        final AtomicLong outstanding = new AtomicLong();
        final CountDownLatch drained = new CountDownLatch(1);

        Driver(NettyTransport transport, int size) {
            this.transport = transport;
            this.payload = Bytes.wrap(new byte[size]);
        }

        void sendOne() {
            long seq = sequence.getAndIncrement();
            sentAt[(int) (seq & (sentAt.length - 1))] = System.nanoTime();
            outstanding.incrementAndGet();
            transport.send(new AppendEntries("bench", "a", "b", 1, seq, 1,
                    List.of(LogEntry.command(seq + 1, 1, payload)), seq, seq));
        }

        @Override
        public void receive(RaftMessage message) {
            long seq = ((AppendEntriesResponse) message).round();
            long now = System.nanoTime();
            if (measuring) {
                latencies.recordValue(Math.max(1, (now - sentAt[(int) (seq & (sentAt.length - 1))]) / 1000));
                completed.incrementAndGet();
            }
            long left = outstanding.decrementAndGet();
            if (!stopping) {
                sendOne();
            } else if (left == 0) {
                drained.countDown();
            }
        }

        @Override
        public void peerUnreachable(String peerId) {
            System.err.println("peer unreachable: " + peerId + " (a request was dropped)");
        }
    }

    private static String run(NettyTransport a, int size, int window, double warmup, double seconds, boolean tls,
                              boolean epoll) throws InterruptedException {
        Driver driver = new Driver(a, size);
        a.register("bench", "a", driver);
        try {
            for (int i = 0; i < window; i++) {
                driver.sendOne();
            }
            TimeUnit.NANOSECONDS.sleep((long) (warmup * 1e9));   // warm-up: JIT, connections, pools
            driver.latencies.reset();
            long start = System.nanoTime();
            driver.measuring = true;
            TimeUnit.NANOSECONDS.sleep((long) (seconds * 1e9));  // the measured window
            driver.measuring = false;
            long elapsed = System.nanoTime() - start;
            long done = driver.completed.get();
            Histogram h = driver.latencies.getIntervalHistogram();
            driver.stopping = true;
            if (!driver.drained.await(10, TimeUnit.SECONDS)) {
                System.err.println("requests still outstanding: " + driver.outstanding.get());
            }
            double perSecond = done / (elapsed / 1e9);
            return String.format(java.util.Locale.ROOT,
                    "{\"bench\": \"netty_transport\", \"payload_bytes\": %d, \"outstanding\": %d, "
                            + "\"round_trips_per_s\": %.0f, \"messages_per_s\": %.0f, \"payload_mb_per_s\": %.1f, "
                            + "\"p50_us\": %d, \"p99_us\": %d, \"p999_us\": %d, \"tls\": %b, \"epoll\": %b, "
                            + "\"dropped\": %d, \"seconds\": %.1f}",
                    size, window, perSecond, 2 * perSecond, perSecond * size / 1e6,
                    h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9),
                    tls, epoll, a.droppedMessages(), seconds);
        } finally {
            a.unregister("bench", "a");
        }
    }

    private static TlsSettings[] certificates() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("raft-bench-tls");
        TestCertificates.Authority ca = TestCertificates.authority("bench", dir);
        return new TlsSettings[] {ca.issue("a", dir), ca.issue("b", dir)};
    }

    private static int[] ints(String csv) {
        return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}

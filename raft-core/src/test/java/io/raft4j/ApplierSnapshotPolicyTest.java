package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The automatic snapshots of {@link RaftConfig#snapshotEveryEntries()} on the apply path. */
class ApplierSnapshotPolicyTest {

    /**
     * A snapshot fell due while the one before was still being written (a slow disk; in the runtime
     * tests, a snapshot thread the loaded machine did not schedule): it was skipped, "asked again at
     * the next trigger", which is the next apply. When the writes had stopped there was none, and the
     * log stayed uncompacted behind the old snapshot for as long as no entry came (found as a rare
     * failure of MembershipRuntimeTest's wait for the leader's snapshot past 50 of 100 entries).
     */
    @ParameterizedTest(name = "inline={0}")
    @ValueSource(booleans = {false, true})
    void aSnapshotDueWhileAnotherIsWrittenIsTakenOnceThatOneIsWritten(boolean inline) throws Exception {
        InMemorySnapshotStore store = new InMemorySnapshotStore();
        CountDownLatch firstWriteBegun = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SnapshotStore slowFirstWrite = new DelegatingStore(store) {
            @Override
            public Sink begin(SnapshotMeta meta) throws IOException {
                if (firstWriteBegun.getCount() > 0) {
                    firstWriteBegun.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.begin(meta);
            }
        };
        // The event loop: where an inline applier runs, and what it hands work back to.
        ExecutorService loop = Executors.newSingleThreadExecutor();
        Applier<String> applier = new Applier<>("raft-apply-a", new LocalCluster.RecordingStateMachine(), slowFirstWrite,
                RaftConfig.builder("a").snapshotEveryEntries(20).build(), meta -> { }, t -> { },
                new LeadershipNotifier("a", null), inline, new NodeCounters(),
                new ApplyBacklog(Long.MAX_VALUE, () -> { }), loop);
        applier.start();
        try {
            for (long i = 1; i <= 60; i++) {
                List<LogEntry> one = List.of(LogEntry.command(i, 1, Bytes.ofUtf8("c" + i)));
                loop.submit(() -> applier.submit(one, List.of())).get(5, TimeUnit.SECONDS);
            }
            assertTrue(firstWriteBegun.await(5, TimeUnit.SECONDS));
            LocalCluster.await(Duration.ofSeconds(5), () -> applier.appliedIndex() == 60);
            assertEquals(Optional.empty(), store.latest(), "the first snapshot, at 20, is still being written");

            release.countDown();    // no entry comes after this one
            LocalCluster.await(Duration.ofSeconds(5), () -> store.latest().map(s -> s.meta().lastIndex() == 60).orElse(false),
                    () -> "latest snapshot " + store.latest().map(s -> s.meta()).orElse(null)
                            + ": the one due at 40 was never taken");
        } finally {
            release.countDown();
            loop.submit(() -> applier.stop(new RaftStoppedException("test over", null))).get(10, TimeUnit.SECONDS);
            loop.shutdown();
        }
    }

    /** Passes everything to a store. */
    private static class DelegatingStore implements SnapshotStore {
        private final SnapshotStore delegate;

        DelegatingStore(SnapshotStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<SnapshotInfo> latest() {
            return delegate.latest();
        }

        @Override
        public Bytes read(long lastIndex, long offset, int maxBytes) {
            return delegate.read(lastIndex, offset, maxBytes);
        }

        @Override
        public InputStream open(long lastIndex) throws IOException {
            return delegate.open(lastIndex);
        }

        @Override
        public Sink begin(SnapshotMeta meta) throws IOException {
            return delegate.begin(meta);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}

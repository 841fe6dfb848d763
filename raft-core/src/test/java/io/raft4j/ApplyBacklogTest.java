package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A state machine slower than the commits does not make the node read its whole committed log into
 * the apply queue: about {@link ApplyBacklog#BATCHES} batches wait for it.
 */
class ApplyBacklogTest {

    /** Applies only while its gate is open; records the largest backlog it saw. */
    static final class SlowStateMachine implements StateMachine<Long> {
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger applied = new AtomicInteger();
        long lastIndex;

        @Override
        public Long apply(long index, Bytes command) {
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (index <= lastIndex) {
                throw new IllegalStateException("applied out of order: " + index + " after " + lastIndex);
            }
            lastIndex = index;
            applied.incrementAndGet();
            return index;
        }

        @Override
        public Long query(Bytes query) {
            return lastIndex;
        }

        @Override
        public Snapshot snapshot() {
            return null;
        }

        @Override
        public void restore(InputStream in) {
        }
    }

    @Test
    void committedEntriesWaitInTheLogWhileTheApplyThreadIsBehindAndAllApplyInOrderAfterwards() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        SlowStateMachine sm = new SlowStateMachine();
        long batchBytes = 1024;
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").maxApplyBatchBytes(batchBytes).build();
        RaftNode<Long> node = RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                .tickMillis(10).build();
        try {
            node.start();
            node.whenLeaderKnown().get(10, TimeUnit.SECONDS);
            List<CompletableFuture<Long>> results = new ArrayList<>();
            AtomicLong largestBacklog = new AtomicLong();
            for (int i = 0; i < 200; i++) {
                results.add(node.propose(Bytes.ofUtf8("x".repeat(200))));
                largestBacklog.accumulateAndGet(node.applyBacklogBytes(), Math::max);
            }
            // Every command commits (one node), and the loop hands out what the backlog allows.
            LocalCluster.await(Duration.ofSeconds(10), () -> node.status().commitIndex() >= 201);
            for (int i = 0; i < 50; i++) {
                largestBacklog.accumulateAndGet(node.applyBacklogBytes(), Math::max);
                node.status(); // let the loop run between samples
            }
            // Handed out while under the bound, so the last batch may pass it by up to one batch.
            long bound = (ApplyBacklog.BATCHES + 1) * batchBytes + entryBytes();
            assertTrue(largestBacklog.get() <= bound, largestBacklog.get() + " bytes queued, bound " + bound);
            assertFalse(results.get(199).isDone());

            sm.gate.countDown();
            for (CompletableFuture<Long> r : results) {
                r.get(10, TimeUnit.SECONDS);
            }
            assertEquals(200, sm.applied.get());
            // Released just after the batch's futures complete.
            LocalCluster.await(Duration.ofSeconds(5), () -> node.applyBacklogBytes() == 0);
        } finally {
            node.close();
            network.close();
        }
    }

    private static long entryBytes() {
        return io.raft4j.message.LogEntry.command(1, 1, Bytes.ofUtf8("x".repeat(200))).sizeBytes();
    }

    @Test
    void anUnboundedApplyBatchDoesNotOverflowTheBacklogBound() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1").maxApplyBatchBytes(Long.MAX_VALUE).build();
        RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
        try {
            node.start();
            node.whenLeaderKnown().get(10, TimeUnit.SECONDS);
            assertEquals("applied:a", node.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS));
        } finally {
            node.close();
            network.close();
        }
    }

    @Test
    void theLoopIsWokenOnceWhenTheBacklogFallsUnderItsBound() {
        AtomicInteger wakes = new AtomicInteger();
        ApplyBacklog backlog = new ApplyBacklog(100, wakes::incrementAndGet);
        backlog.queued(60);
        assertFalse(backlog.full());
        backlog.queued(60);
        assertTrue(backlog.full());
        backlog.applied(10);
        assertEquals(0, wakes.get(), "still at the bound");
        backlog.applied(30);
        assertEquals(1, wakes.get());
        backlog.applied(60);
        assertEquals(1, wakes.get(), "woken once, not per apply");
        assertFalse(backlog.full());
    }
}

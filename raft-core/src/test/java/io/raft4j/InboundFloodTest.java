package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Messages a transport delivers while the node's loop is busy (a sync on the loop, a GC pause, a
 * peer that sends faster than the loop steps) wait for the loop in a bounded queue: beyond it they
 * are dropped, as a lossy network would, and counted. Unbounded, a peer flooding a node whose loop
 * was held up grew the node's heap without end (a transport delivers on its own threads).
 */
class InboundFloodTest {
    private final CountDownLatch stalled = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicReference<Transport.Inbound> inbound = new AtomicReference<>();
    private final InMemoryTransport network = new InMemoryTransport();
    private RaftNode<String> node;

    /** A transport that holds the node's loop at its first announcement of its peers, until released. */
    private final Transport stallingTransport = new ForwardingTransport(network) {
        @Override
        public void register(String g, String id, Inbound in) {
            inbound.set(in);
            super.register(g, id, in);
        }

        @Override
        public void updatePeers(String g, Map<String, String> a) {
            stalled.countDown();
            LocalCluster.holdUntil(release);
            super.updatePeers(g, a);
        }
    };

    @AfterEach
    void tearDown() {
        release.countDown();
        if (node != null) {
            node.close();
        }
        network.close();
    }

    private void startStalled(RaftConfig config) throws InterruptedException {
        node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine()).transport(stallingTransport)
                .storage(new InMemoryLogStorage()).runOnTransportLoop(false).tickMillis(10).build();
        node.start();
        assertTrue(stalled.await(10, TimeUnit.SECONDS), "the loop never announced its peers");
    }

    private static AppendEntries heartbeat(long round) {
        return new AppendEntries("default", "b", "a", 1, 0, 0, List.of(), 0, round);
    }

    @Test
    void heartbeatsFloodingAStalledLoopAreDroppedBeyondTheBound() throws Exception {
        startStalled(RaftConfig.builder("a").initialMembers("a", "b", "c").build());
        int sent = InboundAllowance.MAX_QUEUED_MESSAGES + 10_000;
        for (int i = 0; i < sent; i++) {
            inbound.get().receive(heartbeat(i));
        }
        long queued = node.queuedLoopTasks();
        assertTrue(queued <= InboundAllowance.MAX_QUEUED_MESSAGES + 16,
                "messages waiting for the stalled loop: " + queued + " of " + sent + " sent");
        assertEquals(sent - InboundAllowance.MAX_QUEUED_MESSAGES, node.stats().inboundMessagesDropped());
        release.countDown();
        // Once the loop runs again, what was queued is stepped and the room given back.
        LocalCluster.await(Duration.ofSeconds(10), () -> node.queuedLoopTasks() <= 16);
        inbound.get().receive(heartbeat(sent));
        assertEquals(sent - InboundAllowance.MAX_QUEUED_MESSAGES, node.stats().inboundMessagesDropped(),
                "a message arriving after the loop caught up was dropped");
    }

    @Test
    void appendsFloodingAStalledLoopAreBoundedByBytes() throws Exception {
        RaftConfig config = RaftConfig.builder("a").initialMembers("a", "b", "c").maxMessageBytes(1024)
                .maxEntryBytes(1024).maxInflightBytes(4096).maxUncommittedBytes(8192).snapshotChunkBytes(1024)
                .snapshotChunksInFlight(1).build();
        startStalled(config);
        long bound = InboundAllowance.bulkBytesFor(config);
        Bytes payload = Bytes.wrap(new byte[1000]);
        int sent = 1000;
        for (int i = 0; i < sent; i++) {
            LogEntry entry = LogEntry.command(1, 1, payload);
            inbound.get().receive(new AppendEntries("default", "b", "a", 1, 0, 0, List.of(entry), 0, i));
        }
        long queued = node.queuedLoopTasks();
        long perMessage = heartbeat(0).sizeBytes() + payload.length() + LogEntry.OVERHEAD_BYTES;
        assertTrue(queued <= bound / perMessage + 16,
                "appends waiting for the stalled loop: " + queued + " of " + sent + " sent, " + perMessage
                        + " bytes each, bound " + bound + " bytes");
    }
}

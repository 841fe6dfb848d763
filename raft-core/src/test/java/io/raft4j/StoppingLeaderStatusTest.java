package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.Role;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader that is stopping (closed, or failed: its store closed under it) says at once that it
 * leads nothing, not only once its stop has released its threads. Meanwhile it already refuses every
 * call at once; still saying it led, it drew a caller that picks the leader by {@link
 * RaftNode#isLeader()} back to it again and again (a multi-group test's reads: 20 attempts, all
 * refused within a millisecond, while the stopping node unregistered from its transport).
 */
class StoppingLeaderStatusTest {
    private final CountDownLatch unregistering = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean storageFails;
    private final InMemoryTransport network = new InMemoryTransport();
    private RaftNode<String> node;

    /** A transport that holds the node's stop in its unregistration, until released. */
    private final ForwardingTransport slowToUnregister = new ForwardingTransport(network) {
        @Override
        public void unregister(String g, String id) {
            unregistering.countDown();
            LocalCluster.holdUntil(release);
            super.unregister(g, id);
        }
    };

    private final ForwardingStorage closable = new ForwardingStorage(new InMemoryLogStorage()) {
        @Override
        public void append(List<LogEntry> entries, HardState hs) {
            if (storageFails) {
                throw new StorageException("the store was closed under the node", null);
            }
            super.append(entries, hs);
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

    private void startLeader() throws Exception {
        node = RaftNode.builder(RaftConfig.builder("a").initialMembers("a").build(), new LocalCluster.RecordingStateMachine())
                .transport(slowToUnregister).storage(closable).runOnTransportLoop(false).tickMillis(10).build();
        node.start();
        node.whenLeaderKnown().get(10, TimeUnit.SECONDS);
        assertEquals("applied:x", node.propose(Bytes.ofUtf8("x")).get(10, TimeUnit.SECONDS));
        assertTrue(node.isLeader());
    }

    private void assertLeadsNothing(String when) {
        assertFalse(node.isLeader(), when + ": isLeader()");
        NodeStatus status = node.status();
        assertEquals(Role.FOLLOWER, status.role(), when + ": status " + status);
        assertNull(status.leaderId(), when + ": status " + status);
    }

    @Test
    void aLeaderFailingOnItsStoreLeadsNothingWhileItStops() throws Exception {
        startLeader();
        storageFails = true;
        CompletableFuture<String> lost = node.propose(Bytes.ofUtf8("y"));
        assertTrue(unregistering.await(10, TimeUnit.SECONDS), "the failed node never began to stop");
        assertLeadsNothing("stopping after its store failed");
        assertTrue(node.query(Bytes.EMPTY).isCompletedExceptionally(), "a read is refused at once meanwhile");
        release.countDown();
        node.whenStopped().get(10, TimeUnit.SECONDS);
        assertTrue(lost.isCompletedExceptionally());
        assertLeadsNothing("stopped");
    }

    @Test
    void aLeaderBeingClosedLeadsNothingWhileItCloses() throws Exception {
        startLeader();
        Thread closer = new Thread(node::close, "closer");
        closer.start();
        assertTrue(unregistering.await(10, TimeUnit.SECONDS), "the close never began");
        assertLeadsNothing("closing");
        release.countDown();
        closer.join(10_000);
        assertLeadsNothing("closed");
    }
}

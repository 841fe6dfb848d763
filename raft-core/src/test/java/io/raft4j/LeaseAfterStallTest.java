package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader whose loop stalls past its lease (here: its state machine blocks on the loop, as a long
 * GC pause or a stopped process would stall it) must not serve lease reads from that lease once it
 * runs again. Its ticks stood still while it was stalled, so a lease counted in ticks alone outlived
 * the real time it may last: meanwhile the others elected a new leader and committed a write, and the
 * old leader answered a lease read without it.
 */
class LeaseAfterStallTest {

    /** A register; {@code stall:<id>} blocks the apply of node {@code id} until {@link #release}. */
    static final class Register implements StateMachine<String> {
        private final String id;
        final CountDownLatch stalled = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private volatile String value = "";

        Register(String id) {
            this.id = id;
        }

        @Override
        public String apply(long index, Bytes command) {
            String c = command.toUtf8();
            if (c.equals("stall:" + id)) {
                stalled.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else if (c.startsWith("set:")) {
                value = c.substring(4);
            }
            return value;
        }

        @Override
        public String query(Bytes query) {
            return value;
        }
    }

    @Test
    void aLeaderStalledPastItsLeaseDoesNotAnswerLeaseReadsFromItWhenItRunsAgain() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        LoopLendingTransport transport = new LoopLendingTransport(network);
        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        Map<String, Register> registers = new LinkedHashMap<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                Register register = new Register(id);
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3").electionTimeoutTicks(10).build();
                // Applies run on the node's loop: a blocked apply stalls the whole loop, ticks included.
                RaftNode<String> node = RaftNode.builder(config, register).transport(transport)
                        .storage(new InMemoryLogStorage()).tickMillis(10).applyOnLoop(true).build();
                registers.put(id, register);
                nodes.put(id, node);
                node.start();
            }
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(nodes.values());
            String leaderId = leader.id();
            assertEquals("1", leader.propose(Bytes.ofUtf8("set:1")).get(5, TimeUnit.SECONDS));
            assertEquals("1", leader.query(Bytes.EMPTY, ReadConsistency.LEASE).get(5, TimeUnit.SECONDS));

            leader.propose(Bytes.ofUtf8("stall:" + leaderId));
            assertTrue(registers.get(leaderId).stalled.await(10, TimeUnit.SECONDS));
            network.isolate(leaderId);
            RaftNode<String>[] successor = new RaftNode[1];
            LocalCluster.await(Duration.ofSeconds(10), () -> {
                for (RaftNode<String> n : nodes.values()) {
                    if (n != leader && n.isLeader()) {
                        successor[0] = n;
                        return true;
                    }
                }
                return false;
            });
            assertEquals("2", successor[0].propose(Bytes.ofUtf8("set:2")).get(5, TimeUnit.SECONDS));

            CompletableFuture<String> read = leader.query(Bytes.EMPTY, ReadConsistency.LEASE); // waits for the loop
            registers.get(leaderId).release.countDown();
            try {
                assertEquals("2", read.get(10, TimeUnit.SECONDS), "a stale read from an expired lease");
            } catch (ExecutionException e) {
                // Cut off, it cannot confirm the read: it gives it up, which is right.
                assertInstanceOf(NotLeaderException.class, e.getCause());
            }
        } finally {
            for (Register r : registers.values()) {
                r.release.countDown();
            }
            for (RaftNode<String> n : nodes.values()) {
                n.close();
            }
            transport.close();
            network.close();
        }
    }
}

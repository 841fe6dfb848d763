package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.StateMachine;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Two threads of a node failing at once: the node stops for the first failure, logs it once, and
 * reports it as {@link RaftNode#failure()}. Found by a full-disk drill of the KV node: its leader's
 * storage thread failed an append on the full disk while its event loop, reading the log to
 * replicate it, failed on the now poisoned storage; both passed the check for an earlier failure
 * before either recorded one, so "stopping after failure" was logged twice with two stack traces,
 * and the node reported the second ("an earlier write failed ...") as its failure.
 */
class ConcurrentFailuresTest {

    /** A failure whose description, asked for as it is logged, waits for another failure's. */
    static final class WaitingToBeDescribed extends StorageException {
        final CountDownLatch describing = new CountDownLatch(1);
        final CountDownLatch other;

        WaitingToBeDescribed(CountDownLatch other) {
            super("No space left on device");
            this.other = other;
        }

        @Override
        public String getMessage() {
            describing.countDown();
            try {
                other.await(1, TimeUnit.SECONDS); // the other failure's description, if it is ever asked for
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.getMessage();
        }
    }

    /** A failure that notes when its description is asked for. */
    static final class NotingDescription extends IllegalStateException {
        final CountDownLatch described = new CountDownLatch(1);
        final AtomicBoolean asked = new AtomicBoolean();

        NotingDescription() {
            super("the state machine failed too");
        }

        @Override
        public String getMessage() {
            asked.set(true);
            described.countDown();
            return super.getMessage();
        }
    }

    @Test
    void aSecondFailureWhileTheFirstIsBeingReportedIsNeitherLoggedNorReported() throws Exception {
        NotingDescription second = new NotingDescription();
        WaitingToBeDescribed first = new WaitingToBeDescribed(second.described);
        CountDownLatch applying = new CountDownLatch(1);
        InMemoryTransport network = new InMemoryTransport();
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        StateMachine<String> failingWhenFirstIsLogged = (index, command) -> {
            if (command.toUtf8().equals("fail-apply")) {
                applying.countDown();
                awaitUninterruptibly(first.describing); // the storage thread is reporting its failure
                throw second;
            }
            return "ok";
        };
        ForwardingStorage failingWrite = new ForwardingStorage(new InMemoryLogStorage()) {
            @Override
            public void append(List<LogEntry> entries, HardState hs) {
                if (entries.stream().anyMatch(e -> e.data().toUtf8().equals("fail-write"))) {
                    throw first;
                }
                super.append(entries, hs);
            }
        };
        // Its own storage and apply threads (the defaults): the two failures come from two threads.
        RaftNode<String> node = RaftNode.builder(config, failingWhenFirstIsLogged).transport(network)
                .storage(failingWrite).tickMillis(10).build();
        node.start();
        try {
            LocalCluster.await(Duration.ofSeconds(5), node::isLeader);
            node.propose(Bytes.ofUtf8("fail-apply")); // committed, then held in apply until the write fails
            awaitUninterruptibly(applying); // written on its own, before the write that fails
            node.propose(Bytes.ofUtf8("fail-write"));
            node.whenStopped().get(10, TimeUnit.SECONDS);

            assertSame(first, node.failure());
            assertFalse(second.asked.get(), "the second failure was logged as well");
        } finally {
            node.close();
            network.close();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

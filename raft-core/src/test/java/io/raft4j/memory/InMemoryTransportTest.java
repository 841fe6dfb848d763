package io.raft4j.memory;

import io.raft4j.message.RaftMessage;
import io.raft4j.message.TimeoutNow;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link InMemoryTransport} against the {@link Transport} contract, as the tests of embedders rely on it. */
class InMemoryTransportTest {

    /** An inbound that records what it is given. */
    private static final class Recording implements Transport.Inbound {
        final List<RaftMessage> received = new CopyOnWriteArrayList<>();
        final AtomicInteger closedNotices = new AtomicInteger();

        @Override
        public void receive(RaftMessage message) {
            received.add(message);
        }

        @Override
        public void transportClosed() {
            closedNotices.incrementAndGet();
        }
    }

    private static RaftMessage from(String from, String to) {
        return new TimeoutNow("g", from, to, 1);
    }

    /**
     * A closed network went on carrying messages, took new registrations and told its nodes nothing
     * (so a node closed after it ran on as if nothing happened, where on the Netty transport it stops
     * with a failure that says why); with a delay set, send threw RejectedExecutionException,
     * which the contract forbids.
     */
    @Test
    void aClosedNetworkTellsItsNodesOnceCarriesNothingAndRefusesRegistrations() {
        InMemoryTransport network = new InMemoryTransport();
        Recording a = new Recording();
        Recording b = new Recording();
        network.register("g", "a", a);
        network.register("g", "b", b);
        network.setDelayMillis(1);
        network.send(from("a", "b")); // starts the delaying thread

        network.close();
        network.close();

        assertEquals(1, a.closedNotices.get());
        assertEquals(1, b.closedNotices.get());
        int receivedBefore = b.received.size();
        assertDoesNotThrow(() -> network.send(from("a", "b")), "with a delay");
        network.setDelayMillis(0);
        network.send(from("a", "b"));
        assertEquals(receivedBefore, b.received.size(), "nothing delivered after close");
        assertThrows(IllegalStateException.class, () -> network.register("g", "c", new Recording()));
    }

    /**
     * A delayed message went to the inbound its receiver had when it was sent, also after that
     * receiver unregistered (a node closed to simulate a crash), though messages for an unregistered
     * node are dropped; the node restarted under the same id never got it, as it would over a network.
     */
    @Test
    void aDelayedMessageGoesToWhoIsRegisteredWhenItArrives() {
        try (InMemoryTransport network = new InMemoryTransport()) {
            Recording sender = new Recording();
            Recording crashed = new Recording();
            Recording restarted = new Recording();
            network.register("g", "a", sender);
            network.register("g", "b", crashed);
            network.setDelayMillis(200);

            network.send(from("a", "b"));
            network.unregister("g", "b");
            network.register("g", "b", restarted);

            awaitTrue(() -> crashed.received.size() + restarted.received.size() > 0);
            assertEquals(List.of(), crashed.received, "delivered to an unregistered node");
            assertEquals(List.of(from("a", "b")), restarted.received);
        }
    }

    /**
     * A negative delay was taken and then silently meant no delay, and a drop rate of NaN passed the
     * range check and then meant no drops: a test that set either believed it injected a fault that
     * never happened.
     */
    @Test
    void faultSettersRefuseValuesOutOfTheirRange() {
        try (InMemoryTransport network = new InMemoryTransport()) {
            assertThrows(IllegalArgumentException.class, () -> network.setDelayMillis(-1));
            assertThrows(IllegalArgumentException.class, () -> network.setDropRate(Double.NaN));
            assertThrows(IllegalArgumentException.class, () -> network.setDropRate(-0.1));
            assertThrows(IllegalArgumentException.class, () -> network.setDropRate(1.1));
            assertDoesNotThrow(() -> network.setDelayMillis(0));
            assertDoesNotThrow(() -> network.setDropRate(0));
            assertDoesNotThrow(() -> network.setDropRate(1));
        }
    }

    /**
     * A partition or an isolation blocked only the nodes registered when it was made: a node down
     * then (or added later) that registered afterwards, as a restarted node does, reached across it.
     */
    @Test
    void aNodeRegisteringAfterAPartitionIsInsideIt() {
        try (InMemoryTransport network = new InMemoryTransport()) {
            Recording a = new Recording();
            Recording b = new Recording();
            network.register("g", "a", a);
            network.register("g", "b", b);
            network.partition(Set.of("a"), Set.of("b", "c"));
            Recording c = new Recording();
            network.register("g", "c", c); // c was down at the partition and restarts now

            network.send(from("a", "c"));
            network.send(from("c", "a"));
            network.send(from("c", "b"));

            assertEquals(List.of(), c.received, "across the partition");
            assertEquals(List.of(), a.received, "across the partition");
            assertEquals(List.of(from("c", "b")), b.received, "on the same side");
        }
    }

    @Test
    void aNodeRegisteringAfterAnIsolationCannotReachTheIsolatedNode() {
        try (InMemoryTransport network = new InMemoryTransport()) {
            Recording a = new Recording();
            network.register("g", "a", a);
            network.isolate("a");
            Recording c = new Recording();
            network.register("g", "c", c);

            network.send(from("a", "c"));
            network.send(from("c", "a"));

            assertEquals(List.of(), c.received);
            assertEquals(List.of(), a.received);

            network.heal();
            network.send(from("c", "a"));
            assertEquals(List.of(from("c", "a")), a.received, "healed");
        }
    }

    private static void awaitTrue(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not met within 10 s");
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}

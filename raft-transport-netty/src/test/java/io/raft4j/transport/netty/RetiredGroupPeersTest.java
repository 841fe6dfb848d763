package io.raft4j.transport.netty;

import io.raft4j.message.AppendEntries;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A group this process no longer hosts (its last local node unregistered) leaves nothing behind in
 * the transport: not its members' addresses, nor connections to peers no other group needs. A
 * process that hosted many groups over its life kept them all.
 */
class RetiredGroupPeersTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @RegisterExtension
    final ClosedAfterEach toClose = new ClosedAfterEach();


    private NettyTransport start(UnaryOperator<NettyTransportConfig.Builder> settings) {
        NettyTransport t = NettyTransport.start(settings.apply(NettyTransportConfig.builder("retired")
                .listen("127.0.0.1", 0).reconnectBackoff(10, 200)).build());
        toClose.add(t);
        return t;
    }

    private static String address(NettyTransport t) {
        return "127.0.0.1:" + t.localPort();
    }

    @Test
    void theLastLocalNodeOfAGroupUnregisteringForgetsThePeersOnlyThatGroupNamed() throws Exception {
        NettyTransport a = start(c -> c);
        NettyTransport b = start(c -> c);
        NettyTransport c = start(x -> x);
        RecordingInbound atB = new RecordingInbound();
        RecordingInbound atC = new RecordingInbound();
        b.updatePeers("g1", Map.of("a", address(a)));
        c.updatePeers("g2", Map.of("a", address(a)));
        b.register("g1", "b", atB);
        c.register("g2", "c", atC);
        a.register("g1", "a", new RecordingInbound());
        a.register("g2", "a", new RecordingInbound());
        a.updatePeers("g1", Map.of("a", address(a), "b", address(b)));
        a.updatePeers("g2", Map.of("a", address(a), "c", address(c)));
        a.send(TestMessages.numbered("g1", "a", "b", 1, 16));
        a.send(TestMessages.numbered("g2", "a", "c", 2, 16));
        assertEquals(1, ((AppendEntries) atB.next(WAIT)).round());
        assertEquals(2, ((AppendEntries) atC.next(WAIT)).round());

        a.unregister("g1", "a");

        assertFalse(a.knowsPeer("b"), "b is named by no group hosted here any more");
        assertEquals("b: no connection", a.describe("b"));
        assertTrue(a.knowsPeer("c") && a.isConnected("c"), "g2 still needs c: " + a.describe("c"));
        assertEquals(1, a.hostedGroups(), "g1's entry is gone");
        a.send(TestMessages.numbered("g2", "a", "c", 3, 16));
        assertEquals(3, ((AppendEntries) atC.next(WAIT)).round());
    }

    @Test
    void aGroupKeepsItsPeersWhileAnotherOfItsLocalNodesIsRegistered() {
        NettyTransport a = start(c -> c);
        NettyTransport b = start(c -> c);
        a.register("g", "a1", new RecordingInbound());
        a.register("g", "a2", new RecordingInbound());
        a.updatePeers("g", Map.of("b", address(b)));

        a.unregister("g", "a1");
        assertTrue(a.knowsPeer("b"), "a2 still hosts g");
        a.unregister("g", "a2");
        assertFalse(a.knowsPeer("b"), "no node of g runs here any more");
    }

    @Test
    void aConfiguredPeerIsKeptWhenTheGroupsNamingItGo() {
        NettyTransport b = start(c -> c);
        NettyTransport a = start(c -> c.peer("b", address(b)));
        a.register("g", "a", new RecordingInbound());
        a.updatePeers("g", Map.of("b", address(b)));
        a.unregister("g", "a");
        assertTrue(a.knowsPeer("b"), "the configuration names b");
    }
}

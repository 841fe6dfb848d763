package io.raft4j.transport.netty;

import io.raft4j.message.AppendEntries;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One node id started in two processes (an operator's mistake): their frames reach the peers
 * under the same sender id, and a peer could count one voter twice. Each transport stamps its
 * frames with an incarnation of its own, so the peers tell the two apart.
 */
class DuplicateNodeIdTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @RegisterExtension
    final ClosedAfterEach toClose = new ClosedAfterEach();


    private NettyTransport start(String peerId, String peerAddress) {
        NettyTransportConfig.Builder b = NettyTransportConfig.builder("c").listen("127.0.0.1", 0).reconnectBackoff(10, 200);
        if (peerId != null) {
            b.peer(peerId, peerAddress);
        }
        NettyTransport t = NettyTransport.start(b.build());
        toClose.add(t);
        return t;
    }

    private static String address(NettyTransport t) {
        return "127.0.0.1:" + t.localPort();
    }

    @Test
    void aSecondProcessUnderALiveNodesIdIsRefusedAndTheInterleavingLoggedAsAnError() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport n1 = start("n2", "127.0.0.1:1");   // n2's configured address: the first process's below
            RecordingInbound atN1 = new RecordingInbound();
            n1.register("g", "n1", atN1);
            NettyTransport first = start("n1", address(n1));
            first.register("g", "n2", new RecordingInbound());
            NettyTransport second = start("n1", address(n1));
            second.register("g", "n2", new RecordingInbound());

            first.send(TestMessages.numbered("g", "n2", "n1", 0, 0));
            assertEquals(0, ((AppendEntries) atN1.next(WAIT)).round());

            second.send(TestMessages.numbered("g", "n2", "n1", 1, 0));
            Await.until(WAIT, "the second n2's frame delivered or refused",
                    () -> n1.rejectedConnections() > 0 || !atN1.received.isEmpty());
            assertTrue(atN1.received.isEmpty(), "the frame of a second process claiming to be n2 was delivered: "
                    + atN1.received);

            // Both go on sending: the first is still served, the second refused again, now as an error.
            first.send(TestMessages.numbered("g", "n2", "n1", 2, 0));
            assertEquals(2, ((AppendEntries) atN1.next(WAIT)).round());
            long refused = n1.rejectedConnections();
            // Sent until it arrives: one sent before the second noticed its connection closed is lost.
            Await.until(WAIT, "the second n2 refused again", () -> {
                second.send(TestMessages.numbered("g", "n2", "n1", 3, 0));
                return n1.rejectedConnections() > refused;
            });
            assertTrue(atN1.received.isEmpty(), "delivered: " + atN1.received);
            Await.until(WAIT, "the error logged", () -> !log.linesWith("ERROR").isEmpty());
            List<String> errors = log.linesWith("ERROR");
            assertEquals(1, errors.size(), log.text());
            assertTrue(errors.get(0).contains("two processes claim to be node n2"), errors.get(0));
        }
    }

    @Test
    void aNodeRestartedUnderItsIdIsServedOnceItsOldConnectionClosed() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport n1 = start(null, null);
            RecordingInbound atN1 = new RecordingInbound();
            NettyTransport old = start("n1", address(n1));
            n1.updatePeers("g", java.util.Map.of("n2", address(old)));
            n1.register("g", "n1", atN1);
            old.register("g", "n2", new RecordingInbound());
            old.send(TestMessages.numbered("g", "n2", "n1", 0, 0));
            assertEquals(0, ((AppendEntries) atN1.next(WAIT)).round());

            old.close();
            Await.until(WAIT, "the old n2's connection to close", () -> n1.inboundConnections() == 0);
            NettyTransport restarted = start("n1", address(n1));
            restarted.register("g", "n2", new RecordingInbound());
            restarted.send(TestMessages.numbered("g", "n2", "n1", 1, 0));

            assertEquals(1, ((AppendEntries) atN1.next(WAIT)).round());
            assertEquals(0, n1.rejectedConnections());
            assertTrue(log.linesWith("ERROR").isEmpty(), log.text());
        }
    }
}

package io.raft4j.transport.netty;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A peer address that points at another node (n2's address configured as n3's port). */
class MisdirectedPeerAddressTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @RegisterExtension
    final ClosedAfterEach toClose = new ClosedAfterEach();


    private NettyTransport start(NettyTransportConfig.Builder b) {
        NettyTransport t = NettyTransport.start(b.listen("127.0.0.1", 0).reconnectBackoff(10, 200).build());
        toClose.add(t);
        return t;
    }

    @Test
    void theNodeReachedByMistakeNamesTheSenderAndTheAddressItGotWrong() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport n3 = start(NettyTransportConfig.builder("c"));
            n3.register("g", "n3", new RecordingInbound());
            String n3Address = "127.0.0.1:" + n3.localPort();
            NettyTransport n1 = start(NettyTransportConfig.builder("c").peer("n2", n3Address).peer("n3", n3Address));
            n3.updatePeers("g", java.util.Map.of("n1", "127.0.0.1:" + n1.localPort()));
            n1.register("g", "n1", new RecordingInbound());

            n1.send(TestMessages.numbered("g", "n1", "n2", 0, 0));
            Await.until(WAIT, "n3 to refuse the frame for n2", () -> !log.linesWith("unknown receiver").isEmpty());

            List<String> warnings = log.linesWith("ConnectionGuard").stream()
                    .filter(l -> l.contains("unknown receiver 'n2'")).toList();
            assertEquals(1, warnings.size(), log.text());
            assertTrue(warnings.get(0).contains("no node 'n2' runs in this process (it runs n3): 'n1' dials n2 at this"
                    + " process's address"), warnings.get(0));
        }
    }

    /** Two clusters, each with a group "g" and nodes n1, n2: one's address list points into the other. */
    @Test
    void aNodeOfAnotherClusterIsRefusedNamingBothClusterIds() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport blue = start(NettyTransportConfig.builder("blue"));
            blue.register("g", "n2", new RecordingInbound());
            NettyTransport green = start(NettyTransportConfig.builder("green").peer("n2", "127.0.0.1:" + blue.localPort()));
            blue.updatePeers("g", java.util.Map.of("n1", "127.0.0.1:" + green.localPort()));
            green.register("g", "n1", new RecordingInbound());

            green.send(TestMessages.numbered("g", "n1", "n2", 0, 0));
            Await.until(WAIT, "blue to refuse green's frame", () -> !log.linesWith("wrong cluster id").isEmpty());

            String warning = log.linesWith("ConnectionGuard").stream().filter(l -> l.contains("wrong cluster id"))
                    .findFirst().orElseThrow();
            assertTrue(warning.contains("wrong cluster id 'green': a process of cluster 'green' dials this process of"
                    + " cluster 'blue' as 'n2'"), warning);
            assertEquals(1, blue.rejectedConnections());
        }
    }

    /**
     * Connections carry frames one way, so the dialling side never heard why its frames were refused:
     * the only sign of its own wrong address was in another node's log.
     */
    @Test
    void theDiallerIsToldWhyItsFramesAreRefused() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport n3 = start(NettyTransportConfig.builder("c"));
            n3.register("g", "n3", new RecordingInbound());
            String n3Address = "127.0.0.1:" + n3.localPort();
            NettyTransport n1 = start(NettyTransportConfig.builder("c").peer("n2", n3Address));
            n3.updatePeers("g", java.util.Map.of("n1", "127.0.0.1:" + n1.localPort()));
            n1.register("g", "n1", new RecordingInbound());

            n1.send(TestMessages.numbered("g", "n1", "n2", 0, 0));
            Await.until(WAIT, "n1 to log why n2's address refuses its frames",
                    () -> !log.linesWith("refuses this process's frames").isEmpty(), log::text);

            String warning = log.linesWith("refuses this process's frames").get(0);
            assertTrue(warning.contains("n2 at " + n3Address + " refuses this process's frames: unknown receiver 'n2' (its"
                    + " log says more"), warning);
            assertTrue(!warning.contains("n3"), "the notice names none of the refusing node's ids: " + warning);
        }
    }
}

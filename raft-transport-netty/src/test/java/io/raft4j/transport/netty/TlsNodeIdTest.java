package io.raft4j.transport.netty;

import io.raft4j.message.AppendEntries;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Certificates bound to node ids: a member sends only under the ids its certificate names, and
 * sends only to a server whose certificate names the id it dialled.
 */
class TlsNodeIdTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String CLUSTER = "tls-ids";

    @TempDir
    static Path dir;
    private static TestCertificates.Authority clusterCa;
    private static TlsSettings memberA;
    private static TlsSettings memberB;
    private static TlsSettings memberC;
    @RegisterExtension
    final ClosedAfterEach toClose = new ClosedAfterEach();

    @BeforeAll
    static void makeCertificates() throws Exception {
        clusterCa = TestCertificates.authority("cluster", dir);
        memberA = clusterCa.issue("a", dir);
        memberB = clusterCa.issue("b", dir);
        memberC = clusterCa.issue("c", dir);
    }


    private NettyTransport start(TlsSettings tls, Map<String, String> peers) {
        NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                .reconnectBackoff(10, 100).tls(tls).peers(peers).build());
        toClose.add(t);
        return t;
    }

    /**
     * c's process, with c's certificate, sends as a: b refuses every frame, says why in its log,
     * and tells the impostor, whose log names the refusal. (The impostor's own transport would
     * refuse to register a, so it runs without the check: what a process whose code is not ours does.)
     */
    @Test
    void aMemberSendingUnderAnIdItsCertificateDoesNotNameIsRefused() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport b = start(memberB, Map.of("a", "127.0.0.1:1"));
            RecordingInbound atB = new RecordingInbound();
            b.register("g", "b", atB);
            NettyTransport impostor = start(memberC.withoutNodeIdCheck(), Map.of("b", "127.0.0.1:" + b.localPort()));
            impostor.register("g", "a", new RecordingInbound());

            long[] seq = {0};
            Await.until(WAIT, "the impostor is told it is refused (or delivered to)", () -> {
                impostor.send(TestMessages.numbered("g", "a", "b", seq[0]++, 10));
                return !log.linesWith("refuses this process's frames").isEmpty() || !atB.received.isEmpty();
            }, log::text);

            assertNull(atB.received.poll(100, TimeUnit.MILLISECONDS), "nothing delivered as a");
            assertEquals(0, b.deliveredMessages());
            assertTrue(b.rejectedConnections() > 0);
            String atReceiver = String.join("\n", log.linesWith("to /127.0.0.1:" + b.localPort() + ":"));
            assertTrue(atReceiver.contains("sender 'a' is not named by its TLS certificate, which names the node ids [c]")
                    && atReceiver.contains("raft4j://node/a"), atReceiver);
            String atImpostor = String.join("\n", log.linesWith("refuses this process's frames"));
            assertTrue(atImpostor.contains("sender 'a' is not named by its TLS certificate, which names the node ids [c]"), atImpostor);
        }
    }

    /** The certificate naming the id sent under: delivered, both ways. */
    @Test
    void membersWhoseCertificatesNameTheirIdsTalk() throws Exception {
        NettyTransport b = start(memberB, Map.of());
        NettyTransport a = start(memberA, Map.of("b", "127.0.0.1:" + b.localPort()));
        TestMessages.assertTalkBothWays(a, b, 10, WAIT);
    }

    /**
     * b's address for c points at a process whose certificate names only a: b does not send c's
     * messages there (they could be read by a member that is not c), warns, and reports c unreachable.
     */
    @Test
    void aServerWhoseCertificateDoesNotNameTheDialledIdIsSentNothing() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            // Without the check, a's process may register c; b's check is the one under test.
            NettyTransport wrong = start(memberA.withoutNodeIdCheck(), Map.of("b", "127.0.0.1:1"));
            RecordingInbound atWrong = new RecordingInbound();
            wrong.register("g", "c", atWrong);
            NettyTransport b = start(memberB, Map.of("c", "127.0.0.1:" + wrong.localPort()));
            RecordingInbound atB = new RecordingInbound();
            b.register("g", "b", atB);

            long[] seq = {0};
            Await.until(WAIT, "b reports c unreachable (or delivers to the wrong server)", () -> {
                b.send(TestMessages.numbered("g", "b", "c", seq[0]++, 10));
                return !atB.unreachable.isEmpty() || !atWrong.received.isEmpty();
            }, log::text);
            assertNull(atWrong.received.poll(100, TimeUnit.MILLISECONDS), "nothing sent to a server not named c");
            Await.until(WAIT, "b warns", () -> !log.linesWith("names the node ids [a], not c").isEmpty(), log::text);
            assertEquals(0, wrong.deliveredMessages());
        }
    }

    /**
     * One process running two node ids (a1 in group g1, a2 in group g2) with one certificate naming
     * both: it sends as each, and is dialled as each (two connections to the same server).
     */
    @Test
    void aCertificateNamingSeveralIdsServesEach() throws Exception {
        TlsSettings a = clusterCa.issueNaming("a12", dir, "a1", "a2");
        NettyTransport atB = start(memberB, Map.of());
        NettyTransport atA = start(a, Map.of("b", "127.0.0.1:" + atB.localPort()));
        atB.updatePeers("g1", Map.of("a1", "127.0.0.1:" + atA.localPort()));
        atB.updatePeers("g2", Map.of("a2", "127.0.0.1:" + atA.localPort()));
        RecordingInbound a1 = new RecordingInbound();
        RecordingInbound a2 = new RecordingInbound();
        RecordingInbound b1 = new RecordingInbound();
        RecordingInbound b2in = new RecordingInbound();
        atA.register("g1", "a1", a1);
        atA.register("g2", "a2", a2);
        atB.register("g1", "b", b1);
        atB.register("g2", "b", b2in);

        atA.send(TestMessages.numbered("g1", "a1", "b", 1, 10));
        atA.send(TestMessages.numbered("g2", "a2", "b", 2, 10));
        assertEquals(1, ((AppendEntries) b1.next(WAIT)).round());
        assertEquals(2, ((AppendEntries) b2in.next(WAIT)).round());
        atB.send(TestMessages.numbered("g1", "b", "a1", 3, 10));
        atB.send(TestMessages.numbered("g2", "b", "a2", 4, 10));
        assertEquals(3, ((AppendEntries) a1.next(WAIT)).round());
        assertEquals(4, ((AppendEntries) a2.next(WAIT)).round());
        assertEquals(0, atA.rejectedConnections() + atB.rejectedConnections());
    }

    /**
     * Certificates issued before node ids were checked, naming none: with the check off on both
     * members they talk as before, and each transport warns once, at start, that the check is off.
     */
    @Test
    void certificatesWithoutIdsWorkWithTheCheckTurnedOff() throws Exception {
        TestCertificates.Authority oldCa = TestCertificates.authority("old", dir);
        TlsSettings oldA = oldCa.issueNaming("old-a", dir).withoutNodeIdCheck();
        TlsSettings oldB = oldCa.issueNaming("old-b", dir).withoutNodeIdCheck();
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport b = start(oldB, Map.of());
            NettyTransport a = start(oldA, Map.of("b", "127.0.0.1:" + b.localPort()));
            TestMessages.assertTalkBothWays(a, b, 10, WAIT);
            assertEquals(2, log.linesWith("TLS without the node-id check").size(), log.text());
        }
    }

    /**
     * A member with the check, a peer with a certificate naming no id: the member refuses the
     * peer's frames (it cannot tell which member sends) and does not send to it, and the peer is
     * told why, so a rollout that turned the check on before issuing certificates with ids shows
     * on both ends.
     */
    @Test
    void aMemberCheckingIdsRefusesAPeerWhoseCertificateNamesNone() throws Exception {
        TlsSettings checking = memberA;
        TlsSettings old = clusterCa.issueNaming("old-b", dir).withoutNodeIdCheck();
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport a = start(checking, Map.of());
            NettyTransport b = start(old, Map.of("a", "127.0.0.1:" + a.localPort()));
            a.updatePeers("g", Map.of("b", "127.0.0.1:" + b.localPort()));
            RecordingInbound atA = new RecordingInbound();
            RecordingInbound atB = new RecordingInbound();
            a.register("g", "a", atA);
            b.register("g", "b", atB);

            long[] seq = {0};
            Await.until(WAIT, "b is told it is refused, a warns it does not send to b", () -> {
                b.send(TestMessages.numbered("g", "b", "a", seq[0]++, 10));
                a.send(TestMessages.numbered("g", "a", "b", seq[0]++, 10));
                return !log.linesWith("refuses this process's frames: sender 'b' is not named by its TLS certificate,"
                        + " which names no node id").isEmpty()
                        && !log.linesWith("names no node id, not b").isEmpty();
            }, log::text);
            assertEquals(0, a.deliveredMessages() + b.deliveredMessages());
        }
    }
}

package io.raft4j.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutual TLS: members with certificates from the cluster's authority talk; a process with no
 * certificate, a certificate from another authority, or no TLS at all can neither deliver a message
 * nor receive one.
 */
class NettyTlsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String CLUSTER = "tls-cluster";

    @TempDir
    static Path dir;
    private static TlsSettings memberA;
    private static TlsSettings memberB;
    private static TlsSettings rogue;
    @RegisterExtension
    final ClosedAfterEach toClose = new ClosedAfterEach();

    @BeforeAll
    static void makeCertificates() throws Exception {
        TestCertificates.Authority clusterCa = TestCertificates.authority("cluster", dir);
        TestCertificates.Authority otherCa = TestCertificates.authority("other", dir);
        memberA = clusterCa.issue("a", dir);
        memberB = clusterCa.issue("b", dir);
        // Signed by another authority, trusting the cluster's as well as its own (a transport refuses
        // to start with a certificate it would not trust itself): it can verify members, not the reverse.
        TlsSettings r = otherCa.issue("rogue", dir);
        Path both = dir.resolve("cluster-and-other-ca.pem");
        Files.writeString(both, Files.readString(clusterCa.certificateFile) + Files.readString(otherCa.certificateFile));
        rogue = TlsSettings.of(r.certificateChain(), r.privateKey(), both);
    }


    private NettyTransport start(TlsSettings tls, Map<String, String> peers) {
        NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                .reconnectBackoff(10, 100).tls(tls).peers(peers).build());
        toClose.add(t);
        return t;
    }

    @Test
    void membersWithCertificatesFromTheClusterAuthorityTalk() throws Exception {
        NettyTransport b = start(memberB, Map.of());
        NettyTransport a = start(memberA, Map.of("b", "127.0.0.1:" + b.localPort()));
        TestMessages.assertTalkBothWays(a, b, 1000, WAIT);
    }

    @Test
    void certificateFromAnotherAuthorityCanNeitherInjectNorReceive() throws Exception {
        NettyTransport b = start(memberB, Map.of("rogue", "127.0.0.1:1"));
        RecordingInbound atB = new RecordingInbound();
        b.register("g", "b", atB);
        NettyTransport r = start(rogue, Map.of("b", "127.0.0.1:" + b.localPort()));
        RecordingInbound atRogue = new RecordingInbound();
        r.register("g", "rogue", atRogue);

        // The rogue dials b: b refuses its certificate during the handshake.
        // (With TLS 1.3 the client's handshake completes before the server checks its certificate,
        // so the rogue learns it is refused only when the connection closes; Raft keeps sending.)
        long deadline = System.nanoTime() + WAIT.toNanos();
        long seq = 0;
        while (atRogue.unreachable.poll(10, TimeUnit.MILLISECONDS) == null) {
            assertTrue(System.nanoTime() < deadline, "the rogue never noticed it is refused");
            r.send(TestMessages.numbered("g", "rogue", "b", seq++, 10));
        }
        assertTrue(b.rejectedConnections() > 0, "b refused the rogue's handshake");

        // b dials the rogue: b does not trust the rogue's server certificate and sends nothing.
        b.updatePeers("g", Map.of("rogue", "127.0.0.1:" + r.localPort()));
        b.send(TestMessages.numbered("g", "b", "rogue", 2, 10));
        assertEquals("rogue", atB.nextUnreachable(WAIT));

        assertNull(atB.received.poll(200, TimeUnit.MILLISECONDS));
        assertTrue(atRogue.received.isEmpty());
        assertEquals(0, b.deliveredMessages() + r.deliveredMessages());
    }

    @Test
    void plainTcpAndTlsWithoutAClientCertificateAreRefused() throws Exception {
        NettyTransport b = start(memberB, Map.of("a", "127.0.0.1:1"));
        RecordingInbound atB = new RecordingInbound();
        b.register("g", "b", atB);
        byte[] frame = frame(TestMessages.numbered("g", "a", "b", 1, 10));

        // A plain-TCP transport of the same cluster.
        NettyTransport plain = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                .peer("b", "127.0.0.1:" + b.localPort()).build());
        toClose.add(plain);
        plain.register("g", "a", new RecordingInbound());
        plain.send(TestMessages.numbered("g", "a", "b", 1, 10));
        Await.until(WAIT, "plain TCP refused", () -> b.rejectedConnections() >= 1);

        // Raw TLS that trusts anything and presents no certificate: the server demands one.
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new TrustAll()}, null);
        try (Socket raw = ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), b.localPort())) {
            SSLSocket s = (SSLSocket) raw;
            s.setSoTimeout(5000);
            assertThrows(IOException.class, () -> {
                s.startHandshake();
                s.getOutputStream().write(frame);
                s.getOutputStream().flush();
                // TLS 1.3 reports a refused client certificate on the first read.
                if (s.getInputStream().read() == -1) {
                    throw new IOException("closed by server");
                }
            });
        }
        Await.until(WAIT, "certificate-less TLS refused", () -> b.rejectedConnections() >= 2);
        assertNull(atB.received.poll(200, TimeUnit.MILLISECONDS));
        assertEquals(0, b.deliveredMessages());
    }

    /**
     * A member whose TLS with a peer fails over and over (it does not trust the peer, or the peer
     * does not trust it) warns once, not at every redial, and warns at all when the peer is the one
     * refusing: with TLS 1.3 the client's handshake completes before the server checks its
     * certificate, and the refusal arrived as an alert logged at debug only, so a member whose
     * certificate its peers refuse said nothing of it in its own log.
     */
    @Test
    void failedTlsWithAPeerIsWarnedOnceOnBothEnds() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport b = start(memberB, Map.of("rogue", "127.0.0.1:1"));
            b.register("g", "b", new RecordingInbound());
            NettyTransport r = start(rogue, Map.of("b", "127.0.0.1:" + b.localPort()));
            r.register("g", "rogue", new RecordingInbound());
            b.updatePeers("g", Map.of("rogue", "127.0.0.1:" + r.localPort()));

            long[] seq = {0};
            String warnedAtB = "WARN io.raft4j.transport.netty.PeerConnection - TLS handshake with rogue";
            String warnedAtRogue = "WARN io.raft4j.transport.netty.PeerConnection - b at";
            Await.until(WAIT, "several refusals each way, each end warned", () -> {
                b.send(TestMessages.numbered("g", "b", "rogue", seq[0], 10));
                r.send(TestMessages.numbered("g", "rogue", "b", seq[0]++, 10));
                return b.rejectedConnections() >= 4 && r.rejectedConnections() >= 4
                        && !log.linesWith(warnedAtB).isEmpty() && !log.linesWith(warnedAtRogue).isEmpty();
            }, () -> log.linesWith("PeerConnection").toString());

            List<String> atB = log.linesWith(warnedAtB);
            assertEquals(1, atB.size(), "b, not trusting the rogue: " + atB);
            List<String> atRogue = log.linesWith(warnedAtRogue);
            assertEquals(1, atRogue.size(), "the rogue, refused by b: " + log.linesWith("PeerConnection"));
            assertTrue(atRogue.get(0).contains("refused"), atRogue.get(0));
        }
    }

    /**
     * A TCP health check (a load balancer's, an orchestrator's) connects and closes without a word.
     * To a plain transport that is nothing; to a TLS one it was a failed handshake
     * ("ClosedChannelException: null"), warned of and counted in rejectedConnections, which counts
     * connections closed for what they sent. A connection that closes, or stays silent past the
     * handshake timeout, sent nothing wrong: debug, not counted, as the idle timeout does.
     */
    @Test
    void aConnectionThatClosesBeforeItsHandshakeIsNotARejection() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport b = start(memberB, Map.of());
            for (int i = 0; i < 3; i++) {
                try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), b.localPort())) {
                    Await.until(WAIT, "the probe accepted", () -> b.inboundConnections() == 1);
                    probe.shutdownOutput();
                }
                Await.until(WAIT, "the probe's connection closed", () -> b.inboundConnections() == 0);
            }
            assertEquals(0, b.rejectedConnections());
            assertEquals(List.of(), log.linesWith("WARN io.raft4j.transport.netty.ConnectionGuard"));
        }
    }

    /**
     * A peer whose certificate another authority signed sends none at all (a JDK client only offers
     * a certificate from an authority the server names as trusted), so the JDK's reason,
     * "Empty client certificate chain", read as if the peer had no certificate: the refusal now
     * says what the likely cause is.
     */
    @Test
    void aPeerWithACertificateFromAnotherAuthorityIsRefusedNamingTheLikelyCause() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport b = start(memberB, Map.of("rogue", "127.0.0.1:1"));
            b.register("g", "b", new RecordingInbound());
            NettyTransport r = start(rogue, Map.of("b", "127.0.0.1:" + b.localPort()));
            r.register("g", "rogue", new RecordingInbound());
            long[] seq = {0};
            String atB = "to /127.0.0.1:" + b.localPort() + ":";
            Await.until(WAIT, "b refused the rogue", () -> {
                r.send(TestMessages.numbered("g", "rogue", "b", seq[0]++, 10));
                return !log.linesWith(atB).isEmpty();
            });
            List<String> refusals = log.linesWith(atB);
            assertTrue(refusals.stream().anyMatch(l -> l.contains("no certificate issued by an authority this member"
                    + " trusts")), "at b: " + refusals);
        }
    }

    /**
     * A member with TLS and one without, each dialling the other: both refuse, and each says that
     * the other end speaks (or does not speak) TLS. The TLS end used to log "not an SSL/TLS record:"
     * and a hex dump of all the bytes read (kilobytes per line), the plain end a frame length of
     * some 369 million: neither named the mismatch.
     */
    @Test
    void aMemberWithoutTlsAndOneWithAreToldApartInTheLog() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            NettyTransport tls = start(memberB, Map.of("a", "127.0.0.1:1"));
            NettyTransport plain = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                    .peer("b", "127.0.0.1:" + tls.localPort()).build());
            toClose.add(plain);
            tls.updatePeers("g", Map.of("a", "127.0.0.1:" + plain.localPort()));
            RecordingInbound atTls = new RecordingInbound();
            RecordingInbound atPlain = new RecordingInbound();
            tls.register("g", "b", atTls);
            plain.register("g", "a", atPlain);

            plain.send(TestMessages.numbered("g", "a", "b", 1, 4096));
            tls.send(TestMessages.numbered("g", "b", "a", 1, 10));
            Await.until(WAIT, "both refused", () -> !log.linesWith("to /127.0.0.1:" + tls.localPort() + ":").isEmpty()
                    && !log.linesWith("to /127.0.0.1:" + plain.localPort() + ":").isEmpty(), log::text);

            List<String> atTlsEnd = log.linesWith("to /127.0.0.1:" + tls.localPort() + ":");
            assertTrue(atTlsEnd.stream().anyMatch(l -> l.contains("the peer does not speak TLS")), "at the TLS end: " + atTlsEnd);
            assertTrue(atTlsEnd.stream().allMatch(l -> l.length() < 1000), "no hex dump: " + atTlsEnd);
            List<String> atPlainEnd = log.linesWith("to /127.0.0.1:" + plain.localPort() + ":");
            assertTrue(atPlainEnd.stream().anyMatch(l -> l.contains("the peer speaks TLS")), "at the plain end: " + atPlainEnd);
            assertEquals(0, tls.deliveredMessages() + plain.deliveredMessages());
        }
    }

    /**
     * Closing while dials are mid-way, a TLS handshake with a server that never answers and a name
     * lookup that hangs, over and over: close returns, and once the lookups return no thread of the
     * transports is left (event loops, resolver threads).
     */
    @Test
    void closingWhileHandshakesAndNameLookupsAreMidWayLeavesNoThreadBehind() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        java.util.concurrent.CountDownLatch lookupsReturn = new java.util.concurrent.CountDownLatch(1);
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 100, InetAddress.getLoopbackAddress())) {
            // Accepted by the kernel and never answered: each dial stays in its TLS handshake.
            for (int i = 0; i < 20; i++) {
                NettyTransport a = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                        .tls(memberA).peer("silent", "127.0.0.1:" + silent.getLocalPort())
                        .peer("unresolved", "slow-dns.invalid:7000").build(), host -> {
                            if (host.equals("slow-dns.invalid")) {
                                try {
                                    lookupsReturn.await();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                throw new java.net.UnknownHostException(host);
                            }
                            return InetAddress.getAllByName(host);
                        });
                a.register("g", "a", new RecordingInbound());
                a.send(TestMessages.numbered("g", "a", "silent", 1, 10));
                a.send(TestMessages.numbered("g", "a", "unresolved", 1, 10));
                a.close();
            }
        } finally {
            lookupsReturn.countDown();
        }
        Await.until(WAIT, "every thread of the closed transports ended", () -> transportThreadsBut(before).isEmpty(),
                () -> transportThreadsBut(before).toString());
    }

    private static List<String> transportThreadsBut(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("raft-"))
                .map(Thread::getName).toList();
    }

    private static byte[] frame(RaftMessage m) {
        ByteBuf buf = Frames.encode(UnpooledByteBufAllocator.DEFAULT, MessageMapper.toEnvelope(CLUSTER, m), 1 << 20);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        return bytes;
    }

    /** Trusts any server: for a client that only wants to try the server's door. */
    private static final class TrustAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}

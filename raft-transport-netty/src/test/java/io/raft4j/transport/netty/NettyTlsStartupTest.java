package io.raft4j.transport.netty;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS settings that no peer could accept are refused when the transport starts, with the reason,
 * rather than giving a member that starts, joins nothing, and leaves the reason to its peers' logs.
 */
class NettyTlsStartupTest {
    private static final String CLUSTER = "tls-startup";

    @TempDir
    static Path dir;
    private static TestCertificates.Authority clusterCa;
    private static TlsSettings memberA;
    private static TlsSettings memberB;

    @BeforeAll
    static void makeCertificates() throws Exception {
        clusterCa = TestCertificates.authority("cluster", dir);
        memberA = clusterCa.issue("a", dir);
        memberB = clusterCa.issue("b", dir);
    }

    private static String startFailure(TlsSettings tls) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                    .tls(tls).build());
            t.close();
        });
        return e.getMessage();
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefusedAtStart() {
        // b's key with a's certificate: what a rotation that replaced one file and not the other leaves.
        String message = startFailure(TlsSettings.of(memberA.certificateChain(), memberB.privateKey(),
                memberA.trustedCertificates()));
        assertTrue(message.contains(memberB.privateKey().toString()) && message.contains("TLS"), message);
    }

    @Test
    void anExpiredCertificateIsRefusedAtStartNamingTheReason() throws Exception {
        Instant now = Instant.now();
        TlsSettings expired = clusterCa.issue("expired", dir, Date.from(now.minus(2, ChronoUnit.DAYS)),
                Date.from(now.minus(1, ChronoUnit.DAYS)));
        String message = startFailure(expired);
        assertTrue(message.contains("CertificateExpiredException"), message);
    }

    @Test
    void aCertificateNotValidYetIsRefusedAtStartNamingTheReason() throws Exception {
        Instant now = Instant.now();
        TlsSettings future = clusterCa.issue("future", dir, Date.from(now.plus(1, ChronoUnit.DAYS)),
                Date.from(now.plus(2, ChronoUnit.DAYS)));
        String message = startFailure(future);
        assertTrue(message.contains("CertificateNotYetValidException"), message);
    }

    @Test
    void aCertificateItsOwnAuthoritiesDoNotTrustIsRefusedAtStart() throws Exception {
        TestCertificates.Authority otherCa = TestCertificates.authority("other", dir);
        // Signed by another authority than those it (and so its peers, with the same file) trusts.
        TlsSettings stranger = otherCa.issue("stranger", dir);
        String message = startFailure(TlsSettings.of(stranger.certificateChain(), stranger.privateKey(),
                clusterCa.certificateFile));
        assertTrue(message.contains(clusterCa.certificateFile.toString()), message);
    }
}

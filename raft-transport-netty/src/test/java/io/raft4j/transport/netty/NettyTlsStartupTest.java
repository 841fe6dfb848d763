package io.raft4j.transport.netty;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /**
     * A certificate naming no node id (issued before ids were checked): with the check on (the
     * default), every peer would refuse its frames, so the start fails saying so and naming the
     * way out; with the check turned off it starts.
     */
    @Test
    void aCertificateNamingNoNodeIdIsRefusedAtStartUnlessTheCheckIsOff() throws Exception {
        TlsSettings old = clusterCa.issueNaming("old", dir);
        String message = startFailure(old);
        assertTrue(message.contains(old.certificateChain().toString()) && message.contains("names no node id")
                && message.contains("raft4j://node/<id>") && message.contains("withoutNodeIdCheck"), message);
        NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                .tls(old.withoutNodeIdCheck()).build());
        t.register("g", "any-id", new RecordingInbound());
        t.close();
    }

    /**
     * Which ids the certificate must name is known as nodes register: an id it does not name is
     * refused there (a RaftNode's start then fails with this), one it names is taken.
     */
    @Test
    void registeringAnIdTheCertificateDoesNotNameIsRefused() {
        NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                .tls(memberA).build());
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> t.register("g", "b", new RecordingInbound()));
            assertTrue(e.getMessage().contains("names the node ids [a], not b")
                    && e.getMessage().contains("raft4j://node/b"), e.getMessage());
            assertEquals(e.getMessage(), "cannot register b in group g: " + t.problemWithLocalId("b").orElseThrow());
            assertTrue(t.problemWithLocalId("a").isEmpty());
            t.register("g", "a", new RecordingInbound());
            t.register("g2", "a", new RecordingInbound());   // one id, any number of groups
        } finally {
            t.close();
        }
    }

    private static java.security.PrivateKey keyOfA() throws Exception {
        return TestCertificates.readKey(memberA.privateKey());
    }

    /** The documented way to protect the key: PKCS#8, encrypted, with its password. */
    @Test
    void anEncryptedKeyWithItsPasswordStarts() throws Exception {
        Path key = TestCertificates.writeEncryptedKey(keyOfA(), "s3cret", dir.resolve("a-encrypted.key"));
        NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                .tls(new TlsSettings(memberA.certificateChain(), key, "s3cret", memberA.trustedCertificates())).build());
        t.close();
    }

    /**
     * A wrong password used to give only "File does not contain valid private key": that the key
     * failed to decrypt was three causes down, in the stack trace.
     */
    @Test
    void aWrongPasswordIsNamedAsADecryptionFailureAtStart() throws Exception {
        Path key = TestCertificates.writeEncryptedKey(keyOfA(), "s3cret", dir.resolve("a-encrypted3.key"));
        String message = startFailure(new TlsSettings(memberA.certificateChain(), key, "wrong",
                memberA.trustedCertificates()));
        assertTrue(message.contains(key.toString()) && message.contains("BadPaddingException"), message);
    }

    /**
     * Key files that are not what {@link TlsSettings} takes are refused when the configuration is
     * built, saying what is wrong with them. They used to reach Netty, whose answer, when the
     * transport started, was "File does not contain valid private key" for all three.
     */
    @Test
    void keyFilesInAnotherFormatOrWithoutTheirPasswordAreRefusedWhenConfigured() throws Exception {
        Path traditional = TestCertificates.writeTraditionalKey(keyOfA(), dir.resolve("a-traditional.key"));
        Path encrypted = TestCertificates.writeEncryptedKey(keyOfA(), "s3cret", dir.resolve("a-encrypted2.key"));
        String notPkcs8 = configFailure(new TlsSettings(memberA.certificateChain(), traditional, null,
                memberA.trustedCertificates()));
        assertTrue(notPkcs8.contains(traditional.toString()) && notPkcs8.contains("PKCS#8")
                && notPkcs8.contains("openssl pkcs8 -topk8"), notPkcs8);
        String noPassword = configFailure(new TlsSettings(memberA.certificateChain(), encrypted, null,
                memberA.trustedCertificates()));
        assertTrue(noPassword.contains(encrypted.toString()) && noPassword.contains("encrypted")
                && noPassword.contains("no password"), noPassword);
        String needlessPassword = configFailure(new TlsSettings(memberA.certificateChain(), memberA.privateKey(),
                "s3cret", memberA.trustedCertificates()));
        assertTrue(needlessPassword.contains(memberA.privateKey().toString())
                && needlessPassword.contains("not encrypted"), needlessPassword);
    }

    /**
     * The JDK decrypts a PKCS#8 key only with a printable-ASCII password: any other used to end in
     * Netty's "File does not contain valid private key", which pointed at the key file.
     */
    @Test
    void aPasswordOtherThanPrintableAsciiIsRefusedSayingSo() throws Exception {
        Path key = TestCertificates.writeEncryptedKey(keyOfA(), "s3cret", dir.resolve("a-encrypted4.key"));
        String message = configFailure(new TlsSettings(memberA.certificateChain(), key, "s\u00e9cret",
                memberA.trustedCertificates()));
        assertTrue(message.contains(key.toString()) && message.contains("printable ASCII (at 1)"), message);
    }

    private static String configFailure(TlsSettings tls) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            NettyTransport t = NettyTransport.start(NettyTransportConfig.builder(CLUSTER).listen("127.0.0.1", 0)
                    .tls(tls).build());
            t.close();
        });
        return e.getMessage();
    }
}

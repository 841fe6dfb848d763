package io.raft4j.transport.netty;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CertifiedNodeIdsTest {
    @TempDir
    Path dir;

    /** Any node id can be named: one with a space, a slash and non-ASCII letters, percent-encoded. */
    @Test
    void idsAreReadFromTheCertificatesUriSansDecoded() throws Exception {
        String odd = "zone 1/nœud-ü";
        TlsSettings tls = TestCertificates.authority("ids", dir).issueNaming("m", dir, "n1", odd, "n-2.x_~");
        CertifiedNodeIds ids;
        try (InputStream in = Files.newInputStream(tls.certificateChain())) {
            ids = CertifiedNodeIds.of(CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        assertEquals(Set.of("n1", odd, "n-2.x_~"), ids.ids());
        assertEquals(TestCertificates.nodeIdUri(odd), CertifiedNodeIds.uriFor(odd));
        assertEquals("raft4j://node/zone%201%2Fn%C5%93ud-%C3%BC", CertifiedNodeIds.uriFor(odd));
    }

    @Test
    void onlyRaft4jNodeUrisNameIds() {
        assertEquals("n1", CertifiedNodeIds.idIn("raft4j://node/n1"));
        assertEquals("n1", CertifiedNodeIds.idIn("RAFT4J://NODE/n1"));   // scheme and host: any case
        assertNull(CertifiedNodeIds.idIn("raft4j://node/"));
        assertNull(CertifiedNodeIds.idIn("raft4j://other/n1"));
        assertNull(CertifiedNodeIds.idIn("spiffe://node/n1"));
        assertNull(CertifiedNodeIds.idIn("raft4j://node:7/n1"));
        assertNull(CertifiedNodeIds.idIn("raft4j://x@node/n1"));
        assertNull(CertifiedNodeIds.idIn("raft4j://node/n1?x"));
        assertNull(CertifiedNodeIds.idIn("raft4j://node/n1#x"));
        assertNull(CertifiedNodeIds.idIn("raft4j://node/n 1"));   // not a URI: the space must be encoded
    }

    /** Escapes that are not UTF-8 name no id: they used to name U+FFFD, one id for many such names. */
    @Test
    void escapesThatAreNotUtf8NameNoId() {
        assertNull(CertifiedNodeIds.idIn("raft4j://node/%C3"));
        assertNull(CertifiedNodeIds.idIn("raft4j://node/n%FF1"));
        assertEquals("n\u00fc", CertifiedNodeIds.idIn("raft4j://node/n%C3%BC"));
        assertEquals("a/b c", CertifiedNodeIds.idIn("raft4j://node/a%2Fb%20c"));
        assertEquals("n\u00fc\uD83D\uDE00", CertifiedNodeIds.idIn("raft4j://node/n\u00fc\uD83D\uDE00"));   // unescaped
    }
}

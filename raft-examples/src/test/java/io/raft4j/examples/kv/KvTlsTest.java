package io.raft4j.examples.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.raft4j.examples.kv.InMemoryKvCluster.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's TLS options (real RocksDB log and Netty transport on 127.0.0.1): nodes whose
 * certificates name their ids form a cluster; a certificate that does not name the node's id is
 * refused before anything is written; one that names none runs only with the check turned off.
 */
class KvTlsTest {
    @TempDir
    Path dir;

    private final int raftPort;
    private final int clientPort;

    KvTlsTest() throws Exception {
        raftPort = freePort();
        clientPort = freePort();
    }

    private String[] n1(List<String> tls, String... extra) {
        List<String> args = new ArrayList<>(List.of("--id", "n1", "--raft-address", "127.0.0.1:" + raftPort,
                "--client-address", "127.0.0.1:" + clientPort, "--peers", "n1=127.0.0.1:" + raftPort,
                "--data-dir", dir.resolve("n1").toString(), "--tick-ms", "10"));
        args.addAll(tls);
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** n2 joins n1 over TLS: the leader's appends reach n2 and n2's answers reach n1, both checked by id. */
    @Test
    void nodesWhoseCertificatesNameTheirIdsFormACluster() throws Exception {
        NodeCertificates certs = new NodeCertificates(dir);
        int otherPort = freePort();
        int otherClientPort = freePort();
        List<String> n2 = new ArrayList<>(List.of("--id", "n2", "--raft-address", "127.0.0.1:" + otherPort,
                "--client-address", "127.0.0.1:" + otherClientPort, "--peers", "n1=127.0.0.1:" + raftPort, "--join",
                "--data-dir", dir.resolve("n2").toString(), "--tick-ms", "10"));
        n2.addAll(certs.issue("n2", "n2"));
        try (InProcessNode first = new InProcessNode(n1(certs.issue("n1", "n1")));
             InProcessNode second = new InProcessNode(n2.toArray(String[]::new))) {
            assertEquals(StartMode.BOOTSTRAP, first.awaitStarted());
            assertEquals(StartMode.JOIN, second.awaitStarted());
            awaitLeader();
            try (RespSocket leader = new RespSocket(clientPort, 60_000)) {
                // Promoted only once it caught up: replication over TLS works both ways.
                assertEquals("OK", RespSocket.text(leader.call("RAFT.ADDNODE", "n2", "127.0.0.1:" + otherPort)));
                assertEquals("OK", RespSocket.text(leader.call("SET", "k", "v")));
            }
        }
    }

    @Test
    void aCertificateNotNamingTheNodesIdIsRefusedBeforeAnythingIsWritten() throws Exception {
        NodeCertificates certs = new NodeCertificates(dir);
        String err = refused(n1(certs.issue("other", "n2")));
        assertTrue(err.startsWith("--tls-cert: this member's TLS certificate ") && err.contains("names the node ids [n2],"
                + " not n1") && err.contains("raft4j://node/n1"), err);
        assertFalse(Files.exists(dir.resolve("n1")), "nothing written");
    }

    @Test
    void aCertificateNamingNoIdRunsOnlyWithTheCheckTurnedOff() throws Exception {
        NodeCertificates certs = new NodeCertificates(dir);
        List<String> old = certs.issue("old");
        String err = refused(n1(old));
        assertTrue(err.startsWith("--tls-cert, --tls-key, --tls-ca: TLS: this member's certificate")
                && err.contains("names no node id") && err.contains("--tls-no-node-id-check"), err);
        assertFalse(Files.exists(dir.resolve("n1")), "nothing written");
        try (InProcessNode node = new InProcessNode(n1(old, "--tls-no-node-id-check"))) {
            assertEquals(StartMode.BOOTSTRAP, node.awaitStarted());
            awaitLeader();
        }
    }

    /**
     * An encrypted key starts with its password read from --tls-key-password-file (its line ending
     * not part of it). Checked by hand with the packaged jar too, where no BouncyCastle is on the
     * class path: a key from {@code openssl pkcs8 -topk8} (PBES2, AES-256-CBC) and its password.
     */
    @Test
    void anEncryptedKeyRunsWithThePasswordFromItsFile() throws Exception {
        NodeCertificates certs = new NodeCertificates(dir);
        List<String> tls = certs.issueEncrypted("n1", "s3cret pass", "n1");
        Path password = Files.writeString(dir.resolve("key-password"), "s3cret pass\n");
        try (InProcessNode node = new InProcessNode(n1(tls, "--tls-key-password-file", password.toString()))) {
            assertEquals(StartMode.BOOTSTRAP, node.awaitStarted());
            awaitLeader();
        }
    }

    @Test
    void aKeyAndAPasswordFileThatDoNotGoTogetherAreRefusedNamingTheOption() throws Exception {
        NodeCertificates certs = new NodeCertificates(dir);
        List<String> encrypted = certs.issueEncrypted("n1", "s3cret", "n1");
        String err = refused(n1(encrypted));
        assertTrue(err.contains("is encrypted") && err.contains("--tls-key-password-file"), err);

        Path wrong = Files.writeString(dir.resolve("wrong-password"), "not it");
        err = refused(n1(encrypted, "--tls-key-password-file", wrong.toString()));
        assertTrue(err.startsWith("--tls-cert, --tls-key, --tls-ca, --tls-key-password-file: ")
                && err.contains("(is the password in --tls-key-password-file the key's?)")
                && err.contains("BadPaddingException"), err);   // the root cause, which the transport's own message has

        Path missing = dir.resolve("no-such-file");
        err = refused(n1(encrypted, "--tls-key-password-file", missing.toString()));
        assertTrue(err.startsWith("--tls-key-password-file: cannot read " + missing), err);

        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        err = refused(n1(encrypted, "--tls-key-password-file", empty.toString()));
        assertTrue(err.startsWith("--tls-key-password-file: " + empty + " holds no password"), err);

        // Java decrypts such keys only with printable ASCII passwords (Netty then said the key was invalid).
        Path utf8 = Files.writeString(dir.resolve("utf8"), "s3cret p\u00e4ss\n");
        err = refused(n1(encrypted, "--tls-key-password-file", utf8.toString()));
        assertTrue(err.startsWith("--tls-key-password-file: " + utf8 + " holds a character other than printable ASCII"
                + " (at 8)"), err);

        Path password = Files.writeString(dir.resolve("password"), "s3cret");
        err = refused(n1(certs.issue("plain", "n1"), "--tls-key-password-file", password.toString()));
        assertTrue(err.contains("is not encrypted") && err.contains("--tls-key-password-file"), err);
        assertFalse(Files.exists(dir.resolve("n1")), "nothing written");
    }

    @Test
    void aPasswordFileWithoutTlsIsABadOption() throws Exception {
        Path password = Files.writeString(dir.resolve("password"), "s3cret");
        String err = refused(n1(List.of(), "--tls-key-password-file", password.toString()));
        assertTrue(err.startsWith("--tls-key-password-file: only with TLS"), err);
    }

    private static String refused(String[] args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new NodeCommand());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute(args), "stderr: " + err);
        return err.toString();
    }

    /** Waits until n1 leads (and so serves a write). */
    private void awaitLeader() {
        InMemoryKvCluster.awaitWriteServed("n1 to lead", clientPort);
    }
}

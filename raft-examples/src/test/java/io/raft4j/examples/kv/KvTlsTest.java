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

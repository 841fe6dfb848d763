package io.raft4j.examples.kv;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.raft4j.examples.kv.InMemoryKvCluster.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad command lines are refused with a message that names the option (nothing is started). */
class KvNodeCommandTest {
    @TempDir
    Path dir;

    private String run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new NodeCommand());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int code = cl.execute(args);
        assertEquals(2, code, "exit code for a usage error; stderr: " + err);
        return err.toString();
    }

    private String[] with(String... overrides) {
        List<String> args = new ArrayList<>(List.of("--id", "n1", "--raft-address", "127.0.0.1:7001",
                "--client-address", "127.0.0.1:6379", "--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7002",
                "--data-dir", dir.resolve("n1").toString()));
        for (int i = 0; i < overrides.length; i += 2) {
            int at = args.indexOf(overrides[i]);
            if (at >= 0) {
                args.set(at + 1, overrides[i + 1]);
            } else {
                args.add(overrides[i]);
                args.add(overrides[i + 1]);
            }
        }
        return args.toArray(String[]::new);
    }

    @Test
    void missingOptionsAreNamed() {
        String err = run("--id", "n1");
        assertTrue(err.contains("Missing required options"), err);
        assertTrue(err.contains("--raft-address") && err.contains("--client-address") && err.contains("--peers")
                && err.contains("--data-dir"), err);
    }

    @Test
    void memorySizesAreReadAsRedisReadsThem() {
        assertEquals(0, MemorySize.parse("0"));
        assertEquals(1234, MemorySize.parse("1234"));
        assertEquals(2_000, MemorySize.parse("2k"));
        assertEquals(2_048, MemorySize.parse("2KB"));
        assertEquals(100L << 20, MemorySize.parse("100mb"));
        assertEquals(3_000_000_000L, MemorySize.parse("3g"));
        assertEquals(1L << 30, MemorySize.parse(" 1Gb "));
        assertEquals(100L << 20, MemorySize.parse("100 mb"));
    }

    /** TLS takes its three files or none; the check's opt-out only with TLS. Files are read at start, not here. */
    @Test
    void tlsOptionsGoTogether() {
        String err = run(with("--tls-cert", "n1.pem", "--tls-ca", "ca.pem"));
        assertTrue(err.contains("--tls-cert, --tls-key, --tls-ca: give all three for TLS, or none; missing --tls-key"), err);
        List<String> optOutAlone = new ArrayList<>(List.of(with()));
        optOutAlone.add("--tls-no-node-id-check");
        err = run(optOutAlone.toArray(String[]::new));
        assertTrue(err.contains("--tls-no-node-id-check: only with TLS"), err);
    }

    @Test
    void badValuesNameTheOption() {
        assertTrue(run(with("--raft-address", "127.0.0.1")).contains("--raft-address: '127.0.0.1' is not host:port"));
        assertTrue(run(with("--client-address", "h:99999")).contains("--client-address: 'h:99999': port 99999 is outside 1..65535"));
        assertTrue(run(with("--client-address", "127.0.0.1:7001")).contains("--client-address: must differ from --raft-address"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n2")).contains("--peers: 'n2' is not ID=HOST:PORT"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n2=nowhere")).contains("--peers: n2: 'nowhere' is not host:port"));
        assertTrue(run(with("--peers", "n2=127.0.0.1:7002")).contains("--peers: must include this node"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n1=127.0.0.1:7002")).contains("--peers: n1 is listed twice"));
        assertTrue(run(with("--dial", "n2=127.0.0.1")).contains("--dial: n2: '127.0.0.1' is not host:port"));
        assertTrue(run(with("--dial", "n1=127.0.0.1:7101")).contains("--dial: n1 is this node; list other nodes only"));
        assertTrue(run(with("--forward-to", "n2")).contains("--forward-to: 'n2' is not ID=HOST:PORT"));
        assertTrue(run(with("--forward-to", "n2=127.0.0.1:6380,n2=127.0.0.1:6381"))
                .contains("--forward-to: n2 is listed twice"));
        assertTrue(run(with("--id", "a b")).contains("--id: 'a b' must be non-empty"));
        assertTrue(run(with("--cluster-id", "")).contains("--cluster-id: must be non-empty"));
        assertTrue(run(with("--tick-ms", "0")).contains("--tick-ms: 0 is outside 1..10000"));
        assertTrue(run(with("--tick-ms", "abc")).contains("--tick-ms"));
        assertTrue(run(with("--heartbeat-ticks", "10")).contains("--heartbeat-ticks: must be at least 1 and below --election-ticks"));
        // Found by an operator: refused by Raft only after binding the port, with a stack trace and exit 1.
        assertTrue(run(with("--election-ticks", "2147483647")).contains("--election-ticks: must be at least 2 and at most 1048576"));
        assertTrue(run(with("--read-mode", "eventual")).contains("--read-mode: 'eventual' is not linearizable, lease or stale"));
        assertTrue(run(with("--max-request-bytes", "10")).contains("--max-request-bytes: must be at least --max-bulk-bytes"));
        assertTrue(run(with("--maxmemory", "12xb")).contains("--maxmemory: '12xb' has an unknown unit"));
        assertTrue(run(with("--maxmemory", "-1")).contains("--maxmemory: '-1' is not a size in bytes"));
        assertTrue(run(with("--maxmemory", "99999999999gb")).contains("--maxmemory: '99999999999gb' is too large"));
        assertTrue(run(with("--max-client-input-bytes", "-5")).contains("--max-client-input-bytes: '-5' is not a size"));
        String tooSmall = run(with("--max-client-input-bytes", "1mb"));
        assertTrue(tooSmall.contains("--max-client-input-bytes: must be 0 (no limit) or at least --max-request-bytes"
                + " (33554432), was 1048576"), tooSmall);
        assertTrue(run(with("--request-timeout-ms", "9223372036854775807"))
                .contains("--request-timeout-ms: 9223372036854775807 is outside 10..86400000"));
        assertTrue(run(with("--unknown", "x")).contains("Unknown option"));
    }

    @Test
    void theClientInputBudgetDefaultsToAShareOfTheJvmsMemoryAndZeroLiftsIt() {
        assertEquals(io.raft4j.examples.kv.resp.ClientInputBudget.defaultLimit(), settings(with()).maxClientInputBytes());
        assertEquals(64L << 20, settings(with("--max-client-input-bytes", "64mb")).maxClientInputBytes());
        assertEquals(0, settings(with("--max-client-input-bytes", "0")).maxClientInputBytes());
    }

    private static KvNode.Settings settings(String... args) {
        NodeCommand command = new NodeCommand();
        Main.commandLine(command).parseArgs(args);
        return command.validate();
    }

    /**
     * Found in a sweep: --peers took ids --id refuses. "n 2" became a voter of the new cluster that no
     * node could ever start as; a control character or 300 characters reached Raft, which threw
     * with a stack trace (exit 1) after the log was created.
     */
    @Test
    void peerIdsFollowTheRuleOfNodeIds() {
        String spaced = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n 2=127.0.0.1:7002"));
        assertTrue(spaced.startsWith("--peers: 'n 2' must be non-empty"), spaced);
        String control = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n\u00012=127.0.0.1:7002"));
        assertTrue(control.startsWith("--peers: 'n\\u00012' must be non-empty"), control);
        String longId = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001," + "x".repeat(300) + "=127.0.0.1:7002"));
        assertTrue(longId.startsWith("--peers: '" + "x".repeat(64) + "' (300 characters) must be non-empty"), longId);
        // The same rule and message for the other lists, and for --id; and in one line on the command line.
        assertTrue(run(with("--dial", "n\u00012=127.0.0.1:7002")).startsWith("--dial: 'n\\u00012' must be non-empty"));
        assertTrue(run(with("--id", "n\u0001")).startsWith("--id: 'n\\u0001' must be non-empty"));
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n 2=127.0.0.1:7002")).startsWith("--peers: 'n 2'"));
        assertFalse(java.nio.file.Files.exists(dir.resolve("n1")), "the data directory was created");
    }

    /**
     * Found in a sweep: --peers n1=127.0.0.1:7001,n2=127.0.0.1:7001 bootstrapped a cluster of two
     * voters at one address, which never elects a leader (n2's frames reach n1). RAFT.ADDNODE
     * refuses such an address; so does the first configuration now.
     */
    @Test
    void twoPeersAtOneAddressAreRefused() {
        String same = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7001"));
        assertEquals("--peers: n1 and n2 are both at 127.0.0.1:7001; each member needs a Raft address of its own", same);
        String caseOnly = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n2=Host.example:7002,n3=host.EXAMPLE:7002"));
        assertTrue(caseOnly.startsWith("--peers: n2 and n3 are both at host.EXAMPLE:7002"), caseOnly);
        assertTrue(run(with("--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:7001")).startsWith("--peers: n1 and n2 are both at"));
        assertFalse(java.nio.file.Files.exists(dir.resolve("n1")), "the data directory was created");
    }

    /**
     * Found in a sweep: a cluster id the transport refuses (a control character, spaces around it,
     * over 256 characters) was reported as "--raft-address: cannot listen on 127.0.0.1:7001: clusterId: ...".
     */
    @Test
    void aBadClusterIdIsBlamedOnItsOption() {
        String padded = refusedBeforeStart(with("--cluster-id", "orders "));
        assertEquals("--cluster-id: 'orders ': a cluster id must not begin or end with whitespace", padded);
        String control = refusedBeforeStart(with("--cluster-id", "a\nb"));
        assertEquals("--cluster-id: 'a\\u000ab': a cluster id must not contain control characters", control);
        assertTrue(refusedBeforeStart(with("--cluster-id", "c".repeat(300))).startsWith("--cluster-id: '"));
    }

    /**
     * Found in a sweep: --forward-to n2=<this node's own client address> made the node forward every
     * write to itself and answer its clients "-TRYAGAIN leader n2 answered NOTLEADER ...";
     * --dial n2=<its own Raft address> sent n2's messages to itself.
     */
    @Test
    void anotherNodeAtThisNodesOwnAddressIsRefused() {
        String forward = refusedBeforeStart(with("--forward-to", "n2=127.0.0.1:6379"));
        assertEquals("--forward-to: n2 is given 127.0.0.1:6379, which is this node's own --client-address"
                + " (127.0.0.1:6379)", forward);
        String alias = refusedBeforeStart(with("--forward-to", "n2=localhost:6379"));
        assertTrue(alias.startsWith("--forward-to: n2 is given localhost:6379, which is this node's own"), alias);
        String dial = refusedBeforeStart(with("--dial", "n2=127.0.0.1:7001"));
        assertEquals("--dial: n2 is given 127.0.0.1:7001, which is this node's own --raft-address (127.0.0.1:7001)", dial);
    }

    /**
     * Found in a sweep: --peers n1=0.0.0.0:7001 made the wildcard n1's address in the membership,
     * which the other nodes dial: themselves.
     */
    @Test
    void aWildcardPeerAddressIsRefused() {
        String v4 = refusedBeforeStart(with("--peers", "n1=0.0.0.0:7001,n2=127.0.0.1:7002"));
        assertTrue(v4.startsWith("--peers: n1: 0.0.0.0:7001 is the wildcard address, where a node may listen but no"
                + " other node can reach it"), v4);
        String v6 = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n2=[::]:7002"));
        assertTrue(v6.startsWith("--peers: n2: [::]:7002 is the wildcard address"), v6);
        assertFalse(HostPort.parse("[::1]:7002").isWildcard());
        assertFalse(HostPort.parse("node-0.example:7002").isWildcard());
    }

    /**
     * The refusal of options that {@link NodeCommand#validate} finds before anything is bound or
     * written; fails (rather than starting a node that runs until stopped) if they pass.
     */
    /**
     * Found in a sweep: --client-address 0.0.0.0:6379 was announced as is, so clients were told
     * "-NOTLEADER 0.0.0.0:6379" and followers on other hosts forwarded to their own. A wildcard needs
     * --announce-client-address, which becomes what clients and the other nodes are given.
     */
    @Test
    void aWildcardClientAddressNeedsAnAddressToAnnounce() {
        String bare = refusedBeforeStart(with("--client-address", "0.0.0.0:6379"));
        assertTrue(bare.startsWith("--client-address: 0.0.0.0:6379 is the wildcard address, which clients and the"
                + " other nodes cannot be told to reach: give --announce-client-address HOST:PORT"), bare);
        KvNode.Settings announced = settings(with("--client-address", "0.0.0.0:6379",
                "--announce-client-address", "kv-1.example:6379"));
        assertEquals(new HostPort("0.0.0.0", 6379), announced.clientAddress(), "where it listens");
        assertEquals(new HostPort("kv-1.example", 6379), announced.clientAddressToAnnounce());
        assertEquals(new HostPort("127.0.0.1", 6379), settings(with()).clientAddressToAnnounce(), "by default");
        String wildcard = refusedBeforeStart(with("--announce-client-address", "[::]:6379"));
        assertTrue(wildcard.startsWith("--announce-client-address: [::]:6379 is the wildcard address"), wildcard);
        assertTrue(refusedBeforeStart(with("--announce-client-address", "nowhere")).startsWith(
                "--announce-client-address: "));
    }

    /** Found in a sweep: "+7002" (and other scripts' digits) passed as a port, and went into the membership as written. */
    @Test
    void aPortIsAsciiDigitsOnly() {
        String signed = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:+7002"));
        assertTrue(signed.contains("port '+7002' is not a number"), signed);
        String arabic = refusedBeforeStart(with("--peers", "n1=127.0.0.1:7001,n2=127.0.0.1:\u0667\u0660\u0660\u0662"));
        assertTrue(arabic.contains("is not a number"), arabic);
        assertEquals(7002, HostPort.parse("127.0.0.1:07002").port(), "leading zeros are digits");
    }

    private static String refusedBeforeStart(String... args) {
        NodeCommand command = new NodeCommand();
        Main.commandLine(command).parseArgs(args);
        return assertThrows(CommandLine.ParameterException.class, command::validate).getMessage();
    }

    @Test
    void aUsageErrorIsOneLineAndAHintNotTheWholeHelp() {
        String nl = System.lineSeparator();
        assertEquals("--tick-ms: 0 is outside 1..10000" + nl + "Run with --help for usage." + nl,
                run(with("--tick-ms", "0")));
        String missing = run("--id", "n1");
        assertTrue(missing.startsWith("Missing required options: "), missing);
        assertTrue(missing.endsWith(nl + "Run with --help for usage." + nl), missing);
        assertFalse(missing.contains("--max-pipeline"), "the help was printed too: " + missing);
        // A mistyped option still gets picocli's suggestion.
        String typo = run(with("--peer", "n1=127.0.0.1:7001"));
        assertTrue(typo.startsWith("Unknown options: '--peer'") && typo.contains("--peers"), typo);
        assertTrue(typo.endsWith("Run with --help for usage." + nl), typo);
    }

    @Test
    void settingsRefuseTimeoutsThatCouldOverflow() {
        KvNode.Settings ok = KvNode.Settings.defaults("n1", Map.of("n1", "127.0.0.1:7001"),
                HostPort.parse("127.0.0.1:6379"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ok.withRequestTimeout(Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("requestTimeoutMs"), e.getMessage());
    }

    @Test
    void aDataDirThatCannotBeCreatedIsNamed() throws Exception {
        Path file = java.nio.file.Files.writeString(dir.resolve("a-file"), "not a directory");
        String err = run(with("--data-dir", file.toString()));
        assertTrue(err.startsWith("--data-dir: " + file + " exists and is not a directory"), err);
        Path below = file.resolve("below");
        int raftPort = freePort();   // created once both ports are bound: they must be free
        String under = run(with("--data-dir", below.toString(), "--raft-address", "127.0.0.1:" + raftPort,
                "--client-address", "127.0.0.1:" + freePort(), "--peers", "n1=127.0.0.1:" + raftPort));
        assertTrue(under.startsWith("--data-dir: cannot create " + below + ": "), under);
        assertFalse(under.contains("Exception"), "a message, not a stack trace: " + under);
    }

    /**
     * Found by an operator: a --data-dir that is a symbolic link to a disk not mounted yet was refused
     * as "exists and is not a directory", which sent them looking for a file. Nothing is created
     * through the link (the data would go to the mount point's directory, hidden once it is mounted).
     */
    @Test
    void aDataDirThatLinksToNothingIsSaidToBeALink() throws Exception {
        Path target = dir.resolve("unmounted").resolve("data");
        Path link = java.nio.file.Files.createSymbolicLink(dir.resolve("n1"), target);
        int raftPort = freePort();
        String err = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort));
        assertTrue(err.startsWith("--data-dir: " + link + " is a symbolic link to " + target + ", which does not exist"
                + " (a disk not mounted?)"), err);
        assertTrue(java.nio.file.Files.isSymbolicLink(link));
        assertFalse(java.nio.file.Files.exists(dir.resolve("unmounted")), "created through the link");

        // The same below a link to nothing: the directory to create is under the disk not mounted.
        Path mount = java.nio.file.Files.createSymbolicLink(dir.resolve("mnt"), target);
        String below = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort, "--data-dir", mount.resolve("n1").toString()));
        assertTrue(below.startsWith("--data-dir: cannot create " + mount + ": a symbolic link to " + target
                + ", which does not exist (a disk not mounted?)"), below);
        assertFalse(java.nio.file.Files.exists(dir.resolve("unmounted")), "created through the link");
    }

    /**
     * Found by an operator: a node started a second time on its data directory (by hand, beside the
     * supervisor's) was refused with RocksDB's "IOError: While lock file: .../log/LOCK: Resource
     * temporarily unavailable", which did not say that the directory was in use.
     */
    @Test
    void aDataDirInUseIsSaidToBeInUse() throws Exception {
        Path data = dir.resolve("n1");
        try (RocksDbLogStore running = RocksDbLogStore.open(data)) {
            int raftPort = freePort();
            String err = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                    "--peers", "n1=127.0.0.1:" + raftPort));
            assertTrue(err.startsWith("--data-dir: " + data + " is in use: its log is open in another process (is this"
                    + " node already running?) or elsewhere in this one."), err);
            assertEquals(1, err.lines().count(), err);
        }
    }

    /** Found by an operator: an empty path put the log and snapshots in the working directory. */
    @Test
    void anEmptyDataDirIsRefused() {
        String err = run(with("--data-dir", ""));
        assertTrue(err.startsWith("--data-dir: must name a directory"), err);
    }

    /**
     * Found by an operator: a node whose log/ was deleted (its identity file left) bootstrapped as a
     * brand-new voter, forgetting its term, vote and entries.
     */
    @Test
    void aDataDirWhoseLogWasDeletedIsRefused() throws Exception {
        Path data = java.nio.file.Files.createDirectories(dir.resolve("n1"));
        DataDirIdentity.record(data, "raft-kv", "n1");
        int raftPort = freePort();
        String err = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort));
        assertTrue(err.startsWith("--data-dir: " + data + " holds raft-kv.identity (a node ran here) but no log in log/"), err);
        assertFalse(java.nio.file.Files.exists(data.resolve("log")), "a log was created");
    }

    @Test
    void aClientAddressInUseIsRefusedBeforeAnythingIsWritten() throws Exception {
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int raftPort;
            try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                raftPort = free.getLocalPort();
            }
            String err = run(with("--raft-address", "127.0.0.1:" + raftPort,
                    "--client-address", "127.0.0.1:" + busy.getLocalPort(),
                    "--peers", "n1=127.0.0.1:" + raftPort));
            assertTrue(err.startsWith("--client-address: cannot listen for clients on 127.0.0.1:" + busy.getLocalPort()), err);
            // No log was created, so the --peers of this failed start did not bootstrap anything; nor
            // was the data directory (an empty one was left behind).
            assertFalse(java.nio.file.Files.exists(dir.resolve("n1")), "the data directory was created");
        }
    }

    /**
     * Found running the operations runbook: a second node started on a Raft port in use was refused
     * with "--raft-address: cannot listen on 127.0.0.1:27101: cannot start raft transport of cluster
     * raft-kv on 127.0.0.1:27101: io.netty.channel.unix.Errors$NativeIoException: bind(..) failed:
     * Address already in use", a Netty class name where the line should end with what to do.
     */
    @Test
    void aPortInUseIsRefusedSayingWhatToDo() throws Exception {
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = busy.getLocalPort();
            String raft = run(with("--raft-address", "127.0.0.1:" + port, "--client-address", "127.0.0.1:" + freePort(),
                    "--peers", "n1=127.0.0.1:" + port));
            assertEquals("--raft-address: cannot listen on 127.0.0.1:" + port + ": " + PORT_IN_USE, raft.strip());
            int raftPort = freePort();
            String client = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + port,
                    "--peers", "n1=127.0.0.1:" + raftPort));
            assertEquals("--client-address: cannot listen for clients on 127.0.0.1:" + port + ": " + PORT_IN_USE,
                    client.strip());
            assertFalse(java.nio.file.Files.exists(dir.resolve("n1")), "the data directory was created");
        }
    }

    private static final String PORT_IN_USE = "Address already in use: another process listens there (is this node"
            + " already running?); stop it or choose another port. Nothing was changed";

    @Test
    void aDataDirOfAnotherNodeOrClusterIsRefused() throws Exception {
        Path data = java.nio.file.Files.createDirectories(dir.resolve("n1"));
        DataDirIdentity.record(data, "raft-kv", "n2");
        int raftPort = freePort();
        String err = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort));
        assertTrue(err.startsWith("--data-dir: " + data + " belongs to node n2 of cluster raft-kv, not to node n1"), err);
        assertFalse(java.nio.file.Files.exists(data.resolve("log")), "a log was created");

        Path other = java.nio.file.Files.createDirectories(dir.resolve("other"));
        DataDirIdentity.record(other, "raft-kv", "n1");
        String err2 = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort, "--data-dir", other.toString(), "--cluster-id", "orders"));
        assertTrue(err2.contains("belongs to node n1 of cluster raft-kv, not to node n1 of cluster orders"), err2);
    }

    /**
     * Found in a sweep: an emptied identity file was reported as "belongs to node null of cluster
     * null", one of binary bytes as a MalformedInputException.
     */
    @Test
    void aDamagedIdentityFileIsSaidToBeDamaged() throws Exception {
        Path data = java.nio.file.Files.createDirectories(dir.resolve("n1"));
        Path file = data.resolve(DataDirIdentity.FILE);
        java.nio.file.Files.writeString(file, "");
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> DataDirIdentity.check(data, "raft-kv", "n1"));
        assertTrue(empty.getMessage().startsWith("--data-dir: " + file + " is damaged (it names no cluster). If this"
                + " directory is node n1's of cluster raft-kv, write the two lines cluster-id=raft-kv and node-id=n1"),
                empty.getMessage());
        java.nio.file.Files.writeString(file, "cluster-id=raft-kv\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DataDirIdentity.check(data, "raft-kv", "n1"))
                .getMessage().contains(" is damaged (it names no node)"));
        java.nio.file.Files.write(file, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DataDirIdentity.check(data, "raft-kv", "n1"))
                .getMessage().contains(" is damaged (it is not text)"));
        java.nio.file.Files.writeString(file, "cluster-id=raft-kv\nnode-id=n1\n");
        DataDirIdentity.check(data, "raft-kv", "n1"); // whole again: passes
    }

    @Test
    void snapshotsWithoutALogAreRefused() throws Exception {
        Path data = java.nio.file.Files.createDirectories(dir.resolve("n1"));
        Path snapshots = java.nio.file.Files.createDirectories(data.resolve("snapshots"));
        java.nio.file.Files.writeString(snapshots.resolve("snapshot-00000000000000000100.meta"), "x");
        int raftPort = freePort();
        List<String> args = new ArrayList<>(List.of(with("--raft-address", "127.0.0.1:" + raftPort,
                "--client-address", "127.0.0.1:" + freePort(), "--peers", "n1=127.0.0.1:" + raftPort)));
        args.add("--join"); // how a node that joined is restarted
        String err = run(args.toArray(String[]::new));
        assertTrue(err.startsWith("--data-dir: " + data + " holds snapshots in snapshots/ but no log in log/"), err);
        assertFalse(java.nio.file.Files.exists(data.resolve("log")), "a log was created");
    }

    @Test
    void aLogCompactedPastItsOnlySnapshotWhichIsCorruptIsRefusedInOneLine() throws Exception {
        Path data = java.nio.file.Files.createDirectories(dir.resolve("n1"));
        try (RocksDbLogStore store = RocksDbLogStore.open(data); LogStorage log = store.forGroup("kv")) {
            List<LogEntry> entries = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {
                entries.add(LogEntry.command(i, 1, Bytes.ofUtf8("entry " + i)));
            }
            log.append(entries, new HardState(1, "n1"));
            log.compact(5, 1);
        }
        Path snapshots = java.nio.file.Files.createDirectories(data.resolve("snapshots"));
        java.nio.file.Files.writeString(snapshots.resolve("snapshot-00000000000000000005.meta"), "damaged");
        java.nio.file.Files.writeString(snapshots.resolve("snapshot-00000000000000000005.data"), "damaged");
        int raftPort = freePort();
        String err = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort));
        assertTrue(err.startsWith("--data-dir: cannot start from " + data + ": node n1: the log is compacted up to 5"
                + " but the latest usable snapshot ends at 0"), err);
        assertOneLineEndingWithWhatToDo(err);
    }

    @Test
    void aSnapshotDirectoryThatCannotBeOpenedIsRefusedInOneLine() throws Exception {
        Path data = java.nio.file.Files.createDirectories(dir.resolve("n1"));
        java.nio.file.Files.writeString(data.resolve("snapshots"), "a file where the snapshot directory goes");
        int raftPort = freePort();
        String err = run(with("--raft-address", "127.0.0.1:" + raftPort, "--client-address", "127.0.0.1:" + freePort(),
                "--peers", "n1=127.0.0.1:" + raftPort));
        assertTrue(err.startsWith("--data-dir: cannot open the snapshots in " + data.resolve("snapshots")), err);
        assertFalse(err.contains("Exception"), "a message, not a stack trace: " + err);
        assertEquals(1, err.lines().count(), err);
    }

    /** A start-up refusal is one line (no stack trace, no usage hint) that says what to do. */
    private static void assertOneLineEndingWithWhatToDo(String err) {
        assertEquals(1, err.lines().count(), err);
        assertFalse(err.contains("Exception"), "a message, not a stack trace: " + err);
        assertTrue(err.stripTrailing().endsWith("Nothing was changed"), err);
        assertTrue(err.contains("docs/operations.md"), err);
    }
}

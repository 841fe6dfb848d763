package io.raft4j.examples.kv;

import io.raft4j.NodeStatus;
import io.raft4j.core.Role;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.HardState;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.raft4j.examples.kv.InMemoryKvCluster.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node's data directory decides how it starts (real RocksDB log and Netty transport on
 * 127.0.0.1): with state it restarts from it whatever --join and --peers say; without, it
 * bootstraps from --peers or, with --join, waits to be added.
 */
class KvNodeStartTest {
    @TempDir
    Path dir;

    private final int raftPort;
    private final int clientPort;
    private final int otherPort;

    KvNodeStartTest() throws Exception {
        raftPort = freePort();
        clientPort = freePort();
        otherPort = freePort();
    }

    private String[] args(String peers, String... extra) {
        List<String> args = new ArrayList<>(List.of("--id", "n1", "--raft-address", "127.0.0.1:" + raftPort,
                "--client-address", "127.0.0.1:" + clientPort, "--peers", peers,
                "--data-dir", dir.resolve("n1").toString(), "--tick-ms", "10"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void aNodeWithStateRestartsFromItWhateverJoinAndPeersSay() throws Exception {
        try (InProcessNode first = new InProcessNode(args("n1=127.0.0.1:" + raftPort))) {
            assertEquals(StartMode.BOOTSTRAP, first.awaitStarted());
            awaitLeader(); // the bootstrap configuration is in the log
        }
        // How a node that joined is restarted: --join, and --peers naming the others only.
        try (InProcessNode again = new InProcessNode(args("n2=127.0.0.1:" + otherPort, "--join"))) {
            assertEquals(StartMode.RESTART, again.awaitStarted());
            awaitLeader(); // a voter of its stored configuration, not a node waiting to be added
        }
        // Without --join, and still without itself in --peers.
        try (InProcessNode again = new InProcessNode(args("n2=127.0.0.1:" + otherPort))) {
            assertEquals(StartMode.RESTART, again.awaitStarted());
            awaitLeader();
        }
    }

    @Test
    void aNodeRemovedFromTheClusterExitsWithStatusZero() throws Exception {
        int otherClientPort = freePort();
        try (InProcessNode first = new InProcessNode(args("n1=127.0.0.1:" + raftPort));
             InProcessNode second = new InProcessNode("--id", "n2", "--raft-address", "127.0.0.1:" + otherPort,
                     "--client-address", "127.0.0.1:" + otherClientPort, "--peers", "n1=127.0.0.1:" + raftPort,
                     "--join", "--data-dir", dir.resolve("n2").toString(), "--tick-ms", "10")) {
            assertEquals(StartMode.BOOTSTRAP, first.awaitStarted());
            assertEquals(StartMode.JOIN, second.awaitStarted());
            awaitLeader();
            try (RespSocket leader = new RespSocket(clientPort, 60_000)) {
                assertEquals("OK", RespSocket.text(leader.call("RAFT.ADDNODE", "n2", "127.0.0.1:" + otherPort)));
                assertEquals("OK", RespSocket.text(leader.call("RAFT.REMOVENODE", "n2")));
            }
            assertEquals(0, second.awaitExit(), "a removed node exits, with status 0");
            awaitLeader(); // n1 goes on alone
        }
    }

    @Test
    void aNewNodeWithJoinWaitsToBeAdded() throws Exception {
        try (InProcessNode node = new InProcessNode(args("n2=127.0.0.1:" + otherPort, "--join"))) {
            assertEquals(StartMode.JOIN, node.awaitStarted());
        }
        // It was never added, so it still has no state: started again it still waits.
        try (InProcessNode node = new InProcessNode(args("n2=127.0.0.1:" + otherPort, "--join"))) {
            assertEquals(StartMode.JOIN, node.awaitStarted());
        }
    }

    @Test
    void anEmptyLogIsNoStateSoBootstrappingStillNeedsThisNodeInPeers() {
        RocksDbLogStore.open(dir.resolve("n1")).close(); // e.g. left by a start that failed later
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new NodeCommand());
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute(args("n2=127.0.0.1:" + otherPort)), "stderr: " + err);
        assertTrue(err.toString().startsWith("--peers: must include this node (n1=127.0.0.1:" + raftPort
                + ") to bootstrap a cluster"), err.toString());
    }

    @Test
    void aLogOfAnotherNodeIsRefusedAndTheDirectoryLeftAsItWas() throws Exception {
        Path data = dir.resolve("n1");
        try (RocksDbLogStore store = RocksDbLogStore.open(data); LogStorage log = store.forGroup("kv")) {
            log.recordOwner(new LogOwner("kv", "n2")); // n2's log, without the identity file
            log.append(List.of(), new HardState(3, "n2"));
        }
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new NodeCommand());
        cl.setErr(new PrintWriter(err));

        assertEquals(2, cl.execute(args("n1=127.0.0.1:" + raftPort)), "stderr: " + err);

        assertTrue(err.toString().startsWith("--data-dir: " + data + " holds the log of node n2 of group kv, not of node n1"),
                err.toString());
        assertFalse(Files.exists(data.resolve(DataDirIdentity.FILE)), "no identity recorded for the refused n1");
        try (RocksDbLogStore store = RocksDbLogStore.open(data); LogStorage log = store.forGroup("kv")) {
            assertEquals(Optional.of(new LogOwner("kv", "n2")), log.owner());
        }
    }

    /**
     * A one-node cluster has no other voter to hand leadership to: its stop used to log "could not
     * hand leadership over: ... no other voter has answered lately" at INFO all the same, as if
     * something had gone wrong. A node with other voters still says when a handover fails.
     */
    @Test
    void aLoneVoterHasNoOneToHandLeadershipOverTo() {
        ClusterConfig alone = ClusterConfig.ofVoters(Map.of("n1", "127.0.0.1:1"));
        assertFalse(KvNode.hasOtherVoter(alone, "n1"), "a lone voter has no one to hand over to");
        assertTrue(KvNode.hasOtherVoter(ClusterConfig.ofVoters(Map.of("n1", "a:1", "n2", "b:2")), "n1"));
        ClusterConfig leaving = new ClusterConfig(Set.of("n1"), Set.of(), Set.of("n1", "n2"), Map.of());
        assertTrue(KvNode.hasOtherVoter(leaving, "n1"), "n2 still votes in the outgoing half of a joint one");
    }

    /**
     * A SIGTERM while the node starts closes what the start had opened: the shutdown hook used to
     * be registered only once the node ran, so the JVM exited with the log and the Raft port still
     * open (RocksDB unflushed, its lock file left behind). Here the stop comes with the log open and
     * the node not yet built; before, the start went on as if nothing happened.
     */
    @Test
    void aStopDuringTheStartClosesWhatTheStartHadOpenedAndBuildsNothingMore() throws Exception {
        NodeCommand command = new NodeCommand();
        command.afterLogOpened = command::stop; // as a SIGTERM at that moment: the hook runs on another thread
        CommandLine cl = Main.commandLine(command);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        java.util.concurrent.CompletableFuture<Integer> exit = new java.util.concurrent.CompletableFuture<>();
        Thread runner = new Thread(() -> exit.complete(cl.execute(args("n1=127.0.0.1:" + raftPort))), "raft-kv-command");
        runner.setDaemon(true);
        runner.start();
        try {
            assertEquals(0, exit.get(30, java.util.concurrent.TimeUnit.SECONDS), "stderr: " + err);
            assertFalse(command.started.isDone(), "the node was not started");
            try (RocksDbLogStore store = RocksDbLogStore.open(dir.resolve("n1"))) {
                assertEquals(0, store.forGroup("kv").lastIndex(), "the log was closed, and nothing written to it");
            }
            new java.net.ServerSocket(raftPort, 1, java.net.InetAddress.getLoopbackAddress()).close(); // the transport stopped
            new java.net.ServerSocket(clientPort, 1, java.net.InetAddress.getLoopbackAddress()).close(); // never served
        } finally {
            command.stop();
        }
    }

    /**
     * The client port was checked free (bound and let go) before the log was opened, and bound for
     * good only once Raft ran, after it had written the bootstrap membership: another process that
     * took the port in between made the start fail with "Nothing was changed" over a log that held
     * the --peers of that failed start for good. Here the port is taken right after the log opens.
     */
    @Test
    void aClientPortTakenAfterTheCheckFailsTheStartBeforeAnythingIsWritten() throws Exception {
        NodeCommand command = new NodeCommand();
        java.util.concurrent.atomic.AtomicReference<java.net.ServerSocket> thief = new java.util.concurrent.atomic.AtomicReference<>();
        command.afterLogOpened = () -> {
            try {
                thief.set(new java.net.ServerSocket(clientPort, 1, java.net.InetAddress.getLoopbackAddress()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        CommandLine cl = Main.commandLine(command);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        try {
            assertEquals(2, cl.execute(args("n1=127.0.0.1:" + raftPort)), "stderr: " + err);
            assertTrue(err.toString().startsWith("--client-address: cannot listen for clients on 127.0.0.1:" + clientPort),
                    err.toString());
            try (RocksDbLogStore store = RocksDbLogStore.open(dir.resolve("n1"))) {
                assertEquals(0, store.forGroup("kv").lastIndex(), "the membership of the failed start was written");
            }
        } finally {
            if (thief.get() != null) {
                thief.get().close();
            }
        }
    }

    /**
     * Found by an operator: a node restarted at another --raft-address (its --peers saying the same)
     * listened where no member dials it (they dial the address the stored membership gives it), and
     * nothing said so until "no leader for 10 election timeouts"; while a restart whose --peers
     * alone gave it another address was warned that the "other nodes dial the --peers one", which a
     * restart does not use.
     */
    @Test
    void aRestartWarnsOfTheAddressTheStoredMembershipGivesThisNodeNotOfItsPeers() throws Exception {
        try (InProcessNode first = new InProcessNode(args("n1=127.0.0.1:" + raftPort))) {
            assertEquals(StartMode.BOOTSTRAP, first.awaitStarted());
            awaitLeader();
        }
        String otherPeers = logOf(args("n1=127.0.0.1:" + otherPort));
        assertFalse(otherPeers.contains("--raft-address is"), "--peers is not what the other nodes dial: " + otherPeers);

        int moved = freePort();
        List<String> movedArgs = new ArrayList<>(List.of(args("n1=127.0.0.1:" + moved)));
        movedArgs.set(movedArgs.indexOf("--raft-address") + 1, "127.0.0.1:" + moved);
        String atMoved = logOf(movedArgs.toArray(String[]::new));
        assertTrue(atMoved.contains("the membership stored in its data directory gives n1 the address 127.0.0.1:"
                + raftPort + ", where the other members dial it, but --raft-address is 127.0.0.1:" + moved), atMoved);

        // A bootstrap is still told of its --peers, which become the membership.
        NodeCommand bootstrap = new NodeCommand();
        Main.commandLine(bootstrap).parseArgs(args("n1=127.0.0.1:" + otherPort));
        assertEquals(Optional.of("--peers gives n1 the address 127.0.0.1:" + otherPort + " but --raft-address is 127.0.0.1:"
                + raftPort + ": other nodes dial the --peers one"), bootstrap.ownAddressMismatch(StartMode.BOOTSTRAP,
                ClusterConfig.ofVoters(Map.of("n1", "127.0.0.1:" + otherPort)), HostPort.parse("127.0.0.1:" + raftPort)));
        // Where it is reached all the same: the wildcard on that port, or another name of that address.
        for (String listening : new String[] {"0.0.0.0:" + otherPort, "localhost:" + otherPort}) {
            assertEquals(Optional.empty(), bootstrap.ownAddressMismatch(StartMode.RESTART,
                    ClusterConfig.ofVoters(Map.of("n1", "127.0.0.1:" + otherPort)), HostPort.parse(listening)), listening);
        }
    }

    /** What a node started on these arguments logs (slf4j-simple writes to System.err) until it runs. */
    private static String logOf(String... args) throws Exception {
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try (InProcessNode node = new InProcessNode(args)) {
            assertEquals(StartMode.RESTART, node.awaitStarted());
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void theStartLineSaysWhatTheNodeDoes() {
        ClusterConfig three = ClusterConfig.ofVoters(Map.of(
                "n1", "127.0.0.1:7001", "n2", "127.0.0.1:7002", "n3", "127.0.0.1:7003"));
        HostPort n4 = HostPort.parse("127.0.0.1:7004");
        NodeStatus member = new NodeStatus("n1", Role.FOLLOWER, 7, null, 0, 0, 120, three);
        NodeStatus outsider = new NodeStatus("n4", Role.FOLLOWER, 7, null, 0, 0, 120, three);
        assertEquals("restarting from its data directory (term 7, log up to 120); the membership is the stored one,"
                + " --peers and --join do not change it: members [n1, n2, n3]",
                StartMode.RESTART.describe(member, HostPort.parse("127.0.0.1:7001")));
        assertTrue(StartMode.RESTART.describe(outsider, n4).endsWith(
                "not a member of [n1, n2, n3] yet, waiting to be added: RAFT.ADDNODE n4 127.0.0.1:7004 on the leader"));
        assertEquals("bootstrapping a new cluster with voters [n1, n2, n3] (--peers)",
                StartMode.BOOTSTRAP.describe(member, HostPort.parse("127.0.0.1:7001")));
        assertEquals("new node, waiting to be added: RAFT.ADDNODE n4 127.0.0.1:7004 on the leader",
                StartMode.JOIN.describe(new NodeStatus("n4", Role.FOLLOWER, 0, null, 0, 0, 0,
                        ClusterConfig.EMPTY), n4));
    }

    /** Waits until the node, alone in its configuration, leads (and so serves a write). */
    private void awaitLeader() {
        InMemoryKvCluster.awaitWriteServed("n1 to lead", clientPort);
    }
}

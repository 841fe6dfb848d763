package io.raft4j.examples.kv;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.raft4j.examples.kv.resp.ClientInputBudget;
import io.raft4j.examples.kv.resp.EventLoops;
import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespClient;
import io.raft4j.examples.kv.resp.RespLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.raft4j.examples.kv.RespSocket.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RESP front of in-memory clusters, through plain sockets. */
@Timeout(120)
class KvServerTest {
    private InMemoryKvCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void commandsWorkOnLeaderAndFollowers() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        KvNode follower = cluster.aFollower(leader);
        try (RespSocket l = new RespSocket(cluster.port(leader), 10_000);
             RespSocket f = new RespSocket(cluster.port(follower), 10_000)) {
            assertEquals("PONG", text(l.call("PING")));
            assertEquals("hi", text(f.call("PING", "hi")));
            assertEquals("hey", text(f.call("ECHO", "hey")));
            assertEquals("OK", text(f.call("SET", "k", "v1")));
            assertEquals("v1", text(l.call("GET", "k")), "a write through a follower is visible on the leader");
            assertEquals("OK", text(l.call("SET", "k", "v2")));
            assertEquals("v2", text(f.call("GET", "k")), "a linearizable read on a follower sees the leader's write");
            assertEquals(Reply.NIL, f.call("GET", "missing"));
            assertEquals(Reply.NIL, f.call("SET", "k", "x", "NX"));
            assertEquals("OK", text(f.call("SET", "k2", "x", "NX")));
            assertEquals(Reply.NIL, f.call("SET", "k3", "x", "XX"));
            assertEquals(Reply.NIL, f.call("SET", "k", "v3", "IFEQ", "nope"));
            assertEquals("OK", text(f.call("SET", "k", "v3", "IFEQ", "v2")));
            assertEquals("v3", text(l.call("SET", "k", "v4", "GET")));
            assertEquals("1", text(f.call("INCR", "n")));
            assertEquals("11", text(f.call("INCRBY", "n", "10")));
            assertEquals("10", text(f.call("DECR", "n")));
            assertEquals("-ERR value is not an integer or out of range", text(f.call("INCR", "k")));
            assertEquals("-ERR value is not an integer or out of range", text(f.call("INCRBY", "n", "x")));
            assertEquals("OK", text(f.call("MSET", "a", "1", "b", "2")));
            assertEquals(Reply.array(List.of(Reply.bulk("1"), Reply.NIL, Reply.bulk("2"))), f.call("MGET", "a", "zz", "b"));
            assertEquals("2", text(f.call("EXISTS", "a", "b", "zz")));
            assertEquals("2", text(f.call("DEL", "a", "b", "zz")));
            assertEquals("3", text(f.call("DBSIZE")), "k, k2, n");
            assertEquals("OK", text(f.call("SELECT", "0")));
            assertEquals("-ERR DB index is out of range", text(f.call("SELECT", "1")));
            assertEquals("OK", text(f.call("CLIENT", "SETNAME", "tester")));
            assertEquals("tester", text(f.call("CLIENT", "GETNAME")));
            assertEquals("-ERR Client names cannot contain spaces, newlines or special characters.",
                    text(f.call("CLIENT", "SETNAME", "a\rb")), "control characters went into CLIENT INFO's line");
            assertEquals("-ERR Client names cannot contain spaces, newlines or special characters.",
                    text(f.call("CLIENT", "SETNAME", "caf\u00e9")), "printable ASCII only, as Redis");
            assertEquals("tester", text(f.call("CLIENT", "GETNAME")), "the refused names changed nothing");
            assertEquals(Reply.EMPTY_ARRAY, f.call("COMMAND", "DOCS"));
            assertEquals(Reply.EMPTY_ARRAY, f.call("CONFIG", "GET", "lua-time-limit"), "unknown parameters: nothing");
            assertEquals(Reply.array(List.of(Reply.bulk("maxmemory"), Reply.bulk("0"))), f.call("CONFIG", "GET", "maxmemory"));
            assertEquals(Reply.array(List.of(Reply.bulk("appendonly"), Reply.bulk("no"))), f.call("CONFIG", "GET", "appendonly"));
            assertEquals("-NOPROTO sorry, this protocol version is not supported", text(f.call("HELLO", "3")));
            assertInstanceOf(Reply.Array.class, f.call("HELLO", "2"));
            String info = text(f.call("INFO", "raft"));
            assertTrue(info.contains("# Raft\r\n"), info);
            assertTrue(info.contains("role:follower"), info);
            assertTrue(info.contains("leader:" + leader.nodeId()), info);
            assertTrue(info.contains("leader_client_address:127.0.0.1:" + cluster.port(leader)), info);
            assertTrue(info.contains("commit_index:"), info);
            assertTrue(info.contains("applied_index:"), info);
            assertTrue(info.contains("members:n1="), info);
            String leaderInfo = text(l.call("RAFT.INFO"));
            assertTrue(leaderInfo.contains("role:leader"), leaderInfo);
            java.util.regex.Matcher fingerprint = java.util.regex.Pattern.compile("\r\nbootstrap_fingerprint:([0-9a-f]+)\r\n")
                    .matcher(leaderInfo);
            assertTrue(fingerprint.find(), "the bootstrap's fingerprint: " + leaderInfo);
            assertTrue(info.contains("\r\nbootstrap_fingerprint:" + fingerprint.group(1) + "\r\n"), "the same on a follower: " + info);
            assertTrue(leaderInfo.matches("(?s).*\r\nterms_led:[1-9][0-9]*\r\n.*"), leaderInfo);
            assertTrue(leaderInfo.matches("(?s).*\r\nproposals_accepted:[1-9][0-9]*\r\n.*"), leaderInfo);
            assertTrue(leaderInfo.matches("(?s).*\r\nlog_writes:[1-9][0-9]*\r\n.*"), leaderInfo);
            assertTrue(info.contains("proposals_accepted:0\r\n"), "followers accept none: " + info);
            Reply members = f.call("RAFT.MEMBERS");
            assertEquals(3, ((Reply.Array) members).items().size());
            List<Reply> followers = ((Reply.Array) l.call("RAFT.FOLLOWERS")).items();
            assertEquals(2, followers.size(), "the leader reports both followers");
            for (Reply row : followers) {
                List<Reply> fields = ((Reply.Array) row).items();
                assertEquals(6, fields.size(), row.toString());
                assertNotEquals(leader.nodeId(), text(fields.get(0)));
                assertEquals("voter", text(fields.get(1)));
            }
            assertEquals(Reply.EMPTY_ARRAY, f.call("RAFT.FOLLOWERS"), "a follower reports none");
        }
    }

    /**
     * With --maxmemory, writes that may add data are refused with Redis's -OOM once the key space
     * holds more than that, on the leader and on a follower alike; reads and DEL go on, and once DEL
     * made room, writes are accepted again. Before, nothing bounded the key space but the heap.
     */
    @Test
    void writesAreRefusedOverMaxmemoryAndDelMakesRoom() throws IOException {
        long maxMemory = 4_000;
        cluster = new InMemoryKvCluster(3, settings -> settings.withMaxMemory(maxMemory));
        KvNode leader = cluster.awaitLeader();
        KvNode follower = cluster.aFollower(leader);
        String oom = "-" + CommandProcessor.OOM;
        try (RespSocket s = new RespSocket(cluster.port(leader), 10_000);
             RespSocket f = new RespSocket(cluster.port(follower), 10_000)) {
            String value = "v".repeat(400);
            int stored = 0;
            while (text(s.call("SET", "k" + stored, value)).equals("OK")) {
                stored++;
                assertTrue(stored < 100, "never refused");
            }
            assertEquals(oom, text(s.call("SET", "k" + stored, value)));
            // What was stored is about maxmemory, not far beyond it: each SET is checked before it runs.
            long perKey = 2 + value.length() + KvStateMachine.PER_KEY_OVERHEAD;
            assertEquals(maxMemory / perKey + 1, stored);
            // The follower's estimate is the leader's once it applied the same commands.
            InMemoryKvCluster.await("the follower applying the leader's writes", 10_000,
                    () -> follower.stateMachine().usedMemory() == leader.stateMachine().usedMemory());
            assertEquals(oom, text(f.call("SET", "new", "x")));
            assertEquals(oom, text(s.call("MSET", "a", "1", "b", "2")));
            assertEquals(oom, text(s.call("INCR", "counter")));
            assertEquals(value, text(s.call("GET", "k0")), "reads go on");
            assertTrue(text(s.call("INFO", "memory")).contains("maxmemory:" + maxMemory));
            Reply.Array config = (Reply.Array) s.call("CONFIG", "GET", "maxmemory");
            assertEquals(List.of("maxmemory", "4000"), config.items().stream().map(RespSocket::text).toList());

            assertEquals("3", text(s.call("DEL", "k0", "k1", "k2")));
            assertEquals("OK", text(s.call("SET", "k0", "small")));
            // A follower checks against its own estimate, which follows the leader's once it applied
            // the DEL (without this wait the follower's check raced its apply: 1 fresh-clone run in ~20).
            InMemoryKvCluster.await("the follower applying the DEL", 10_000,
                    () -> follower.stateMachine().usedMemory() == leader.stateMachine().usedMemory());
            assertEquals("1", text(f.call("INCR", "counter")));
        }
    }

    @Test
    void helloTakesRedisOptionsSetnameNamesTheConnectionAndUnknownOnesAreRefused() throws IOException {
        cluster = new InMemoryKvCluster(1);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket s = new RespSocket(cluster.port(leader), 10_000)) {
            assertInstanceOf(Reply.Array.class, s.call("HELLO", "2", "SETNAME", "app1"));
            assertEquals("app1", text(s.call("CLIENT", "GETNAME")), "as in Redis, HELLO's SETNAME names the connection");
            assertInstanceOf(Reply.Array.class, s.call("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "app2"));
            assertEquals("app2", text(s.call("CLIENT", "GETNAME")));
            assertEquals("-ERR Syntax error in HELLO option 'SETNAM'", text(s.call("HELLO", "2", "SETNAM", "x")));
            assertEquals("-ERR Syntax error in HELLO option 'SETNAME'", text(s.call("HELLO", "2", "SETNAME")));
            assertEquals("-ERR Client names cannot contain spaces, newlines or special characters.",
                    text(s.call("HELLO", "2", "SETNAME", "a b")));
            assertEquals("app2", text(s.call("CLIENT", "GETNAME")), "a refused HELLO changes nothing");
        }
    }

    @Test
    void redisStandardErrors() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket s = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000)) {
            assertEquals("-ERR unknown command 'foo', with args beginning with: 'a' 'b c' ", text(s.call("foo", "a", "b c")));
            assertEquals("-ERR unknown command 'nope', with args beginning with: ", text(s.call("nope")));
            assertEquals("-ERR wrong number of arguments for 'get' command", text(s.call("GET")));
            assertEquals("-ERR wrong number of arguments for 'get' command", text(s.call("get", "a", "b")));
            assertEquals("-ERR wrong number of arguments for 'mset' command", text(s.call("MSET", "a", "1", "b")));
            assertEquals("-ERR wrong number of arguments for 'ping' command", text(s.call("PING", "a", "b")));
            assertEquals("-ERR syntax error", text(s.call("SET", "k", "v", "NX", "XX")));
            assertEquals("-ERR syntax error", text(s.call("SET", "k", "v", "XX", "IFEQ", "v")));
            // As Redis: an option repeated is taken; only NX and XX together are a syntax error.
            assertEquals("OK", text(s.call("SET", "k", "v", "NX", "NX")));
            assertEquals(Reply.NIL, s.call("SET", "k", "w", "nx", "NX"), "NX twice is still NX");
            assertEquals("OK", text(s.call("SET", "k", "x", "XX", "XX")));
            assertEquals("x", text(s.call("GET", "k")));
            assertEquals("-ERR syntax error", text(s.call("SET", "k", "v", "IFEQ")));
            assertTrue(text(s.call("SET", "k", "v", "EX", "10")).startsWith("-ERR SET EX is not supported"));
            // Subcommands are held to their argument counts as in Redis: CLIENT ID x answered an id.
            assertEquals("-ERR wrong number of arguments for 'client|id' command", text(s.call("CLIENT", "ID", "x")));
            assertEquals("-ERR wrong number of arguments for 'client|getname' command",
                    text(s.call("CLIENT", "GETNAME", "x")));
            assertEquals("-ERR wrong number of arguments for 'client|info' command", text(s.call("CLIENT", "INFO", "x")));
            assertEquals("-ERR wrong number of arguments for 'client|setinfo' command",
                    text(s.call("CLIENT", "SETINFO", "LIB-NAME")));
            assertEquals("OK", text(s.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py")));
            assertEquals("-ERR wrong number of arguments for 'command|count' command", text(s.call("COMMAND", "COUNT", "x")));
            assertEquals("-ERR wrong number of arguments for 'config|resetstat' command",
                    text(s.call("CONFIG", "RESETSTAT", "x")));
            assertEquals("PONG", text(s.call("PING")), "the connection survives errors");
        }
    }

    @Test
    void aRespClientOnEitherEventLoopPipelinesCommandsAndGetsEachItsOwnReply() throws Exception {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        // The front runs on epoll where it loads; a client on NIO must talk to it as well as one on
        // the same transport. Commands sent without waiting leave together (consolidated flushes),
        // and each reply must complete its own command's future: an INCR answered with a SET's +OK,
        // or out of order, fails here.
        for (EventLoopGroup group : List.of(new NioEventLoopGroup(1, new DefaultThreadFactory("test-nio", true)),
                EventLoops.newGroup(1, new DefaultThreadFactory("test-default", true)))) {
            try (RespClient client = RespClient.connect(group, "127.0.0.1", cluster.port(leader))) {
                List<CompletableFuture<Reply>> sets = new ArrayList<>();
                List<CompletableFuture<Reply>> incrs = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    sets.add(client.send("SET", "pipelined:" + i, "v" + i));
                    incrs.add(client.send("INCR", "pipelined:count"));
                }
                long previous = assertInstanceOf(Reply.Int.class, incrs.get(0).get(10, TimeUnit.SECONDS)).value();
                for (int i = 0; i < 100; i++) {
                    assertEquals("OK", text(sets.get(i).get(10, TimeUnit.SECONDS)));
                    if (i > 0) {
                        long n = assertInstanceOf(Reply.Int.class, incrs.get(i).get(10, TimeUnit.SECONDS)).value();
                        assertEquals(previous + 1, n, "INCR replies in order, each to its own command");
                        previous = n;
                    }
                }
                assertEquals("v99", text(client.send("GET", "pipelined:99").get(10, TimeUnit.SECONDS)));
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    @Test
    void pipelinedCommandsAnswerInOrderAndReadTheirWrites() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        for (KvNode node : List.of(leader, cluster.aFollower(leader))) {
            try (RespSocket s = new RespSocket(cluster.port(node), 20_000)) {
                StringBuilder batch = new StringBuilder();
                int n = 200;
                for (int i = 0; i < n; i++) {
                    batch.append(command("SET", "p", Integer.toString(i))).append(command("GET", "p"))
                            .append(command("PING")).append(command("INCR", "c"));
                }
                s.sendRaw(batch.toString().getBytes(StandardCharsets.UTF_8));
                long before = -1;
                for (int i = 0; i < n; i++) {
                    assertEquals("OK", text(s.read()));
                    assertEquals(Integer.toString(i), text(s.read()), "GET after SET in one pipeline");
                    assertEquals("PONG", text(s.read()));
                    long c = ((Reply.Int) s.read()).value();
                    assertTrue(c > before, "INCR replies in order");
                    before = c;
                }
            }
        }
    }

    /**
     * A node listening at the wildcard (a container's 0.0.0.0) announced that address: clients were
     * redirected to "0.0.0.0:port" and followers forwarded to their own host. The announced address is
     * what clients and the other nodes are given, and followers forward to it.
     */
    @Test
    void theAnnouncedClientAddressIsTheOneClientsAndFollowersAreGiven() throws IOException {
        cluster = new InMemoryKvCluster(3,
                s -> s.withAnnouncedClientAddress(new HostPort("localhost", s.clientAddress().port())));
        KvNode leader = cluster.awaitLeader();
        try (RespSocket f = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000)) {
            assertEquals("OK", text(f.call("SET", "k", "forwarded")), "forwarded to the announced address");
            assertEquals("OK", text(f.call("RAFT.REDIRECT", "ON")));
            assertEquals("-NOTLEADER localhost:" + cluster.port(leader), text(f.call("SET", "k", "v")));
        }
        assertThrows(IllegalArgumentException.class, () -> KvNode.Settings.defaults("n1", Map.of(),
                new HostPort("0.0.0.0", 6379)).withAnnouncedClientAddress(new HostPort("0.0.0.0", 6379)));
    }

    @Test
    void redirectModeNamesTheLeader() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket f = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000);
             RespSocket l = new RespSocket(cluster.port(leader), 10_000)) {
            assertEquals("OK", text(f.call("RAFT.REDIRECT", "ON")));
            assertEquals("-NOTLEADER 127.0.0.1:" + cluster.port(leader), text(f.call("SET", "k", "v")));
            assertEquals("-NOTLEADER 127.0.0.1:" + cluster.port(leader), text(f.call("GET", "k")));
            assertEquals("PONG", text(f.call("PING")), "local commands are still answered");
            assertEquals("OK", text(l.call("RAFT.REDIRECT", "ON")));
            assertEquals("OK", text(l.call("SET", "k", "v")), "the leader serves as usual");
            assertEquals("OK", text(f.call("RAFT.REDIRECT", "OFF")));
            assertEquals("v", text(f.call("GET", "k")));
            // Stale reads are served locally, once the follower has applied the write.
            assertEquals("OK", text(f.call("RAFT.READMODE", "stale")));
            InMemoryKvCluster.await("the follower to apply", 5000, () -> {
                try {
                    return "v".equals(text(f.call("GET", "k")));
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    @Test
    void followersForwardToTheForwardToAddressesAndStillNameTheRegisteredOnes() throws IOException {
        // Every node is told to forward to every other at an address where nothing listens: a
        // follower then cannot forward, though the leader's registered address would serve.
        int nowhere = InMemoryKvCluster.freePort();
        Map<String, String> forwardTo = Map.of("n1", "127.0.0.1:" + nowhere, "n2", "127.0.0.1:" + nowhere,
                "n3", "127.0.0.1:" + nowhere);
        cluster = new InMemoryKvCluster(3, s -> s.withForwardTo(forwardTo).withRequestTimeout(1000));
        KvNode leader = cluster.awaitLeader();
        try (RespSocket f = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000);
             RespSocket l = new RespSocket(cluster.port(leader), 10_000)) {
            assertEquals("OK", text(l.call("SET", "k", "v")));

            String forwarded = text(f.call("SET", "k", "w"));

            // -TRYAGAIN, or -TIMEOUT when the deadline finds a retry on its way (counted as sent
            // until its connection fails): either way, the write never reached the leader.
            assertTrue(forwarded.startsWith("-TRYAGAIN cannot reach leader " + leader.nodeId())
                    || forwarded.startsWith("-TIMEOUT "), forwarded);
            assertEquals("v", text(l.call("GET", "k")), "nothing was done");
            assertEquals("OK", text(f.call("RAFT.REDIRECT", "ON")));
            assertEquals("-NOTLEADER 127.0.0.1:" + cluster.port(leader), text(f.call("SET", "k", "w")),
                    "clients are told the registered address");
        }
    }

    @Test
    void leaseReadsOnTheLeaderSeeAcknowledgedWritesAndBadModesAreRefused() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket l = new RespSocket(cluster.port(leader), 10_000)) {
            assertEquals("OK", text(l.call("RAFT.READMODE", "lease")));
            for (int i = 0; i < 20; i++) {
                assertEquals("OK", text(l.call("SET", "k", "v" + i)));
                assertEquals("v" + i, text(l.call("GET", "k")), "a lease read sees the write acknowledged before it");
            }
            assertTrue(text(l.call("RAFT.READMODE", "sometimes")).contains("ERR RAFT.READMODE takes"));
        }
    }

    @Test
    void badInputClosesOnlyThatConnection() throws IOException {
        cluster = new InMemoryKvCluster(3, 3000, 1000, new RespLimits(1 << 20, 1024, 4096, 4 << 20));
        KvNode leader = cluster.awaitLeader();
        int port = cluster.port(leader);
        try (RespSocket good = new RespSocket(port, 10_000)) {
            assertEquals("OK", text(good.call("SET", "k", "v")));
            String[][] attacks = {
                    {"*2\r\n$3\r\nGET\r\n$99999999999\r\n", "-ERR Protocol error: invalid bulk length"},
                    {"*2\r\n$3\r\nGET\r\n$2000000\r\n", "-ERR Protocol error: invalid bulk length"},
                    {"*999999999\r\n", "-ERR Protocol error: invalid multibulk length"},
                    {"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'"},
                    {"*1\r\n$4\r\nPINGxx", "-ERR Protocol error: expected CRLF after bulk string"},
                    {"GET \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request"},
                    {"x".repeat(5000), "-ERR Protocol error: too big inline request"},
            };
            for (String[] attack : attacks) {
                try (RespSocket bad = new RespSocket(port, 10_000)) {
                    // A valid command first: its reply still comes, in order, before the error. Nothing sent
                    // after the bad frame runs, however valid it looks (as Redis, no resynchronising).
                    bad.sendRaw((command("PING") + attack[0] + "\r\n" + command("SET", "k", "after-the-error"))
                            .getBytes(StandardCharsets.ISO_8859_1));
                    assertEquals("PONG", text(bad.read()));
                    assertEquals(attack[1], text(bad.read()), attack[0]);
                    assertTrue(bad.closedByServer(), "connection closed after " + attack[1]);
                }
                assertEquals("v", text(good.call("GET", "k")), "other connections keep being served, and "
                        + "nothing after the bad frame ran");
            }
            try (RespSocket bad = new RespSocket(port, 10_000)) {
                bad.sendRaw(new byte[] {0, 1, 2, (byte) 0xff, '\r', '\n'});
                assertTrue(text(bad.read()).startsWith("-ERR unknown command"), "binary garbage is an unknown inline command");
            }
            assertEquals("v", text(good.call("GET", "k")));
        }
    }

    /**
     * Found by a bad-input sweep: some fifty connections each sending 15 MB of a 16 MB argument, never
     * the rest, ran a node with -Xmx512m out of direct memory; connections failed with
     * OutOfMemoryError and a forwarded write timed out. What all clients' input holds is now bounded
     * (--max-client-input-bytes). At first the connection whose input would go over was refused,
     * alone: a client that sent most of a large request and stalled kept its share for ever, and
     * every other client's large request was refused. Now the connection holding the most is evicted.
     */
    @Test
    void aStalledClientHoldingTheMostIsEvictedSoThatAnotherClientsLargeRequestSucceeds() throws IOException {
        RespLimits limits = new RespLimits(512 << 10, 1024, 65536, 512 << 10);
        // 300 KB of a request take a 512 KiB buffer as it grows; two of them do not fit in 768 KiB.
        cluster = new InMemoryKvCluster(3, s -> s.withClients(1000, 1024, limits).withMaxClientInput(768 << 10));
        KvNode leader = cluster.awaitLeader();
        ClientInputBudget budget = leader.clientInputBudget();
        int port = cluster.port(leader);
        int valueLength = 400_000;
        try (RespSocket stalled = new RespSocket(port, 10_000); RespSocket second = new RespSocket(port, 10_000);
             RespSocket other = new RespSocket(port, 10_000);
             RespSocket throughFollower = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000)) {
            assertEquals("OK", text(other.call("SET", "k", "v0")));
            stalled.sendRaw((setHeader("stalled", valueLength) + "s".repeat(300_000)).getBytes(StandardCharsets.US_ASCII));
            InMemoryKvCluster.await("the stalled request's 300 KB buffered", 10_000, () -> budget.usedBytes() >= 300_000);
            assertEquals("OK", text(other.call("SET", "k", "v1")), "small commands are served while it stalls");

            String value = "b".repeat(valueLength);
            assertEquals("OK", text(second.call("SET", "second", value)), "another client's large request succeeds");

            String eviction = text(stalled.read());
            assertTrue(eviction.startsWith("-ERR client input over --max-client-input-bytes: this connection held the most"),
                    eviction);
            assertTrue(stalled.closedByServer(), "the stalled connection is closed");

            assertEquals("OK", text(other.call("SET", "k", "v2")), "other clients are served");
            assertEquals("OK", text(throughFollower.call("SET", "f", "w")), "and forwarded writes");
            assertEquals(value, text(other.call("GET", "second")));
            assertEquals("v2", text(other.call("GET", "k")));
            assertEquals("0", text(other.call("EXISTS", "stalled")), "nothing of the evicted request was done");
            String info = text(other.call("INFO", "clients"));
            assertTrue(info.contains("client_input_closed_connections:1\r\n"), info);
            assertTrue(info.contains("client_input_evicted_connections:1\r\n"), info);
            assertTrue(info.contains("max_client_input_bytes:" + (768 << 10) + "\r\n"), info);
        }
        // Every byte counted is given back: requests answered, connections closed or evicted.
        InMemoryKvCluster.await("all clients' input given back", 10_000, () -> budget.usedBytes() == 0);
    }

    /**
     * A follower's forwarding connection carries many clients' writes, so it is typically the biggest
     * holder of client input; evicting it made the follower answer every write it carried -UNCERTAIN.
     * Like Redis's replication links it is never evicted: here it holds the most (a request it has
     * not finished), and another client's large request, which would have evicted it, is refused
     * instead. The connection is a socket announcing RAFT.FORWARDED as a follower's does, so that it
     * can stall mid-request: a follower forwards only whole requests.
     */
    @Test
    void aConnectionForwardingFromAFollowerIsNeverEvictedEvenHoldingTheMost() throws IOException {
        RespLimits limits = new RespLimits(512 << 10, 1024, 65536, 512 << 10);
        // As above: 300 KB of a request take a 512 KiB buffer as it grows; two of them do not fit in 768 KiB.
        cluster = new InMemoryKvCluster(3, s -> s.withClients(1000, 1024, limits).withMaxClientInput(768 << 10));
        KvNode leader = cluster.awaitLeader();
        ClientInputBudget budget = leader.clientInputBudget();
        int port = cluster.port(leader);
        int valueLength = 400_000;
        String forwardedValue = "f".repeat(valueLength);
        try (RespSocket forwarding = new RespSocket(port, 10_000); RespSocket asker = new RespSocket(port, 10_000);
             RespSocket other = new RespSocket(port, 10_000)) {
            assertTrue(text(forwarding.call("RAFT.FORWARDED")).startsWith("OK max-bulk-bytes="), "OK and its limits");
            forwarding.sendRaw((setHeader("forwarded", valueLength) + forwardedValue.substring(0, 300_000))
                    .getBytes(StandardCharsets.US_ASCII));
            InMemoryKvCluster.await("the forwarded request's 300 KB buffered", 10_000, () -> budget.usedBytes() >= 300_000);

            assertRefusedForItsOwnInput(asker.sendRefused(
                    (setHeader("asker", valueLength) + "a".repeat(valueLength) + "\r\n").getBytes(StandardCharsets.US_ASCII)));
            assertTrue(asker.closedByServer(), "the asking connection is closed, not the forwarding one");

            forwarding.sendRaw((forwardedValue.substring(300_000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            assertEquals("OK", text(forwarding.read()), "the forwarding connection's request completes");
            assertEquals("OK", text(forwarding.call("SET", "k", "v")), "and it goes on");
            assertEquals(forwardedValue, text(other.call("GET", "forwarded")));
            assertEquals("0", text(other.call("EXISTS", "asker")), "nothing of the refused request was done");
            String info = text(other.call("INFO", "clients"));
            assertTrue(info.contains("client_input_closed_connections:1\r\n"), info);
            assertTrue(info.contains("client_input_evicted_connections:0\r\n"), info);
        }
        InMemoryKvCluster.await("all clients' input given back", 10_000, () -> budget.usedBytes() == 0);
    }

    /** The connection whose input would go over while it holds the most is refused, alone, as before evictions. */
    @Test
    void aConnectionWhoseInputWouldTakeAllClientsInputOverTheBudgetWhileItHoldsTheMostIsRefusedAlone() throws IOException {
        RespLimits limits = new RespLimits(512 << 10, 1024, 65536, 512 << 10);
        // 400 KB of a request take a 512 KiB buffer as it grows; with the 60 KB of another, over 560 KiB.
        cluster = new InMemoryKvCluster(3, s -> s.withClients(1000, 1024, limits).withMaxClientInput(560 << 10));
        KvNode leader = cluster.awaitLeader();
        ClientInputBudget budget = leader.clientInputBudget();
        int port = cluster.port(leader);
        int smallLength = 100_000;
        String small = "a".repeat(smallLength);
        try (RespSocket first = new RespSocket(port, 10_000); RespSocket big = new RespSocket(port, 10_000);
             RespSocket other = new RespSocket(port, 10_000)) {
            assertEquals("PONG", text(other.call("PING")));
            first.sendRaw((setHeader("first", smallLength) + small.substring(0, 60_000)).getBytes(StandardCharsets.US_ASCII));
            InMemoryKvCluster.await("the first request's 60 KB buffered", 10_000, () -> budget.usedBytes() >= 60_000);

            assertRefusedForItsOwnInput(big.sendRefused(
                    (setHeader("big", 400_000) + "b".repeat(400_000) + "\r\n").getBytes(StandardCharsets.US_ASCII)));
            assertTrue(big.closedByServer(), "the refused connection is closed");

            assertEquals("OK", text(other.call("SET", "k", "v")), "other clients are served");
            first.sendRaw((small.substring(60_000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            assertEquals("OK", text(first.read()), "the smaller request completes");
            assertEquals(small, text(other.call("GET", "first")));
            assertEquals("0", text(other.call("EXISTS", "big")), "nothing of the refused request was done");
            String info = text(other.call("INFO", "clients"));
            assertTrue(info.contains("client_input_closed_connections:1\r\n"), info);
            assertTrue(info.contains("client_input_evicted_connections:0\r\n"), info);
        }
        InMemoryKvCluster.await("all clients' input given back", 10_000, () -> budget.usedBytes() == 0);
    }

    /**
     * The answer to a request refused for its own input: the refusal line, unless the connection's
     * reset discarded it (see {@link RespSocket#sendRefused}); INFO's counters then say who was closed.
     */
    private static void assertRefusedForItsOwnInput(Reply answer) {
        if (answer != null) {
            String refusal = text(answer);
            assertTrue(refusal.startsWith("-ERR client input over --max-client-input-bytes: this connection's unfinished"),
                    refusal);
        }
    }

    private static String setHeader(String key, int valueLength) {
        return "*3\r\n$3\r\nSET\r\n$" + key.length() + "\r\n" + key + "\r\n$" + valueLength + "\r\n";
    }

    @Test
    void connectionCountIsBounded() throws IOException {
        cluster = new InMemoryKvCluster(3, 3000, 8, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        int port = cluster.port(cluster.aFollower(leader));
        List<RespSocket> sockets = new ArrayList<>();
        try {
            int served = 0;
            int refused = 0;
            for (int i = 0; i < 12; i++) {
                RespSocket s = new RespSocket(port, 10_000);
                sockets.add(s);
                String r = text(s.call("PING"));
                if (r.equals("PONG")) {
                    served++;
                } else {
                    assertEquals("-ERR max number of clients reached", r);
                    assertTrue(s.closedByServer());
                    refused++;
                }
            }
            assertEquals(8, served);
            assertEquals(4, refused);
            for (RespSocket s : sockets) {
                s.close();
            }
            sockets.clear();
            InMemoryKvCluster.await("a slot to free up", 5000, () -> {
                try (RespSocket s = new RespSocket(port, 5000)) {
                    return text(s.call("PING")).equals("PONG");
                } catch (IOException e) {
                    return false;
                }
            });
        } finally {
            for (RespSocket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void noQuorumGivesTryAgainAfterABoundedWait() throws IOException {
        cluster = new InMemoryKvCluster(3, 1500, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        KvNode follower = cluster.aFollower(leader);
        try (RespSocket f = new RespSocket(cluster.port(follower), 20_000)) {
            assertEquals("OK", text(f.call("SET", "k", "v")));
            // Forwarding runs over TCP, outside the in-memory network: cut every Raft link so that
            // no node has a quorum.
            for (KvNode n : cluster.nodes) {
                cluster.network.isolate(n.nodeId());
            }
            long start = System.nanoTime();
            String read = text(f.call("GET", "k"));
            long readMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(read.startsWith("-TRYAGAIN"), read);
            assertTrue(readMs >= 1000 && readMs < 10_000, "bounded wait, was " + readMs + " ms");
            String write = text(f.call("SET", "k", "w"));
            assertTrue(write.startsWith("-TRYAGAIN") || write.startsWith("-TIMEOUT") || write.startsWith("-UNCERTAIN"), write);
            assertEquals("PONG", text(f.call("PING")));
        }
        cluster.network.heal();
        try (RespSocket l = new RespSocket(cluster.port(cluster.awaitLeader()), 10_000)) {
            String v = text(l.call("GET", "k"));
            assertTrue(v.equals("v") || v.equals("w"), v);
        }
    }

    /**
     * A node cut off from the rest of its group seeks votes for ever (a pre-vote no one answers):
     * it told its clients "an election is in progress", as if waiting would help, where the election
     * cannot be won from there. What it cannot tell apart (a pre-vote just started, or no majority in
     * reach) the answer now says both of, and what to do: try another node.
     */
    @Test
    void aNodeCutOffFromItsGroupDoesNotClaimAnElectionIsInProgress() throws IOException {
        cluster = new InMemoryKvCluster(3, 1500, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        KvNode follower = cluster.aFollower(leader);
        cluster.network.isolate(follower.nodeId());
        InMemoryKvCluster.await("the cut-off node seeks votes", 10_000,
                () -> follower.raft().status().role() == io.raft4j.core.Role.PRE_CANDIDATE);
        try (RespSocket f = new RespSocket(cluster.port(follower), 20_000)) {
            String write = text(f.call("SET", "k", "v"));
            assertTrue(write.startsWith("-TRYAGAIN"), write);
            assertTrue(!write.contains("an election is in progress"), write);
            assertTrue(write.contains("cut off") && write.contains("another node"), write);
        }
    }

    /**
     * Removing the leader of three while another voter is down is refused by the strict membership
     * check (the change could not commit). The refusal ended "RaftConfig.strictMembershipChecks(false)
     * skips this check", a setting a KV operator has no way to reach: it now says what they can do.
     */
    @Test
    void aStrictMembershipRefusalTellsTheKvOperatorWhatTheyCanDo() throws IOException {
        cluster = new InMemoryKvCluster(3, 1500, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        KvNode down = cluster.aFollower(leader);
        cluster.network.isolate(down.nodeId());
        InMemoryKvCluster.await("the leader sees " + down.nodeId() + " inactive", 10_000,
                () -> leader.raft().followers().join().stream()
                        .noneMatch(f -> f.nodeId().equals(down.nodeId()) && f.recentlyActive()));
        try (RespSocket l = new RespSocket(cluster.port(leader), 20_000)) {
            String refusal = text(l.call("RAFT.REMOVENODE", leader.nodeId()));
            assertTrue(refusal.startsWith("-ERR") && refusal.contains("answered lately"), refusal);
            assertTrue(!refusal.contains("RaftConfig"), refusal);
            assertTrue(refusal.contains("RAFT.REMOVENODE the voter that is down"), refusal);
        }
    }

    @Test
    void isolatedLeaderAnswersWritesAsUncertainOrTimeout() throws IOException {
        cluster = new InMemoryKvCluster(3, 1500, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket l = new RespSocket(cluster.port(leader), 20_000)) {
            assertEquals("OK", text(l.call("SET", "k", "v")));
            cluster.network.isolate(leader.nodeId());
            String write = text(l.call("SET", "k", "w"));
            assertTrue(write.startsWith("-TIMEOUT") || write.startsWith("-UNCERTAIN"), write);
            assertTrue(write.contains("may or may not"), write);
        }
    }

    /**
     * RAFT.SESSION and RAFT.ONCE through a follower (forwarded) and the leader: a retried INCR counts
     * once; a bad use is refused with a clear error and does nothing.
     */
    @Test
    void writesInAClientSessionApplyOnceHoweverOftenTheyAreSent() throws IOException {
        cluster = new InMemoryKvCluster(3, 5000, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket f = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000);
             RespSocket l = new RespSocket(cluster.port(leader), 10_000)) {
            Reply opened = f.call("RAFT.SESSION");
            long session = assertInstanceOf(Reply.Int.class, opened, opened.toString()).value();
            String id = Long.toString(session);
            assertEquals(Reply.integer(1), f.call("RAFT.ONCE", id, "1", "1", "INCR", "counter"));
            assertEquals(Reply.integer(1), f.call("RAFT.ONCE", id, "1", "1", "INCR", "counter"), "the retry");
            assertEquals(Reply.integer(1), l.call("RAFT.ONCE", id, "1", "1", "INCR", "counter"), "on the leader too");
            assertEquals(Reply.integer(2), l.call("RAFT.ONCE", id, "2", "2", "incr", "counter"));
            assertEquals("2", text(f.call("GET", "counter")));
            assertEquals("OK", text(f.call("RAFT.ONCE", id, "4", "3", "SET", "a", "x")), "two outstanding: 3 and 4");
            assertEquals(Reply.NIL, f.call("RAFT.ONCE", id, "3", "3", "SET", "a", "y", "NX"));
            assertEquals("x", text(f.call("GET", "a")));

            assertTrue(text(f.call("RAFT.ONCE", "987654", "1", "1", "SET", "b", "1")).startsWith("-SESSIONEXPIRED"));
            assertTrue(text(f.call("RAFT.ONCE", id, "5", "5", "GET", "a")).startsWith("-ERR RAFT.ONCE wraps a write"));
            assertTrue(text(f.call("RAFT.ONCE", id, "5", "5", "SET", "b", "1", "GET")).startsWith("-ERR RAFT.ONCE does not take SET ... GET"));
            assertEquals("OK", text(f.call("RAFT.ONCE", id, "5", "5", "SET", "a", "z", "IFEQ", "x")), "IFEQ is fine");
            assertTrue(text(f.call("RAFT.ONCE", id, "6", "7", "SET", "b", "1")).startsWith("-ERR RAFT.ONCE takes"));
            assertTrue(text(f.call("RAFT.ONCE", id, "x", "1", "SET", "b", "1")).startsWith("-ERR RAFT.ONCE takes"));
            assertTrue(text(f.call("RAFT.ONCE", id, "6", "6", "INCR")).startsWith("-ERR wrong number of arguments"));
            assertTrue(text(f.call("RAFT.ONCE", id, "6")).startsWith("-ERR wrong number of arguments"));
            assertEquals(Reply.NIL, f.call("GET", "b"), "nothing refused was applied");
            assertTrue(text(l.call("INFO", "raft")).contains("sessions:1\r\n"));
        }
    }

    /**
     * Found running the membership runbook: RAFT.ADDNODE of a node that was not running answered,
     * 30 s later, "-TIMEOUT ...: the write may or may not have been applied", which tells the
     * operator nothing of the learner it left in the membership.
     */
    @Test
    void addNodeThatNeverAnswersTimesOutNamingTheLearnerItLeft() throws IOException {
        cluster = new InMemoryKvCluster(3, s -> s.withAdminTimeout(1500));
        KvNode leader = cluster.awaitLeader();
        for (KvNode asked : List.of(leader, cluster.aFollower(leader))) {
            try (RespSocket s = new RespSocket(cluster.port(asked), 30_000)) {
                String reply = text(s.call("RAFT.ADDNODE", "n4", "127.0.0.1:10004"));
                assertTrue(reply.startsWith("-TIMEOUT") && reply.contains("RAFT.ADDNODE n4 may or may not have taken effect")
                        && reply.contains("RAFT.MEMBERS shows whether n4 is a learner"), reply);
            }
        }
        assertEquals(Set.of("n4"), leader.raft().status().config().learners(), "n4 was left a learner");
    }

    @Test
    void membershipAndSnapshotAdminCommands() throws IOException {
        cluster = new InMemoryKvCluster(3, 5000, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        // Admin commands go through a follower (forwarded); the members are read on the leader, which
        // has the new configuration once it answers (the follower may not have it yet: the change
        // commits with the leader and any one follower).
        try (RespSocket f = new RespSocket(cluster.port(cluster.aFollower(leader)), 30_000);
             RespSocket l = new RespSocket(cluster.port(leader), 30_000)) {
            for (int i = 0; i < 50; i++) {
                assertEquals("OK", text(f.call("SET", "k" + i, "v" + i)));
            }
            assertTrue(text(f.call("RAFT.INFO")).contains("snapshot_index:0\r\n"), "no snapshot yet");
            String taken = text(f.call("RAFT.SNAPSHOT"));
            assertTrue(taken.startsWith("OK snapshot at index"), taken);
            String at = taken.replaceAll("^OK snapshot at index (\\d+).*$", "$1").trim();
            assertTrue(text(f.call("RAFT.INFO")).contains("snapshot_index:" + at + "\r\n"), "INFO names it: " + at);
            KvNode waiting = cluster.start("n4", Map.of());
            try (RespSocket s4 = new RespSocket(cluster.port(waiting), 10_000)) {
                assertTrue(text(s4.call("RAFT.INFO")).contains("membership:none"), "a node waiting to be added says so");
            }
            assertEquals("OK", text(f.call("RAFT.ADDNODE", "n4", "127.0.0.1:10004")));
            assertEquals(4, ((Reply.Array) l.call("RAFT.MEMBERS")).items().size());
            KvNode n4 = cluster.node("n4");
            InMemoryKvCluster.await("n4 to catch up", 10_000, () -> n4.stateMachine().size() == 50);
            try (RespSocket s4 = new RespSocket(cluster.port(n4), 10_000)) {
                assertEquals("v7", text(s4.call("GET", "k7")));
            }
            assertTrue(text(f.call("RAFT.ADDNODE", "n5", "not-an-address")).startsWith("-ERR invalid raft address"));
            // Found by an operator: both were accepted, leaving learners that could never run or be reached.
            assertTrue(text(f.call("RAFT.ADDNODE", "n 5", "127.0.0.1:10005")).startsWith("-ERR invalid node id 'n 5'"));
            assertTrue(text(f.call("RAFT.ADDNODE", "n5,x=1", "127.0.0.1:10005")).startsWith("-ERR invalid node id"));
            // Accepted before, it failed to encode into the leader's log and stopped the leader.
            assertTrue(text(f.call("RAFT.ADDNODE", "n".repeat(70_000), "127.0.0.1:10005"))
                    .startsWith("-ERR invalid node id (70000 characters): it must be non-empty, at most 256 characters"));
            String shared = text(f.call("RAFT.ADDNODE", "n5", "127.0.0.1:10004"));
            assertTrue(shared.startsWith("-ERR") && shared.contains("already n4's"), shared);
            String alias = text(f.call("RAFT.ADDNODE", "n5", "localhost:10004"));
            assertTrue(alias.startsWith("-ERR") && alias.contains("same endpoint as n4's 127.0.0.1:10004"), alias);
            assertEquals(4, ((Reply.Array) l.call("RAFT.MEMBERS")).items().size(), "nothing was added");
            assertTrue(text(f.call("RAFT.ADDNODE", "n5", "127.0.0.1:10004 ")).startsWith("-ERR invalid raft address"));
            assertEquals("OK", text(f.call("RAFT.REMOVENODE", "n4")));
            assertEquals(3, ((Reply.Array) l.call("RAFT.MEMBERS")).items().size());
            assertTrue(text(f.call("RAFT.REMOVENODE", "n9")).startsWith("-ERR"), "removing a non-member is refused");
            KvNode target = cluster.aFollower(leader);
            assertEquals("OK", text(f.call("RAFT.TRANSFER", target.nodeId())));
            InMemoryKvCluster.await("the transfer", 10_000, () -> target.raft().isLeader());
            assertEquals("v1", text(f.call("GET", "k1")));
        }
    }

    @Test
    void aForwardedAdminCommandMayOutliveTheRequestTimeout() throws IOException {
        cluster = new InMemoryKvCluster(3, 200, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        List<KvNode> followers = new ArrayList<>(cluster.nodes);
        followers.remove(leader);
        KvNode entry = followers.get(0);
        KvNode target = followers.get(1);
        // The target cannot take over, so the leader gives the transfer up after an election
        // timeout: far longer than the 200 ms request timeout, well within the admin one.
        cluster.network.isolate(target.nodeId());
        // Two connections whose commands share one of the entry node's 2 pooled forwarding
        // connections (chosen by connection id), so the busy one's traffic meets the transfer.
        List<RespSocket> sockets = new ArrayList<>();
        try {
            RespSocket admin = null;
            RespSocket busy = null;
            Map<Long, RespSocket> byParity = new HashMap<>();
            while (busy == null) {
                RespSocket s = new RespSocket(cluster.port(entry), 10_000);
                sockets.add(s);
                long id = ((Reply.Int) s.call("CLIENT", "ID")).value();
                RespSocket other = byParity.putIfAbsent(id % 2, s);
                if (other != null) {
                    admin = other;
                    busy = s;
                }
            }
            admin.send("RAFT.TRANSFER", target.nodeId());
            long deadline = System.nanoTime() + 15_000_000_000L;
            int writes = 0;
            while (!admin.replyWaiting() && System.nanoTime() < deadline) {
                // The leader takes no writes during a transfer: these are retried until their own
                // deadline, each retry on the shared forwarding connection.
                busy.call("SET", "k" + writes++, "v");
            }
            assertTrue(writes > 1, "the transfer should have outlived several writes, it outlived " + writes);
            String reply = text(admin.read());
            assertTrue(reply.startsWith("-ERR"), "a forwarded transfer that the leader gave up: " + reply);
        } finally {
            for (RespSocket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void nothingPipelinedAfterQuitRuns() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket l = new RespSocket(cluster.port(leader), 10_000)) {
            try (RespSocket q = new RespSocket(cluster.port(leader), 10_000)) {
                q.sendRaw(("*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$4\r\nquit\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertEquals("OK", text(q.read()));
                assertTrue(q.closedByServer(), "QUIT closes the connection");
            }
            // Once a later write is applied, the SET after QUIT (proposed before it, if at all)
            // would have been applied too.
            assertEquals("OK", text(l.call("SET", "marker", "1")));
            assertEquals(Reply.NIL, l.call("GET", "after"), "the SET sent after QUIT ran");
        }
    }

    /**
     * Found by an adversarial-client sweep: {@code printf 'SET k v\r\n' | nc -N host port} got no
     * reply, though the write was applied. The end of the client's input closed the connection at
     * once, dropping the replies of the commands still running (all writes and reads are), where
     * Redis writes the replies of the commands it read before it closes.
     */
    @Test
    void aClientThatShutsDownItsOutputStillGetsItsRepliesThenTheClose() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket c = new RespSocket(cluster.port(cluster.aFollower(leader)), 10_000)) {
            c.sendRaw("SET half closed\r\nGET half\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            c.shutdownOutput();
            assertEquals("OK", text(c.read()));
            assertEquals("closed", text(c.read()));
            assertEquals("PONG", text(c.read()));
            assertTrue(c.closedByServer(), "closed once every reply is written");
        }
        try (RespSocket idle = new RespSocket(cluster.port(leader), 10_000)) {
            idle.shutdownOutput();
            assertTrue(idle.closedByServer(), "a connection owed nothing closes at the end of its input");
        }
    }

    /**
     * A client that half-closes in the middle of a request stays connected while it is owed replies;
     * what its decoder held of that request, which can never be finished, is released at the end of
     * its input and no longer counted in the node's client input budget.
     */
    @Test
    void theUnfinishedRequestOfAHalfClosedClientLeavesTheInputBudgetAtOnce() throws IOException {
        // Election timeout 10 s: the isolated leader keeps the write owed, not answering it -UNCERTAIN at once.
        cluster = new InMemoryKvCluster(3, 10_000, 1000, RespLimits.DEFAULT, 100_000, 200);
        KvNode leader = cluster.awaitLeader();
        ClientInputBudget budget = leader.clientInputBudget();
        try (RespSocket c = new RespSocket(cluster.port(leader), 30_000)) {
            assertEquals("OK", text(c.call("SET", "k", "v")));
            cluster.network.isolate(leader.nodeId()); // the next write stays owed until its timeout
            c.send("SET", "owed", "v");
            byte[] unfinished = ("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$100000\r\n" + "x".repeat(60_000))
                    .getBytes(StandardCharsets.US_ASCII);
            c.sendRaw(unfinished);
            InMemoryKvCluster.await("the unfinished request counted", 5_000, () -> budget.usedBytes() >= 60_000);
            c.shutdownOutput();
            InMemoryKvCluster.await("the unfinished request of a half-closed client no longer counted", 5_000,
                    () -> budget.usedBytes() < 1_000);
            String owed = text(c.read());
            assertTrue(owed.startsWith("-TIMEOUT") || owed.startsWith("-UNCERTAIN"), "the write owed is still answered: " + owed);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void aWriteTooLargeForOneEntryIsRefusedAndTheClusterGoesOn() throws IOException {
        cluster = new InMemoryKvCluster(3);
        KvNode leader = cluster.awaitLeader();
        String big = "x".repeat((8 << 20) + 1);
        try (RespSocket l = new RespSocket(cluster.port(leader), 30_000);
             RespSocket f = new RespSocket(cluster.port(cluster.aFollower(leader)), 30_000)) {
            for (RespSocket s : List.of(l, f)) {
                String reply = text(s.call("SET", "big", big));
                assertTrue(reply.startsWith("-ERR command of") && reply.contains("maxEntryBytes"), reply);
            }
            assertEquals("OK", text(f.call("SET", "small", "v")));
            assertEquals("v", text(l.call("GET", "small")));
            assertEquals(Reply.NIL, l.call("GET", "big"));
        }
    }

    @Test
    void aLeaderWhoseWritesCannotCommitRefusesThoseBeyondItsBoundAtOnce() throws IOException {
        // An election timeout of 5-10 s: the cut-off leader keeps leading while the writes arrive
        // (2-4 s was too short once on a loaded machine, taking 70 MiB of writes: the tenth found
        // the leader gone and was answered -TRYAGAIN for the election instead of for the bound).
        cluster = new InMemoryKvCluster(3, 3000, 1000, RespLimits.DEFAULT, 100_000, 100);
        KvNode leader = cluster.awaitLeader();
        String value = "x".repeat(7 << 20); // nine fit in the leader's 64 MiB of uncommitted writes
        try (RespSocket l = new RespSocket(cluster.port(leader), 30_000)) {
            assertEquals("OK", text(l.call("SET", "k", "v")));
            cluster.network.isolate(leader.nodeId());
            for (int i = 0; i < 10; i++) {
                l.send("SET", "big" + i, value);
            }
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                replies.add(text(l.read()));
            }
            String refused = replies.get(9);
            assertTrue(refused.startsWith("-TRYAGAIN overloaded: ") && refused.contains("at its limit"), refused);
            for (String accepted : replies.subList(0, 9)) {
                assertTrue(accepted.startsWith("-TIMEOUT") || accepted.startsWith("-UNCERTAIN"), accepted);
            }
            cluster.network.heal();
            String info = text(l.call("INFO"));
            assertTrue(info.contains("proposals_refused_overloaded:1"), info);
            assertTrue(info.contains("reads_refused_overloaded:0"), info);
        }
    }

    @Test
    void aWriteThroughAFollowerThatAnOverloadedLeaderRefusedIsAnsweredTryAgainNotUncertain() throws IOException {
        // The cut-off leader must keep leading until it has refused the forwarded write: an election
        // timeout of 10-20 s (at 5-10 s, at nice 10 beside busy loops, the other two elected one of
        // them first and the write through the follower was answered OK). Requests time out after
        // 4 s: the follower must hear the leader's refusal of the forwarded 7 MiB write before its
        // own timeout answers -TIMEOUT (the outcome unknown to it), and at 1 s, loaded so, it did not
        // ("-TIMEOUT no outcome within 1000 ms").
        cluster = new InMemoryKvCluster(3, 4000, 1000, RespLimits.DEFAULT, 100_000, 200);
        KvNode leader = cluster.awaitLeader();
        KvNode follower = cluster.aFollower(leader);
        String value = "x".repeat(7 << 20);
        try (RespSocket l = new RespSocket(cluster.port(leader), 30_000);
             RespSocket f = new RespSocket(cluster.port(follower), 30_000)) {
            assertEquals("OK", text(f.call("SET", "warm", "1")));
            long before = leader.raft().status().lastIndex();
            cluster.network.isolate(leader.nodeId());
            for (int i = 0; i < 9; i++) {
                l.send("SET", "big" + i, value); // fill the leader's 64 MiB of uncommitted writes
            }
            InMemoryKvCluster.await("nine writes appended", 60_000,
                    () -> leader.raft().status().lastIndex() >= before + 9);

            String viaFollower = text(f.call("SET", "more", value));

            assertTrue(viaFollower.startsWith("-TRYAGAIN overloaded: ") && viaFollower.contains("at its limit")
                    && viaFollower.contains("nothing was proposed"), viaFollower);
            assertEquals(before + 9, leader.raft().status().lastIndex(), "nothing was appended for it");
            assertTrue(leader.raft().isLeader());
        }
    }

    @Test
    void aConnectionStopsBeingReadWhileItsOwedCommandsHoldAMaximalRequest() throws Exception {
        RespLimits oneMiB = new RespLimits(1 << 20, 1024, 65536, 1 << 20);
        cluster = new InMemoryKvCluster(3, 2000, 1000, oneMiB, 100_000, 100);
        KvNode leader = cluster.awaitLeader();
        String value = "x".repeat(400 << 10);
        try (RespSocket l = new RespSocket(cluster.port(leader), 30_000)) {
            assertEquals("OK", text(l.call("SET", "k", "v")));
            // 8 MB in all. The first reply comes when the first write times out, 2 s on: by then the
            // node has read only while less than 1 MiB was owed, three writes of 400 KiB (one or two
            // more may be read as that reply goes out), not all twenty.
            long read = writesReadWhileOwed(leader, l, i -> l.send("SET", "big" + i, value));
            assertTrue(read >= 3 && read <= 5, read + " writes read while their replies were owed");
        }
    }

    /**
     * Found by an adversarial-client sweep: the arguments of the commands owed a reply were counted
     * by their bytes alone, so empty ones counted nothing, though each takes an array and a reference
     * to it in the heap. A connection pipelining DELs of 100,000 empty keys, 2 MB of heap each, was
     * read on and on; at a million arguments a command, 1,024 of them held some 24 GB.
     */
    @Test
    void aConnectionStopsBeingReadWhileItsOwedCommandsHoldManyEmptyArguments() throws Exception {
        RespLimits oneMiB = new RespLimits(1 << 20, 1 << 20, 65536, 1 << 20);
        cluster = new InMemoryKvCluster(3, 2000, 1000, oneMiB, 100_000, 100);
        KvNode leader = cluster.awaitLeader();
        int keys = 100_000;
        StringBuilder del = new StringBuilder("*" + (keys + 1) + "\r\n$3\r\nDEL\r\n");
        del.append("$0\r\n\r\n".repeat(keys));
        byte[] delManyEmptyKeys = del.toString().getBytes(StandardCharsets.US_ASCII);
        try (RespSocket l = new RespSocket(cluster.port(leader), 30_000)) {
            assertEquals("OK", text(l.call("SET", "k", "v")));
            // 12 MB in all. The first reply comes when the first write times out, 2 s on: by then the
            // node has read only while less than 1 MiB was owed (one DEL, or two as its reply goes
            // out), not all twenty.
            long read = writesReadWhileOwed(leader, l, i -> l.sendRaw(delManyEmptyKeys));
            assertTrue(read >= 1 && read <= 3, read + " writes read while their replies were owed");
        }
    }

    /** Sends the {@code i}th of a run of requests. */
    private interface NthRequest {
        void send(int i) throws IOException;
    }

    /**
     * Isolates {@code leader}, so that no write commits and every write stays owed, sends twenty
     * requests over {@code l} from another thread (it blocks once the socket buffers fill), and
     * returns how many writes the node had read when the first reply came: the first write's
     * {@code -TIMEOUT}.
     */
    private long writesReadWhileOwed(KvNode leader, RespSocket l, NthRequest request) throws IOException {
        long before = leader.raft().status().lastIndex();
        cluster.network.isolate(leader.nodeId());
        Thread sender = new Thread(() -> {
            try {
                for (int i = 0; i < 20; i++) {
                    request.send(i);
                }
            } catch (IOException e) {
                // the test closes the socket while this may still be blocked in a send
            }
        });
        sender.setDaemon(true);
        sender.start();
        String first = text(l.read());
        assertTrue(first.startsWith("-TIMEOUT"), first);
        return leader.raft().status().lastIndex() - before;
    }

    /**
     * Found by an operator: 300 pipelined GETs of a 4 MB value, replies never read, made the node
     * encode every reply into direct memory until it ran out. Replies now wait, unencoded, while the
     * socket takes no more output.
     */
    @Test
    void repliesToAClientThatDoesNotReadWaitUnencoded() throws Exception {
        cluster = new InMemoryKvCluster(3, 2000, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        String value = "v".repeat(1 << 20);
        try (RespSocket l = new RespSocket(cluster.port(leader), 30_000)) {
            assertEquals("OK", text(l.call("SET", "big", value)));
            io.netty.buffer.ByteBufAllocatorMetric direct =
                    ((io.netty.buffer.ByteBufAllocatorMetricProvider) io.netty.buffer.ByteBufAllocator.DEFAULT).metric();
            long before = direct.usedDirectMemory();
            for (int i = 0; i < 200; i++) {
                l.send("GET", "big");                               // 200 MiB of replies owed
            }
            // The node reads the 200 small commands at once and answers them from memory: by the time
            // the first reply arrives, it has done what it would with the rest.
            assertEquals(value, text(l.read()));
            long used = direct.usedDirectMemory() - before;
            assertTrue(used < 64L << 20, (used >> 20) + " MiB of direct memory hold encoded replies");
            for (int i = 1; i < 200; i++) {
                assertEquals(value, text(l.read()), "reply " + i);
            }
        }
    }

    @Test
    void aLeaderHandsLeadershipOverBeforeAPlannedStop() throws IOException {
        cluster = new InMemoryKvCluster(3, 5000, 1000, RespLimits.DEFAULT);
        KvNode leader = cluster.awaitLeader();
        assertEquals(null, cluster.aFollower(leader).handOverLeadership(), "a follower has nothing to hand over");
        String next = leader.handOverLeadership();
        assertNotEquals(null, next);
        assertNotEquals(leader.nodeId(), next);
        // The old leader may hear from the new one before the new one's status() says it leads.
        InMemoryKvCluster.await("the new leader", 10_000, () -> cluster.node(next).raft().isLeader());
        try (RespSocket old = new RespSocket(cluster.port(leader), 10_000)) {
            // The old leader still serves its clients, forwarding them, until it is closed.
            assertEquals("OK", text(old.call("SET", "k", "v")));
            // Without an id, RAFT.TRANSFER picks the voter furthest ahead and names it.
            String picked = text(old.call("RAFT.TRANSFER"));
            assertNotEquals(next, picked);
            InMemoryKvCluster.await("the transfer", 10_000, () -> cluster.node(picked).raft().isLeader());
            assertEquals("v", text(old.call("GET", "k")));
        }
    }

    /**
     * A node added after the log was compacted must catch up by snapshot. The snapshot it gets was
     * taken before it was added, so its configuration does not list the node yet.
     *
     * <p>Pins a fixed bug: raft-core's {@code RaftCore.isRemoved()} was true right after such a
     * snapshot was installed (a committed configuration without the node), before the entry that
     * added it arrived, and the node stopped itself ("n4: removed from group kv; stopping"). Over TCP
     * that happened every time; with the in-memory transport it needs the small delay set below.
     */
    @Test
    void joiningNodeCatchesUpBySnapshot() throws IOException {
        cluster = new InMemoryKvCluster(3, 5000, 1000, RespLimits.DEFAULT, 200);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket l = new RespSocket(cluster.port(leader), 60_000)) {
            // More than the 1,024 entries kept behind a snapshot, so the log is compacted past index 1.
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 2000; i++) {
                batch.append(command("SET", "k" + i, "v" + i));
            }
            l.sendRaw(batch.toString().getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < 2000; i++) {
                assertEquals("OK", text(l.read()));
            }
            assertTrue(text(l.call("RAFT.SNAPSHOT")).startsWith("OK"));
            KvNode n4 = cluster.start("n4", Map.of());
            cluster.network.setDelayMillis(5); // as over TCP: the snapshot and the entries after it arrive apart
            assertEquals("OK", text(l.call("RAFT.ADDNODE", "n4", "127.0.0.1:10004")));
            InMemoryKvCluster.await("n4 to catch up", 20_000, () -> n4.stateMachine().size() == 2000);
            InMemoryKvCluster.await("n4 to apply the change that added it", 20_000,
                    () -> n4.raft().status().config().isMember("n4"));
            assertEquals(null, n4.raft().failure());
            try (RespSocket s4 = new RespSocket(cluster.port(n4), 10_000)) {
                assertEquals("v1999", text(s4.call("GET", "k1999")));
            }
        }
    }

    /**
     * Found in a sweep: MGET naming one large value many times builds its reply for nothing (one
     * array, referenced again and again), but cannot encode it. Its buffer size overflowed an int
     * (or the direct memory ran out), the exception escaped, that reply was dropped and the
     * connection hung; the next reply written would have answered the wrong command.
     */
    @Test
    void aReplyTooLargeToEncodeIsAnErrorInItsPlace() throws IOException {
        cluster = new InMemoryKvCluster(1);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket c = new RespSocket(cluster.port(leader), 10_000)) {
            assertEquals("OK", text(c.call("SET", "big", "x".repeat((8 << 20) - 1024))));
            String[] mget = new String[301];
            mget[0] = "MGET";
            java.util.Arrays.fill(mget, 1, mget.length, "big"); // some 2.5 GB of reply
            c.send(mget);
            c.send("PING");
            c.send("GET", "missing");
            String error = text(c.read());
            assertTrue(error.startsWith("-ERR the reply (about 2516280016 bytes) is larger than one reply can be"), error);
            assertEquals("PONG", text(c.read()), "the replies after it answer their own commands");
            assertEquals(Reply.NIL, c.read());
            assertEquals("1", text(c.call("EXISTS", "big")), "the connection still serves");
        }
    }

    /** Found in a sweep: RAFT.ADDNODE n4 0.0.0.0:7004 added a learner every node dials at its own host. */
    @Test
    void aWildcardAddressIsRefusedForANewMember() throws IOException {
        cluster = new InMemoryKvCluster(1);
        KvNode leader = cluster.awaitLeader();
        try (RespSocket c = new RespSocket(cluster.port(leader), 10_000)) {
            String v4 = text(c.call("RAFT.ADDNODE", "n4", "0.0.0.0:7004"));
            assertTrue(v4.startsWith("-ERR invalid raft address: 0.0.0.0:7004 is the wildcard address"), v4);
            String v6 = text(c.call("RAFT.ADDNODE", "n4", "[::]:7004"));
            assertTrue(v6.startsWith("-ERR invalid raft address: [::]:7004 is the wildcard address"), v6);
            // Not an IPv6 literal: refused as such, where it used to be looked up on the client's event loop.
            assertEquals("-ERR invalid raft address: '[zz:zz]:7004': 'zz:zz' in brackets is not an IPv6 address",
                    text(c.call("RAFT.ADDNODE", "n4", "[zz:zz]:7004")));
            assertEquals(1, leader.raft().status().config().allMembers().size(), "nothing was added");
        }
    }

    private static String command(String... args) {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString();
    }
}

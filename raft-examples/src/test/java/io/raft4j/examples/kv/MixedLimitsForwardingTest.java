package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.raft4j.examples.kv.RespSocket.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follower forwards its clients' commands to a leader whose client limits are smaller than its
 * own, as during a rolling change of {@code --max-bulk-bytes} or {@code --max-request-bytes}.
 */
class MixedLimitsForwardingTest {
    private static final RespLimits SMALL = new RespLimits(64 << 10, 1 << 20, 64 << 10, 64 << 10);
    private InMemoryKvCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aCommandOverTheLeadersLimitsForwardedByAFollowerIsAnsweredClearly() throws Exception {
        cluster = new InMemoryKvCluster(3, s -> s.nodeId().equals("n1")
                ? s.withClients(s.maxClients(), s.maxPipeline(), SMALL) : s);
        KvNode first = cluster.awaitLeader();
        if (!first.nodeId().equals("n1")) {
            first.raft().transferLeadership("n1").get(30, TimeUnit.SECONDS);
        }
        InMemoryKvCluster.await("n1 leading", 30_000, () -> cluster.awaitLeader().nodeId().equals("n1"));
        KvNode follower = cluster.node("n2");
        String big = "x".repeat(100 << 10);
        try (RespSocket f = new RespSocket(cluster.port(follower), 20_000)) {
            assertEquals("OK", text(f.call("SET", "small", "v")), "forwarded to n1");
            // Another client's writes share the forwarding connections; one waits on the leader
            // while the oversized command is forwarded.
            try (RespSocket other = new RespSocket(cluster.port(follower), 20_000)) {
                for (int i = 0; i < 20; i++) {
                    other.send("SET", "other" + i, "v");
                }
                f.send("SET", "before", "v"); // pipelined: forwarded on the same connection just before
                f.send("SET", "big", big);
                assertEquals("OK", text(f.read()), "the write forwarded just before the oversized one");
                String refusal = text(f.read());
                assertTrue(refusal.startsWith("-ERR command not forwarded to the leader at ")
                                && refusal.contains("an argument of 102400 bytes, the leader takes at most 65536"
                                + " (its --max-bulk-bytes)") && refusal.endsWith("nothing was done"),
                        "refused with the leader's limit named, and nothing done: " + refusal);
                for (int i = 0; i < 20; i++) {
                    assertEquals("OK", text(other.read()), "another client's write " + i + " on the follower");
                }
            }
            assertEquals("OK", text(f.call("SET", "after", "v")), "the next write goes through");
            assertEquals(Reply.NIL, f.call("GET", "big"), "nothing was done");
        }
    }

    /** A leader of an earlier version answers a bare {@code +OK}: its limits are unknown and nothing is held back. */
    @Test
    void limitsAreReadFromTheAnnouncementAndUnknownWithoutIt() {
        assertEquals(null, LeaderLimits.parse(Reply.OK));
        assertEquals(null, LeaderLimits.parse(Reply.error("ERR unknown command")));
        RespLimits read = LeaderLimits.parse(LeaderLimits.announce(SMALL));
        assertEquals(SMALL.maxBulkBytes(), read.maxBulkBytes());
        assertEquals(SMALL.maxArrayLength(), read.maxArrayLength());
        assertEquals(SMALL.maxRequestBytes(), read.maxRequestBytes());
        assertEquals(null, LeaderLimits.refusal(read, List.of(new byte[64 << 10]), "a"));
        assertTrue(text(LeaderLimits.refusal(read, List.of(new byte[40 << 10], new byte[40 << 10]), "a"))
                .contains("81920 bytes of arguments, the leader takes at most 65536 (its --max-request-bytes)"));
    }
}

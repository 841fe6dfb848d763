package io.raft4j.transport.netty;

import io.raft4j.RaftNode;
import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's mistake end to end: a three-node cluster runs, and n2 is started a second time
 * elsewhere (its own port, an empty log, the same initial members). The peers refuse the second
 * process and say so at ERROR; the cluster goes on committing, and no node fails.
 */
class DuplicateNodeIdClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final Map<String, String> addresses = new LinkedHashMap<>();
    @RegisterExtension
    final ClosedAfterEach toClose = new ClosedAfterEach();
    private final Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();


    private NettyTransport transport() {
        NettyTransportConfig.Builder b = NettyTransportConfig.builder("dup").listen("127.0.0.1", 0)
                .reconnectBackoff(10, 200).ioThreads(1);
        addresses.forEach(b::peer);
        return NettyTransport.start(b.build());
    }

    private RaftNode<String> node(String id, NettyTransport transport) {
        RaftConfig config = RaftConfig.builder(id).initialMembers(addresses).electionTimeoutTicks(25).build();
        RaftNode<String> node = RaftNode.builder(config, new NettyRaftClusterTest.Recorder()).transport(transport)
                .storage(new InMemoryLogStorage()).tickMillis(20).build();
        toClose.add(node);
        node.start();
        return node;
    }

    @Test
    void aSecondProcessUnderAMembersIdIsRefusedAndTheClusterGoesOn() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            Map<String, NettyTransport> transports = new LinkedHashMap<>();
            for (String id : List.of("n1", "n2", "n3")) {
                NettyTransport t = transport();
                transports.put(id, t);
                addresses.put(id, "127.0.0.1:" + t.localPort());
            }
            for (String id : List.of("n1", "n2", "n3")) {
                NettyTransport t = transports.get(id);
                t.updatePeers("g0", addresses);   // the others' ports, known only now
                toClose.add(t);
                nodes.put(id, node(id, t));
            }
            propose("before");

            NettyTransport elsewhere = transport();
            toClose.add(elsewhere);
            RaftNode<String> duplicate = node("n2", elsewhere);

            Await.until(WAIT, "the peers to name the duplicate at ERROR",
                    () -> !log.linesWith("two processes claim to be node n2").isEmpty());
            for (int i = 0; i < 5; i++) {
                propose("after-" + i);
            }
            for (RaftNode<String> n : nodes.values()) {
                assertNull(n.failure(), n.status().toString());
            }
            assertTrue(!duplicate.isLeader(), "the duplicate leads");
            assertEquals(1, duplicate.status().term(), "the duplicate never won a pre-vote: " + duplicate.status());
        }
    }

    private void propose(String command) throws Exception {
        for (int attempt = 0; ; attempt++) {
            Await.until(WAIT, "a leader", () -> nodes.values().stream().anyMatch(RaftNode::isLeader));
            RaftNode<String> leader = nodes.values().stream().filter(RaftNode::isLeader).findFirst().orElseThrow();
            try {
                assertEquals(command, leader.propose(Bytes.ofUtf8(command)).get(WAIT.toSeconds(), TimeUnit.SECONDS));
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt > 5) {
                    throw e;
                }
            }
        }
    }
}

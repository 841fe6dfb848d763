package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's embedding example, kept compiling and passing: a 3-node cluster in a few lines. */
class EmbeddingExampleTest {

    /** A tiny replicated map: commands are "key=value", queries are keys. */
    static final class MapStateMachine implements StateMachine<String> {
        private final Map<String, String> map = new HashMap<>();

        @Override
        public String apply(long index, Bytes command) {
            String[] kv = command.toUtf8().split("=", 2);
            return map.put(kv[0], kv[1]);
        }

        @Override
        public String query(Bytes key) {
            return map.get(key.toUtf8());
        }
    }

    @Test
    void threeNodeClusterInAFewLines() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        List<RaftNode<String>> nodes = new ArrayList<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3").build();
                RaftNode<String> node = RaftNode.builder(config, new MapStateMachine())
                        .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
                node.start();
                nodes.add(node);
            }
            LocalCluster.await(Duration.ofSeconds(10), () -> nodes.stream().anyMatch(RaftNode::isLeader));
            RaftNode<String> leader = nodes.stream().filter(RaftNode::isLeader).findFirst().orElseThrow();
            leader.propose(Bytes.ofUtf8("x=1")).get(5, TimeUnit.SECONDS);
            assertEquals("1", leader.query(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS));
        } finally {
            nodes.forEach(RaftNode::close);
            network.close();
        }
    }
}

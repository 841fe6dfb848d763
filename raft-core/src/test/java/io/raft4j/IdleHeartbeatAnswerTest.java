package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A follower with nothing to write answers a heartbeat from its event loop: every write before the
 * answer is durable already, so there is nothing for the answer to wait on. Handed to the storage
 * thread, each heartbeat of each group cost two thread wake-ups (to the storage thread and, from it,
 * to the transport), which in a process hosting many groups was most of its idle CPU (300 groups on
 * three in-process nodes: the storage threads took 26% of a core, the transport's I/O threads 28%).
 */
class IdleHeartbeatAnswerTest {
    @Test
    void anIdleFollowerAnswersHeartbeatsWithoutTheStorageThread() throws Exception {
        Queue<String> answeredOn = new ConcurrentLinkedQueue<>();
        InMemoryTransport network = new InMemoryTransport();
        ForwardingTransport watched = new ForwardingTransport(network) {
            @Override
            public void send(RaftMessage m) {
                if (m instanceof AppendEntriesResponse) {
                    answeredOn.add(Thread.currentThread().getName());
                }
                super.send(m);
            }
        };
        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                        .electionTimeoutTicks(LocalCluster.STEADY_LEADER_ELECTION_TICKS).build();
                nodes.put(id, RaftNode.builder(config, new StalledDiskGroup.Register()).transport(watched)
                        .storage(new WriterThreadStorage(new InMemoryLogStorage())).tickMillis(10).build());
            }
            nodes.values().forEach(RaftNode::start);
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(nodes.values());
            assertEquals("x", leader.propose(Bytes.ofUtf8("set:x")).get(10, TimeUnit.SECONDS));
            long last = leader.status().lastIndex();
            LocalCluster.await(Duration.ofSeconds(10), () -> nodes.values().stream()
                    .allMatch(n -> n.status().commitIndex() >= last && n.status().lastIndex() >= last));

            answeredOn.clear(); // from here on the log stands still: the answers are to heartbeats
            LocalCluster.await(Duration.ofSeconds(10), () -> answeredOn.size() >= 20);
            List<String> onStorageThread = answeredOn.stream().filter(name -> name.startsWith("raft-log-")).toList();
            assertEquals(List.of(), onStorageThread, "heartbeat answers handed to the storage thread");
        } finally {
            nodes.values().forEach(RaftNode::close);
            network.close();
        }
    }
}

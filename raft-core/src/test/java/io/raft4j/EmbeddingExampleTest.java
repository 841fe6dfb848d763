package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.session.ClientSession;
import io.raft4j.session.SessionResult;
import io.raft4j.session.SessionStateMachine;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The samples of the README's "Embedding" section and of docs/embedding.md's sessions, kept
 * compiling and passing on the in-memory transport and storage: the calls as the docs write them.
 */
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

    /** The README's commands: "SET key value" answers "OK", queries are "GET key". */
    static final class SetGetStateMachine implements StateMachine<String> {
        private final Map<String, String> map = new HashMap<>();

        @Override
        public String apply(long index, Bytes command) {
            String[] parts = command.toUtf8().split(" ", 3);
            if (parts.length != 3 || !parts[0].equals("SET")) {
                return "ERR " + command.toUtf8(); // an answer, never an exception (docs/embedding.md)
            }
            map.put(parts[1], parts[2]);
            return "OK";
        }

        @Override
        public String query(Bytes query) {
            String[] parts = query.toUtf8().split(" ", 2);
            return parts.length == 2 && parts[0].equals("GET") ? map.get(parts[1]) : null;
        }
    }

    /** docs/embedding.md's state machine, as the doc writes it. */
    static final class Counter implements StateMachine<Long> {
        private long value;

        @Override
        public Long apply(long index, Bytes command) {
            try {
                value = Math.addExact(value, Long.parseLong(command.toUtf8()));
            } catch (NumberFormatException | ArithmeticException e) {
                return null;
            }
            return value;
        }

        @Override
        public Long query(Bytes query) {
            return value;
        }

        @Override
        public Snapshot snapshot() {
            long view = value;
            return out -> new DataOutputStream(out).writeLong(view);
        }

        @Override
        public void restore(InputStream in) throws IOException {
            value = new DataInputStream(in).readLong();
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

    /**
     * The README's first sample on every node: wait for a leader, propose only on it, then read
     * linearizably on any node. Elections of 0.5-1 s (not the README's 0.1-0.2 s at 10 ms ticks) so
     * that a loaded machine does not depose the leader between isLeader() and propose().
     */
    @Test
    void readmeSampleRunsOnEveryNode() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        List<RaftNode<String>> nodes = new ArrayList<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                        .electionTimeoutTicks(50).build();
                RaftNode<String> node = RaftNode.builder(config, new SetGetStateMachine())
                        .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
                node.start();
                nodes.add(node);
            }
            String leaderId = nodes.get(0).whenLeaderKnown().get(10, TimeUnit.SECONDS);
            // The leader first, so that the reads on the others come after the write.
            nodes.sort((a, b) -> Boolean.compare(!a.id().equals(leaderId), !b.id().equals(leaderId)));
            for (RaftNode<String> node : nodes) {
                node.whenLeaderKnown().get(10, TimeUnit.SECONDS);
                if (node.isLeader()) {
                    assertEquals("OK", node.propose(Bytes.ofUtf8("SET x 1")).get(5, TimeUnit.SECONDS));
                }
                assertEquals("1", node.query(Bytes.ofUtf8("GET x")).get(5, TimeUnit.SECONDS));
            }
        } finally {
            nodes.forEach(RaftNode::close);
            network.close();
        }
    }

    /**
     * docs/embedding.md's recipe for restarting a node in a test: close it and build a new one, with a
     * new state machine, on the same in-memory log and snapshot store. Snapshots every few entries,
     * none kept behind them, so that the log is compacted before the restart: a node given no
     * snapshot store (the README's sample) keeps its snapshots in a store of its own, and the new
     * node then refused to start ("the log is compacted up to 20 but the latest usable snapshot ends
     * at 0"), which the doc did not say.
     */
    @Test
    void restartRecipeBringsANodeBackFromItsLogAndSnapshots() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        Map<String, InMemoryLogStorage> logs = new HashMap<>();
        Map<String, InMemorySnapshotStore> snapshotStores = new HashMap<>();
        Map<String, RaftNode<Long>> nodes = new HashMap<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                logs.put(id, new InMemoryLogStorage());
                snapshotStores.put(id, new InMemorySnapshotStore());
                nodes.put(id, counterNode(id, network, logs.get(id), snapshotStores.get(id)));
                nodes.get(id).start();
            }
            RaftNode<Long> leader = LocalCluster.awaitSettledLeader(nodes.values());
            for (int i = 0; i < 20; i++) {
                LocalCluster.retryingNotLeader(() -> LocalCluster.awaitSettledLeader(nodes.values()).propose(Bytes.ofUtf8("1")));
            }
            String id = nodes.keySet().stream().filter(n -> !n.equals(leader.id())).findFirst().orElseThrow();
            LocalCluster.await(Duration.ofSeconds(10), () -> logs.get(id).firstIndex() > 1,
                    () -> "the log of " + id + " is not compacted: " + logs.get(id));

            nodes.remove(id).close();
            RaftNode<Long> restarted = counterNode(id, network, logs.get(id), snapshotStores.get(id));
            nodes.put(id, restarted);
            restarted.start();

            LocalCluster.await(Duration.ofSeconds(10),
                    () -> Long.valueOf(20).equals(restarted.query(Bytes.EMPTY, ReadConsistency.STALE).join()));
        } finally {
            nodes.values().forEach(RaftNode::close);
            network.close();
        }
    }

    private static RaftNode<Long> counterNode(String id, InMemoryTransport network, InMemoryLogStorage log,
                                              InMemorySnapshotStore snapshots) {
        RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3").electionTimeoutTicks(50)
                .snapshotEveryEntries(5).snapshotTrailingEntries(0).build();
        return RaftNode.builder(config, new Counter())
                .transport(network).storage(log).snapshots(snapshots).tickMillis(10).build();
    }

    /** docs/embedding.md's sessions sample: a retry of the same bytes is answered, not applied again. */
    @Test
    void sessionsSampleAppliesARetryOnce() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        List<RaftNode<SessionResult<Long>>> nodes = new ArrayList<>();
        try {
            SessionStateMachine.ResultCodec<Long> longCodec = new SessionStateMachine.ResultCodec<>() {
                public byte[] encode(Long r) { return ByteBuffer.allocate(8).putLong(r).array(); }
                public Long decode(byte[] b) { return ByteBuffer.wrap(b).getLong(); }
            };
            for (String id : List.of("n1", "n2", "n3")) {
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                        .electionTimeoutTicks(50).build();
                RaftNode<SessionResult<Long>> node = RaftNode.builder(config, new SessionStateMachine<>(new Counter(), longCodec))
                        .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
                node.start();
                nodes.add(node);
            }
            Sample sample = new Sample(nodes);

            ClientSession session = ClientSession.registered(sample.untilAnswered(ClientSession.registration()));
            ClientSession.Command add = session.command(Bytes.ofUtf8("10"));
            SessionResult<Long> r = sample.untilAnswered(add.bytes());
            SessionResult<Long> retry = sample.untilAnswered(add.bytes());
            session.finished(add);

            assertEquals(SessionResult.Status.APPLIED, r.status());
            assertEquals(10L, r.value());
            assertEquals(SessionResult.Status.DUPLICATE, retry.status());
            assertEquals(10L, retry.value());
            SessionResult<Long> balance = sample.currentLeader().query(Bytes.ofUtf8("balance")).get(5, TimeUnit.SECONDS);
            assertEquals(SessionResult.Status.APPLIED, balance.status());
            assertEquals(10L, balance.value());
        } finally {
            nodes.forEach(RaftNode::close);
            network.close();
        }
    }

    /** The doc's {@code untilAnswered}, with its {@code currentLeader()} and {@code backOff} filled in. */
    private static final class Sample {
        private final List<RaftNode<SessionResult<Long>>> nodes;

        Sample(List<RaftNode<SessionResult<Long>>> nodes) {
            this.nodes = nodes;
        }

        RaftNode<SessionResult<Long>> currentLeader() {
            LocalCluster.await(Duration.ofSeconds(10), () -> nodes.stream().anyMatch(RaftNode::isLeader));
            return nodes.stream().filter(RaftNode::isLeader).findFirst().orElse(nodes.get(0));
        }

        SessionResult<Long> untilAnswered(Bytes command) throws InterruptedException, ExecutionException {
            while (true) {
                try {
                    return currentLeader().propose(command).get(5, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    // slow: retry the same bytes
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (!(c instanceof NotLeaderException || c instanceof IndeterminateException
                            || c instanceof OverloadedException || c instanceof RaftStoppedException)) {
                        throw e;
                    }
                }
                Thread.sleep(20);
            }
        }
    }
}

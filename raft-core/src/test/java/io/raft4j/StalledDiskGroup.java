package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Three nodes on an in-memory network, each on a log a test can stall ({@link StallableStorage}). */
final class StalledDiskGroup implements AutoCloseable {
    /** Election timeout: 10 ticks of 10 ms. */
    static final int ELECTION_TICKS = 10;
    static final int TICK_MILLIS = 10;

    /** A register: {@code set:v} sets it and answers v; a query answers it. */
    static final class Register implements StateMachine<String> {
        private volatile String value = "";

        @Override
        public String apply(long index, Bytes command) {
            String c = command.toUtf8();
            if (c.startsWith("set:")) {
                value = c.substring(4);
            }
            return value;
        }

        @Override
        public String query(Bytes query) {
            return value;
        }
    }

    final InMemoryTransport network = new InMemoryTransport();
    final Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
    final Map<String, StallableStorage> disks = new LinkedHashMap<>();

    StalledDiskGroup(UnaryOperator<RaftConfig.Builder> settings) {
        this(settings, false);
    }

    /** With {@code persistOnLoop}, a follower's writes (and so its stalls) hold its event loop. */
    StalledDiskGroup(UnaryOperator<RaftConfig.Builder> settings, boolean persistOnLoop) {
        for (String id : List.of("n1", "n2", "n3")) {
            StallableStorage disk = new StallableStorage(new InMemoryLogStorage());
            RaftConfig config = settings.apply(RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                    .electionTimeoutTicks(ELECTION_TICKS)).build();
            RaftNode<String> node = RaftNode.builder(config, new Register()).transport(network)
                    .storage(disk).tickMillis(TICK_MILLIS).persistOnLoop(persistOnLoop).build();
            disks.put(id, disk);
            nodes.put(id, node);
        }
        nodes.values().forEach(RaftNode::start);
    }

    RaftNode<String> awaitLeader() {
        return LocalCluster.awaitSettledLeader(nodes.values());
    }

    long electionsStartedBy(List<RaftNode<String>> some) {
        return some.stream().mapToLong(n -> n.stats().electionsStarted()).sum();
    }

    @Override
    public void close() {
        disks.values().forEach(StallableStorage::release);
        nodes.values().forEach(RaftNode::close);
        network.close();
    }
}

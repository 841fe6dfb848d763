package io.raft4j.examples;

import io.raft4j.RaftNode;
import io.raft4j.core.RaftConfig;
import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StateMachine;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import io.raft4j.transport.netty.NettyTransport;
import io.raft4j.transport.netty.NettyTransportConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One process's worth of a multi-group test, as docs/embedding.md describes hosting several groups:
 * one Netty transport and one RocksDB store, shared by this process's node of every group, each
 * group with its own snapshot directory.
 */
final class GroupProcess implements AutoCloseable {
    final Path dataDir;
    final NettyTransport transport;
    final RocksDbLogStore logs;
    final Map<String, LogStorage> groupLogs = new LinkedHashMap<>();
    final Map<String, FileSnapshotStore> snapshots = new LinkedHashMap<>();
    final Map<String, RaftNode<Long>> nodes = new LinkedHashMap<>();
    private final int tickMillis;
    private final UnaryOperator<RaftConfig.Builder> settings;

    /**
     * Opens the store in {@code dataDir} and starts the transport on {@code port} (0: any); every
     * node started here ticks every {@code tickMillis} and gets {@code settings} on top of the
     * defaults.
     */
    GroupProcess(Path dataDir, String clusterId, int port, int tickMillis, UnaryOperator<RaftConfig.Builder> settings)
            throws IOException {
        this.dataDir = dataDir;
        this.tickMillis = tickMillis;
        this.settings = settings;
        Files.createDirectories(dataDir);
        logs = RocksDbLogStore.open(dataDir);
        transport = NettyTransport.start(NettyTransportConfig.builder(clusterId).listen("127.0.0.1", port).build());
    }

    /** Starts this process's node {@code id} of {@code group}, on the shared transport and store. */
    RaftNode<Long> start(String id, String group, Map<String, String> members, StateMachine<Long> machine) {
        groupLogs.put(group, logs.forGroup(group));
        snapshots.put(group, new FileSnapshotStore(dataDir.resolve("snapshots").resolve(group)));
        RaftConfig config = settings.apply(RaftConfig.builder(id).groupId(group).initialMembers(members)).build();
        RaftNode<Long> node = RaftNode.builder(config, machine).transport(transport).storage(groupLogs.get(group))
                .snapshots(snapshots.get(group)).tickMillis(tickMillis).build();
        nodes.put(group, node);
        node.start();
        return node;
    }

    /** Closes this process's node of {@code group} and its storage; the other groups go on. */
    void stop(String group) {
        nodes.remove(group).close();
        snapshots.remove(group).close();
        groupLogs.remove(group).close();
    }

    /** Closes in the order an embedder must: the nodes, then what they used. */
    @Override
    public void close() {
        nodes.values().forEach(RaftNode::close);
        transport.close();
        snapshots.values().forEach(FileSnapshotStore::close);
        groupLogs.values().forEach(LogStorage::close);
        logs.close();
    }
}

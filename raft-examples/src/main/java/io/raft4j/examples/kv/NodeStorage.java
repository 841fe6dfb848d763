package io.raft4j.examples.kv;

import io.raft4j.snapshot.FileSnapshotStore;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import io.raft4j.storage.rocksdb.RocksDbLogStore;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The node's log (RocksDB, in {@code log/}) and snapshots (in {@code snapshots/}) of its data
 * directory, opened and closed together. What the storage throws while opening becomes a one-line
 * message naming the directory, for the command line to report as a refusal rather than a stack
 * trace; whatever was already open is closed first.
 */
final class NodeStorage implements AutoCloseable {
    /** The one Raft group of a KV node. */
    static final String GROUP = "kv";

    final RocksDbLogStore logStore;
    final LogStorage log;
    final FileSnapshotStore snapshots;

    private NodeStorage(RocksDbLogStore logStore, LogStorage log, FileSnapshotStore snapshots) {
        this.logStore = logStore;
        this.log = log;
        this.snapshots = snapshots;
    }

    /**
     * @param data  the data directory, absolute
     * @param shown the data directory as the user gave it, for messages
     * @throws IllegalArgumentException saying what could not be opened and why
     */
    static NodeStorage open(Path data, Path shown) {
        RocksDbLogStore logStore;
        try {
            logStore = RocksDbLogStore.open(data);
        } catch (StorageException e) {
            if (String.valueOf(e.getMessage()).contains(data.resolve("log").resolve("LOCK").toString())) {
                // RocksDB's lock on its directory, held by whoever has the log open: said in words,
                // where RocksDB says "While lock file: .../LOCK: Resource temporarily unavailable".
                throw new IllegalArgumentException("--data-dir: " + shown + " is in use: its log is open in another"
                        + " process (is this node already running?) or elsewhere in this one. Stop that one first,"
                        + " or give this node a directory of its own. Nothing was changed", e);
            }
            throw new IllegalArgumentException("--data-dir: cannot open the log in " + shown + ": " + e.getMessage(), e);
        }
        LogStorage log = null;
        try {
            try {
                log = logStore.forGroup(GROUP);
            } catch (StorageException e) {
                throw new IllegalArgumentException("--data-dir: cannot open the log in " + shown + ": " + e.getMessage(), e);
            }
            Path snapshotDir = data.resolve("snapshots");
            try {
                return new NodeStorage(logStore, log, new FileSnapshotStore(snapshotDir));
            } catch (StorageException e) {
                String why = e.getCause() instanceof IOException io ? PathErrors.describe(io) : e.getMessage();
                throw new IllegalArgumentException("--data-dir: cannot open the snapshots in " + snapshotDir + ": " + why, e);
            }
        } catch (RuntimeException e) {
            if (log != null) {
                log.close();
            }
            logStore.close();
            throw e;
        }
    }

    @Override
    public void close() {
        snapshots.close();
        log.close();
        logStore.close();
    }
}

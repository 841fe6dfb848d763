package io.raft4j.memory;

import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A {@link SnapshotStore} in memory, for tests and simulations: survives a simulated restart when
 * the same instance is handed to the restarted node. Keeps the {@code retain} snapshots of the
 * highest indexes, and also an older one that was read since the previous publish: it is being
 * streamed to a follower, and dropping it would restart that transfer from scratch (with a leader
 * snapshotting faster than a transfer takes, for ever). It goes at the first publish after its
 * transfer ends. (No clock is involved, so simulations stay deterministic.) A snapshot published
 * at the index of a kept one leaves that one in place and returns it.
 * Thread-safe.
 */
public final class InMemorySnapshotStore implements SnapshotStore {
    private record Stored(SnapshotInfo info, byte[] content) {
    }

    private final int retain;
    /** By last index: the latest is the highest, whatever order they were published in. */
    private final TreeMap<Long, Stored> snapshots = new TreeMap<>();
    /** Indexes read since the last publish: snapshots being streamed (guarded by {@code this}). */
    private final Set<Long> readSincePublish = new HashSet<>();

    /** A store keeping the newest {@code retain} (at least 1) published snapshots. */
    public InMemorySnapshotStore(int retain) {
        if (retain < 1) {
            throw new IllegalArgumentException("retain must be at least 1");
        }
        this.retain = retain;
    }

    /** A store keeping the newest two published snapshots. */
    public InMemorySnapshotStore() {
        this(2);
    }

    @Override
    public synchronized Optional<SnapshotInfo> latest() {
        return snapshots.isEmpty() ? Optional.empty() : Optional.of(snapshots.lastEntry().getValue().info());
    }

    private synchronized Stored find(long lastIndex) {
        Stored s = snapshots.get(lastIndex);
        if (s == null) {
            throw new StorageException("no snapshot at index " + lastIndex);
        }
        return s;
    }

    @Override
    public Bytes read(long lastIndex, long offset, int maxBytes) {
        byte[] content;
        synchronized (this) {
            content = find(lastIndex).content();
            readSincePublish.add(lastIndex);
        }
        int from = (int) Math.min(offset, content.length);
        int to = (int) Math.min((long) from + maxBytes, content.length);
        return Bytes.wrap(Arrays.copyOfRange(content, from, to));
    }

    @Override
    public InputStream open(long lastIndex) {
        return new ByteArrayInputStream(find(lastIndex).content());
    }

    @Override
    public Sink begin(SnapshotMeta meta) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        return new Sink() {
            // Guarded by the sink: the node stopping abandons a snapshot being received from its
            // closing thread, while the writer thread may still be on its way to publish it.
            private boolean published;
            private boolean abandoned;

            @Override
            public OutputStream out() {
                return buffer;
            }

            @Override
            public long written() {
                return buffer.size();
            }

            @Override
            public synchronized SnapshotInfo publish(Long expectedChecksum) {
                if (abandoned) {
                    // Its content is gone: published, it would be an empty snapshot taken for the latest.
                    throw new StorageException("snapshot " + meta.lastIndex() + " was abandoned: nothing to publish");
                }
                byte[] content = buffer.toByteArray();
                CRC32C crc = new CRC32C();
                crc.update(content);
                if (expectedChecksum != null && expectedChecksum != crc.getValue()) {
                    throw new StorageException("snapshot " + meta.lastIndex() + " checksum mismatch");
                }
                SnapshotInfo info = new SnapshotInfo(meta, content.length, crc.getValue());
                synchronized (InMemorySnapshotStore.this) {
                    Stored existing = snapshots.get(meta.lastIndex());
                    if (existing != null) {
                        // One of this index is kept (takeSnapshot() with nothing applied since): the same
                        // committed state, so it stays. Replaced by other bytes (a map serialised in
                        // another order), it changed under a transfer whose CRC the leader had announced:
                        // the follower refused it, and was sent the same mismatch again, for ever.
                        published = true;
                        buffer.reset();
                        return existing.info();
                    }
                    snapshots.put(meta.lastIndex(), new Stored(info, content));
                    dropOld();
                }
                published = true;
                return info;
            }

            @Override
            public synchronized void close() {
                if (!published) {
                    abandoned = true;
                    buffer.reset();
                }
            }
        };
    }

    /**
     * Drops the snapshots older than the {@code retain} newest, except those being streamed: these
     * are kept besides the newest, not in place of one of them.
     */
    private void dropOld() {
        Iterator<Long> oldestFirst = snapshots.keySet().iterator();
        for (int older = snapshots.size() - retain; older > 0; older--) {
            if (!readSincePublish.contains(oldestFirst.next())) {
                oldestFirst.remove();
            }
        }
        readSincePublish.clear();
    }

    @Override
    public void close() {
    }
}

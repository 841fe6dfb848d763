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
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A {@link SnapshotStore} in memory, for tests and simulations: survives a simulated restart when
 * the same instance is handed to the restarted node. Keeps the {@code retain} snapshots of the
 * highest indexes.
 * Thread-safe.
 */
public final class InMemorySnapshotStore implements SnapshotStore {
    private record Stored(SnapshotInfo info, byte[] content) {
    }

    private final int retain;
    /** By last index: the latest is the highest, whatever order they were published in. */
    private final TreeMap<Long, Stored> snapshots = new TreeMap<>();

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
        byte[] content = find(lastIndex).content();
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
            private boolean published;

            @Override
            public OutputStream out() {
                return buffer;
            }

            @Override
            public long written() {
                return buffer.size();
            }

            @Override
            public SnapshotInfo publish(Long expectedChecksum) {
                byte[] content = buffer.toByteArray();
                CRC32C crc = new CRC32C();
                crc.update(content);
                if (expectedChecksum != null && expectedChecksum != crc.getValue()) {
                    throw new StorageException("snapshot " + meta.lastIndex() + " checksum mismatch");
                }
                SnapshotInfo info = new SnapshotInfo(meta, content.length, crc.getValue());
                synchronized (InMemorySnapshotStore.this) {
                    snapshots.put(meta.lastIndex(), new Stored(info, content));
                    while (snapshots.size() > retain) {
                        snapshots.pollFirstEntry();
                    }
                }
                published = true;
                return info;
            }

            @Override
            public void close() {
                if (!published) {
                    buffer.reset();
                }
            }
        };
    }

    @Override
    public void close() {
    }
}

package io.raft4j.spi;

import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

/**
 * Where a node keeps its state-machine snapshots: written whole to a temporary place, checksummed,
 * and published atomically; the last few are kept.
 *
 * <h2>Threading</h2>
 * {@link #latest()} and {@link #read} are called from the node's event loop (to stream snapshots
 * to followers) and may run while a new snapshot is being written from another thread. Two
 * snapshots may be written at once, from two threads: one the node takes of its own state machine,
 * and one received from the leader meanwhile. They may publish in either order, so the latest is
 * always the published snapshot with the highest last index, never simply the last one published.
 */
public interface SnapshotStore extends AutoCloseable {

    /**
     * A published snapshot.
     *
     * @param meta      what it covers
     * @param sizeBytes length of its content
     * @param checksum  CRC32C of its content
     */
    record SnapshotInfo(SnapshotMeta meta, long sizeBytes, long checksum) {
    }

    /** The newest published snapshot, if any. */
    Optional<SnapshotInfo> latest();

    /**
     * Up to {@code maxBytes} of the content of the published snapshot covering {@code lastIndex},
     * starting at {@code offset}.
     *
     * @throws StorageException if that snapshot is no longer kept or cannot be read
     */
    Bytes read(long lastIndex, long offset, int maxBytes);

    /** Opens the content of the published snapshot covering {@code lastIndex} for a restore. */
    InputStream open(long lastIndex) throws IOException;

    /** Starts writing a new snapshot; nothing is visible until {@link Sink#publish(Long)}. */
    Sink begin(SnapshotMeta meta) throws IOException;

    /** A snapshot being written. */
    interface Sink extends AutoCloseable {
        /** Where to write the content. */
        OutputStream out();

        /** Bytes written so far. */
        long written();

        /**
         * Makes the snapshot durable and visible, atomically (as the latest unless a snapshot with a
         * higher last index is already published), and drops those with the lowest last indexes
         * beyond the retention count. If {@code expectedChecksum} is not {@code null} and differs from
         * the content's, nothing is published and {@link StorageException} is thrown.
         */
        SnapshotInfo publish(Long expectedChecksum) throws IOException;

        /** Abandons the snapshot (no effect after publish). */
        @Override
        void close();
    }

    @Override
    void close();
}

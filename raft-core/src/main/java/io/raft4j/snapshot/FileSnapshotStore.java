package io.raft4j.snapshot;

import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * Snapshots as files in one directory: {@code snapshot-<index>.data} holds the state machine's
 * content, {@code snapshot-<index>.meta} what it covers, its size and CRC32C (and a CRC of the meta
 * itself). A snapshot is written under temporary names, forced to disk, and published by renaming
 * the data and then the meta file (the commit point), then forcing the directory.
 *
 * <p>At open, every snapshot is verified (meta checksum, data size and CRC32C); corrupt or partial
 * ones (a crash between the two renames, or between the two deletes of an old snapshot) are logged
 * and ignored, so the newest valid one is the latest. Their files are kept for inspection while
 * they are newer than the latest valid snapshot, and deleted once a newer one is published. The last {@code retain}
 * snapshots are kept; an older one that was read within the last {@code pinMillis} (being streamed
 * to a follower) is kept until that transfer goes quiet. A snapshot published at the index of one
 * published already leaves that one in place (same index, same committed state) and returns it.
 */
public final class FileSnapshotStore implements SnapshotStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileSnapshotStore.class);
    private static final int META_MAGIC = 0x52344A53; // "R4JS"
    private static final int META_VERSION = 1;

    private final Path dir;
    private final int retain;
    private final long pinNanos;
    private final TreeMap<Long, SnapshotInfo> published = new TreeMap<>();
    private final Map<Long, Long> lastReadNanos = new ConcurrentHashMap<>();
    /** Indexes of snapshot files found at open that are not a valid snapshot. */
    private final TreeSet<Long> strays = new TreeSet<>();
    /** Held by a publish throughout: see {@link FileSink#publish}. */
    private final Object publishLock = new Object();
    private volatile FileOpener dataFileOpener = Files::newOutputStream;
    private volatile DirectorySync directorySync = FileSnapshotStore::forceDirectory;

    /** Opens a snapshot's temporary data file for writing; replaced in tests to inject I/O errors. */
    interface FileOpener {
        OutputStream open(Path file) throws IOException;
    }

    /** Makes the renames in a directory durable; replaced in tests to inject I/O errors. */
    interface DirectorySync {
        void force(Path dir) throws IOException;
    }

    /**
     * Opens (creating if needed) the store in {@code dir}, keeping {@code retain} snapshots, and
     * older ones read within the last {@code pinMillis} ({@code Long.MAX_VALUE}: for ever).
     *
     * @throws IllegalArgumentException if {@code retain} is below 1 or {@code pinMillis} below 0
     * @throws StorageException if the directory cannot be used
     */
    public FileSnapshotStore(Path dir, int retain, long pinMillis) {
        if (retain < 1) {
            throw new IllegalArgumentException("retain must be at least 1, was " + retain);
        }
        if (pinMillis < 0) {
            throw new IllegalArgumentException("pinMillis must be at least 0, was " + pinMillis);
        }
        this.dir = Objects.requireNonNull(dir, "dir");
        this.retain = retain;
        // Saturating: Long.MAX_VALUE (pin for ever) wrapped to a negative time, which pinned nothing,
        // and a snapshot could be deleted while a follower was being sent it.
        this.pinNanos = pinMillis > Long.MAX_VALUE / 1_000_000L ? Long.MAX_VALUE : pinMillis * 1_000_000L;
        try {
            Files.createDirectories(dir);
            deleteTemporaryFiles();
            loadPublished();
        } catch (IOException e) {
            throw new StorageException("cannot open snapshot directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A store keeping 3 snapshots, pinning those read within the last minute. */
    public FileSnapshotStore(Path dir) {
        this(dir, 3, 60_000);
    }

    /**
     * Deletes the snapshots kept in {@code dir}, for good: for a group this node no longer serves
     * (removed from the group, or the group retired), once its node is closed. Deletes the files a
     * store writes there ({@code snapshot-*.meta}, {@code snapshot-*.data}, temporary {@code tmp-*}
     * files), then {@code dir} itself if nothing else is left in it. Files of other names are not
     * a store's and stay, and so does the directory then. A directory that does not exist is
     * already deleted.
     *
     * <p>Crash-safe: the meta files go first, oldest first (a snapshot without its meta file is
     * not a snapshot to a store), the directory is synced, then the data and temporary files go.
     * A crash half-way leaves a store whose newest snapshots are gone, or none, never one whose
     * latest snapshot is an older one than before nor a meta file describing a missing file;
     * calling again finishes. For a group stored in a {@code RocksDbLogStore}, delete its
     * snapshots before its log ({@code docs/storage.md}, "Deleting a group for good").
     *
     * <p>Not to be called while a store is in use on {@code dir}: a node still running would fail
     * its next snapshot, and a follower it serves would find the snapshot gone.
     *
     * @return whether {@code dir} is gone; {@code false} if it holds files no store wrote, left there
     * @throws StorageException if a file or the directory cannot be deleted, or the directory not synced
     */
    public static boolean deleteDirectory(Path dir) {
        return deleteDirectory(dir, file -> { });
    }

    /** {@link #deleteDirectory(Path)}, calling {@code afterEachDelete} after each file (for tests that stop half-way). */
    static boolean deleteDirectory(Path dir, Consumer<Path> afterEachDelete) {
        Objects.requireNonNull(dir, "dir");
        if (!Files.isDirectory(dir)) {
            return !Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
        }
        try {
            // Newest last: while any meta file is left, the newest snapshot is still the latest.
            TreeMap<Long, Path> metas = new TreeMap<>();
            List<Path> rest = new ArrayList<>();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "{snapshot-*.meta,snapshot-*.data,tmp-*}")) {
                for (Path file : files) {
                    Optional<Long> index = indexOf(file);
                    if (file.getFileName().toString().endsWith(".meta") && index.isPresent()) {
                        metas.put(index.get(), file);
                    } else {
                        rest.add(file);
                    }
                }
            }
            for (Path meta : metas.values()) {
                Files.deleteIfExists(meta);
                afterEachDelete.accept(meta);
            }
            forceDirectory(dir);
            for (Path file : rest) {
                Files.deleteIfExists(file);
                afterEachDelete.accept(file);
            }
            try (DirectoryStream<Path> left = Files.newDirectoryStream(dir)) {
                if (left.iterator().hasNext()) {
                    forceDirectory(dir);
                    LOG.info("deleted the snapshots in {}; other files there are left, with the directory", dir);
                    return false;
                }
            }
            Files.delete(dir);
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                forceDirectory(parent);
            }
            return true;
        } catch (IOException e) {
            throw new StorageException("cannot delete the snapshots in " + dir + ": " + e.getMessage()
                    + " (calling again goes on from there)", e);
        }
    }

    /** Names the directory, as error messages about the snapshots found (or not) here should. */
    @Override
    public String toString() {
        return "FileSnapshotStore[" + dir + "]";
    }

    private void deleteTemporaryFiles() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "tmp-*")) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    private void loadPublished() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "snapshot-*.{meta,data}")) {
            for (Path file : files) {
                indexOf(file).ifPresent(strays::add);
            }
        }
        try (DirectoryStream<Path> metas = Files.newDirectoryStream(dir, "snapshot-*.meta")) {
            for (Path meta : metas) {
                try {
                    SnapshotInfo info = readMeta(meta);
                    verifyData(info);
                    published.put(info.meta().lastIndex(), info);
                    strays.remove(info.meta().lastIndex());
                } catch (IOException | RuntimeException e) {
                    LOG.warn("ignoring corrupt or partial snapshot {}: {}", meta.getFileName(), e.getMessage());
                }
            }
        }
        for (long stray : strays.tailSet(published.isEmpty() ? 0 : published.lastKey())) {
            LOG.warn("snapshot files at {} are not a valid snapshot: kept until a newer snapshot is published", stray);
        }
        deleteStraysBelowLatest();
    }

    private static Optional<Long> indexOf(Path file) {
        String name = file.getFileName().toString();
        try {
            return Optional.of(Long.parseLong(name.substring("snapshot-".length(), name.lastIndexOf('.'))));
        } catch (RuntimeException e) {
            return Optional.empty(); // not a name this store writes: not ours to delete
        }
    }

    /** Deletes the files of invalid snapshots older than the latest valid one: nothing can use them. */
    private void deleteStraysBelowLatest() {
        if (published.isEmpty()) {
            return;
        }
        var below = strays.headSet(published.lastKey());
        for (Long index : below) {
            try {
                Files.deleteIfExists(metaFile(index));
                Files.deleteIfExists(dataFile(index));
            } catch (IOException e) {
                LOG.warn("cannot delete the invalid snapshot {}: {}", index, e.getMessage());
            }
        }
        below.clear();
    }

    private Path dataFile(long index) {
        return dir.resolve(String.format("snapshot-%020d.data", index));
    }

    private Path metaFile(long index) {
        return dir.resolve(String.format("snapshot-%020d.meta", index));
    }

    @Override
    public synchronized Optional<SnapshotInfo> latest() {
        return published.isEmpty() ? Optional.empty() : Optional.of(published.lastEntry().getValue());
    }

    @Override
    public Bytes read(long lastIndex, long offset, int maxBytes) {
        SnapshotInfo info;
        synchronized (this) {
            info = published.get(lastIndex);
        }
        if (info == null) {
            throw new StorageException("snapshot " + lastIndex + " is no longer kept");
        }
        lastReadNanos.put(lastIndex, System.nanoTime());
        int length = (int) Math.max(0, Math.min(maxBytes, info.sizeBytes() - offset));
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(dataFile(lastIndex), StandardOpenOption.READ)) {
            while (buffer.hasRemaining()) {
                // In pieces, as the sink writes (FileNamingOutputStream): read whole, the JDK kept a
                // direct buffer of the chunk's size for the reading thread.
                // Position plus a piece, but without the int overflow of that sum near 2 GiB.
                int piece = Math.min(length - buffer.position(), FileNamingOutputStream.MAX_PIECE_BYTES);
                buffer.limit(buffer.position() + piece);
                int read = ch.read(buffer, offset + buffer.position());
                buffer.limit(length);
                if (read < 0) {
                    throw new StorageException("snapshot " + lastIndex + " is shorter than its meta says");
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot read snapshot " + lastIndex + ": " + e.getMessage(), e);
        }
        return Bytes.wrap(buffer.array());
    }

    @Override
    public InputStream open(long lastIndex) throws IOException {
        // Reads in pieces, as read() does: a state machine restoring with large reads on its apply
        // thread otherwise left that thread a direct buffer of the largest read's size.
        return new FilterInputStream(Files.newInputStream(dataFile(lastIndex))) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return in.read(b, off, Math.min(len, FileNamingOutputStream.MAX_PIECE_BYTES));
            }
        };
    }

    @Override
    public Sink begin(SnapshotMeta meta) throws IOException {
        return new FileSink(meta);
    }

    @Override
    public void close() {
    }

    /** Replaces how temporary data files are opened (for tests injecting I/O errors). */
    void dataFileOpener(FileOpener opener) {
        this.dataFileOpener = opener;
    }

    /** Replaces how the directory is synced after a publish's renames (for tests injecting I/O errors). */
    void directorySync(DirectorySync sync) {
        this.directorySync = sync;
    }

    /**
     * A snapshot being written to a temporary file. Until it is published, every file it created is
     * its own to delete: when it is abandoned, and when publishing it fails. A failed publish used
     * to leave its temporary files behind until the store was opened again, so every snapshot that
     * failed on a full disk kept a snapshot's worth of it full (found by a full-disk drill).
     */
    private final class FileSink implements Sink {
        private final SnapshotMeta meta;
        private final Path tmpData;
        private final CRC32C crc = new CRC32C();
        private final CountingStream counting;
        private final OutputStream out;
        private Path tmpMeta;
        /** Files renamed to their published names whose directory is not synced yet. */
        private boolean renamed;
        private boolean done;

        FileSink(SnapshotMeta meta) throws IOException {
            this.meta = meta;
            this.tmpData = Files.createTempFile(dir, "tmp-", ".data");
            OutputStream file;
            try {
                file = dataFileOpener.open(tmpData);
            } catch (IOException | RuntimeException e) {
                deleteQuietly(tmpData);
                throw e;
            }
            this.counting = new CountingStream(new BufferedOutputStream(new FileNamingOutputStream(tmpData, file), 1 << 16));
            this.out = new CheckedOutputStream(counting, crc);
        }

        @Override
        public OutputStream out() {
            return out;
        }

        @Override
        public long written() {
            return counting.count;
        }

        @Override
        public SnapshotInfo publish(Long expectedChecksum) throws IOException {
            // One publish at a time (a snapshot taken here and one received from the leader may end
            // together): one at the index of another could otherwise rename its files between the
            // other's, or delete, as it fails, the files the other just published.
            synchronized (publishLock) {
                try {
                    return publishOrThrow(expectedChecksum);
                } catch (IOException | RuntimeException e) {
                    discardUnpublished();
                    throw e;
                }
            }
        }

        private SnapshotInfo publishOrThrow(Long expectedChecksum) throws IOException {
            out.flush();
            out.close();
            done = true;
            SnapshotInfo info = new SnapshotInfo(meta, counting.count, crc.getValue());
            if (expectedChecksum != null && expectedChecksum != info.checksum()) {
                throw new StorageException("snapshot " + meta.lastIndex() + ": checksum " + Long.toHexString(info.checksum())
                        + " does not match the expected " + Long.toHexString(expectedChecksum));
            }
            SnapshotInfo existing;
            synchronized (FileSnapshotStore.this) {
                existing = published.get(meta.lastIndex());
            }
            if (existing != null) {
                // A snapshot of this index is published already (takeSnapshot() with nothing applied
                // since, or after restoring one received from the leader): it holds the same committed
                // state, so it stays. Renaming this one's data file over it before its meta file left
                // the published meta describing other bytes until then, and for good if the meta's
                // rename, the directory sync or the process failed in between: reads for followers
                // failed their checksum, and a restart found the snapshot the log relied on corrupt.
                deleteQuietly(tmpData);
                return existing;
            }
            force(tmpData);
            tmpMeta = Files.createTempFile(dir, "tmp-", ".meta");
            try (OutputStream metaOut = new FileNamingOutputStream(tmpMeta, Files.newOutputStream(tmpMeta))) {
                metaOut.write(encodeMeta(info));
            }
            force(tmpMeta);
            move(tmpData, dataFile(meta.lastIndex()));
            renamed = true;
            move(tmpMeta, metaFile(meta.lastIndex()));
            // Until the directory is synced the renames may not survive a crash: a snapshot published
            // without it could let the log be compacted past a snapshot a restart would not find.
            directorySync.force(dir);
            renamed = false;
            synchronized (FileSnapshotStore.this) {
                published.put(meta.lastIndex(), info);
                strays.remove(meta.lastIndex());
                dropOld();
                deleteStraysBelowLatest();
            }
            return info;
        }

        /**
         * Deletes what a publish that failed had written: the temporary files, and the files
         * renamed into place before the failure (no snapshot without its meta, none whose renames
         * were not made durable; one already published at this index keeps its files). The meta
         * file goes first: a crash in between leaves a data file alone, which opening ignores.
         */
        private void discardUnpublished() {
            done = true;
            try {
                out.close();
            } catch (IOException ignored) {
                // a close that fails again (the flush it does): the file is deleted regardless
            }
            deleteQuietly(tmpData);
            if (tmpMeta != null) {
                deleteQuietly(tmpMeta);
            }
            if (renamed) {
                synchronized (FileSnapshotStore.this) {
                    if (!published.containsKey(meta.lastIndex())) {
                        deleteQuietly(metaFile(meta.lastIndex()));
                        deleteQuietly(dataFile(meta.lastIndex()));
                    }
                }
            }
        }

        @Override
        public void close() {
            if (!done) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // abandoning anyway
                }
                deleteQuietly(tmpData);
                done = true;
            }
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // Left for the next opening of the store, which deletes every temporary file.
            LOG.warn("cannot delete {}: {}", file, e.getMessage());
        }
    }

    /**
     * Deletes the snapshots older than the {@code retain} newest, except those being streamed: these
     * are kept besides the newest, not in place of one of them (skipping a pinned one used to delete
     * the next oldest, one of the newest).
     */
    private void dropOld() {
        long now = System.nanoTime();
        List<Long> older = new ArrayList<>(published.headMap(published.lastKey()).keySet());
        for (Long index : older.subList(0, Math.max(0, published.size() - retain))) {
            Long readAt = lastReadNanos.get(index);
            if (readAt != null && now - readAt <= pinNanos) {
                continue; // being streamed to a follower: kept for now
            }
            published.remove(index);
            lastReadNanos.remove(index);
            try {
                Files.deleteIfExists(metaFile(index));
                Files.deleteIfExists(dataFile(index));
            } catch (IOException e) {
                LOG.warn("cannot delete snapshot {}: {}", index, e.getMessage());
            }
        }
    }

    private static byte[] encodeMeta(SnapshotInfo info) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(body)) {
            out.writeInt(META_MAGIC);
            out.writeInt(META_VERSION);
            out.writeLong(info.meta().lastIndex());
            out.writeLong(info.meta().lastTerm());
            out.writeLong(info.sizeBytes());
            out.writeLong(info.checksum());
            byte[] config = info.meta().config().encode().unsafeArray();
            out.writeInt(config.length);
            out.write(config);
        }
        byte[] bytes = body.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return ByteBuffer.allocate(bytes.length + 8).put(bytes).putLong(crc.getValue()).array();
    }

    private static SnapshotInfo readMeta(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < 8) {
            throw new IOException("meta file too short");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 8);
        if (crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong()) {
            throw new IOException("meta checksum mismatch");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 8))) {
            if (in.readInt() != META_MAGIC) {
                throw new IOException("not a raft4j snapshot meta file");
            }
            int version = in.readInt();
            if (version != META_VERSION) {
                throw new IOException("unsupported snapshot format version " + version);
            }
            long index = in.readLong();
            long term = in.readLong();
            long size = in.readLong();
            long checksum = in.readLong();
            byte[] config = new byte[in.readInt()];
            in.readFully(config);
            return new SnapshotInfo(new SnapshotMeta(index, term, ClusterConfig.decode(Bytes.wrap(config))), size, checksum);
        }
    }

    private void verifyData(SnapshotInfo info) throws IOException {
        Path data = dataFile(info.meta().lastIndex());
        if (Files.size(data) != info.sizeBytes()) {
            throw new IOException("data file has " + Files.size(data) + " bytes, meta says " + info.sizeBytes());
        }
        CRC32C crc = new CRC32C();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(data)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                crc.update(buffer, 0, n);
            }
        }
        if (crc.getValue() != info.checksum()) {
            throw new IOException("data checksum mismatch");
        }
    }

    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        } catch (IOException e) {
            throw FileNamingOutputStream.failed("syncing", file, e);
        }
    }

    /**
     * Syncs {@code dir}, so that the renames in it survive a crash. A platform that cannot open a
     * directory (Windows) has nothing to sync; a sync that fails is an I/O error like any other.
     */
    private static void forceDirectory(Path dir) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(dir, StandardOpenOption.READ);
        } catch (IOException e) {
            LOG.debug("cannot open directory {} to sync it (not supported here): {}", dir, e.getMessage());
            return;
        }
        try (ch) {
            ch.force(true);
        } catch (IOException e) {
            throw FileNamingOutputStream.failed("syncing", dir, e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}

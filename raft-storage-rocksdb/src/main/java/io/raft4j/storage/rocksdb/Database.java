package io.raft4j.storage.rocksdb;

import io.raft4j.spi.StorageException;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * One open RocksDB database holding the logs of all groups of a data directory: opening it
 * (validating the directory first, writing nothing until it is known to be a raft4j log of a
 * version this code reads), the options chosen for a write-ahead log, and closing.
 *
 * <p>Every use of the native handles goes through {@link #enter()}/{@link #exit()}, which hold a
 * shared lock that {@link #close()} takes exclusively: a close racing a write or read waits for it
 * instead of freeing memory under it.
 */
final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    /** Where the RocksDB files live inside the data directory. */
    static final String LOG_DIR = "log";
    /** A database being created; renamed to {@link #LOG_DIR} once its format marker is durable. */
    static final String INIT_DIR = "log.init";
    /** Where large payloads live, one subdirectory per group (see {@link PayloadSegments}). */
    static final String SEGMENTS_DIR = "log-segments";

    static {
        RocksDB.loadLibrary();
    }

    final Path directory;
    final RocksDB db;
    final ColumnFamilyHandle entries;
    final ColumnFamilyHandle meta;
    /** Every write is synced: it is in the fsynced WAL before {@code write} returns. */
    final WriteOptions syncWrite;
    /**
     * Memory only (no WAL): only for removing what is harmless to find again after a crash. It
     * becomes durable when its memtable is flushed; a crash before that brings it back.
     */
    final WriteOptions memoryOnlyWrite;
    private final List<AutoCloseable> resources;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private Database(Path directory, RocksDB db, ColumnFamilyHandle entries, ColumnFamilyHandle meta,
                     WriteOptions syncWrite, WriteOptions memoryOnlyWrite, List<AutoCloseable> resources) {
        this.directory = directory;
        this.db = db;
        this.entries = entries;
        this.meta = meta;
        this.syncWrite = syncWrite;
        this.memoryOnlyWrite = memoryOnlyWrite;
        this.resources = resources;
    }

    /**
     * Opens (creating if absent) the log database of {@code dataDir}. Refuses, writing nothing, a
     * directory that holds anything but a raft4j log of a format version this code reads.
     */
    static Database open(Path dataDir, RocksDbLogStore.Settings settings) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + dataDir + ": " + e, e);
        }
        Path segments = dataDir.resolve(SEGMENTS_DIR);
        if (Files.exists(segments) && !Files.isDirectory(segments)) {
            // Segment directories are created at the first write with large payloads: that write
            // would fail, and the node stop, long after it opened and started serving.
            throw new StorageException(segments + " is a file, not the directory of payload segment files that a"
                    + " raft4j data directory keeps there. Move it away. Nothing was changed.");
        }
        if (Files.exists(dataDir.resolve("CURRENT"))) {
            throw new StorageException(dataDir + " is itself a RocksDB database of another application; a raft4j"
                    + " data directory keeps its log under " + LOG_DIR + "/. Nothing was changed.");
        }
        Path logDir = dataDir.resolve(LOG_DIR);
        int version = Codec.FORMAT_VERSION;
        if (isMissingOrEmpty(logDir)) {
            refuseToCreateOverTracesOfALog(dataDir, logDir);
            create(dataDir, logDir, settings);
        } else {
            version = OpenCheck.check(logDir);
        }
        Database database = openReadWrite(logDir, settings, false);
        if (version < Codec.FORMAT_VERSION) {
            database.upgradeFormat(version);
        }
        return database;
    }

    /**
     * Marks an older log as the current format before anything of the current format is written,
     * so an older raft4j refuses it (as "written by a newer raft4j") instead of misreading it. Every
     * older format is a subset of the current one: nothing else changes.
     */
    private void upgradeFormat(int from) {
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(meta, Codec.FORMAT_KEY, Codec.formatValue(Codec.FORMAT_VERSION));
            db.write(syncWrite, batch);
        } catch (RocksDBException e) {
            close();
            throw new StorageException("cannot mark the raft4j log in " + directory + " as format version "
                    + Codec.FORMAT_VERSION + ": " + describe(e), e);
        }
        LOG.info("raft4j log in {} upgraded from format {} to {}", directory, from, Codec.FORMAT_VERSION);
    }

    /** Where the payload segment files of every group live (beside {@link #LOG_DIR}). */
    Path segmentsDirectory() {
        return directory.resolveSibling(SEGMENTS_DIR);
    }

    /**
     * A new log is created only where no log can have been: not through a symbolic link (one that
     * dangles is most likely a disk not mounted yet, and creating would replace the link by an empty
     * log), and not beside payload segment files (the log they belonged to was lost or moved). Either
     * way a new log would make the node forget its term and vote, so it may vote twice in a term.
     */
    private static void refuseToCreateOverTracesOfALog(Path dataDir, Path logDir) {
        if (Files.isSymbolicLink(logDir)) {
            throw new StorageException(logDir + " is a symbolic link to " + linkTarget(logDir) + ", which "
                    + (Files.exists(logDir) ? "is empty" : "does not exist (a disk not mounted?)")
                    + "; a new log is never created through a link. Link the data directory itself"
                    + " instead, or remove the link to start an empty node. Nothing was changed.");
        }
        Path segments = dataDir.resolve(SEGMENTS_DIR);
        if (Files.isDirectory(segments)) {
            try (Stream<Path> files = Files.walk(segments)) {
                if (files.anyMatch(Files::isRegularFile)) {
                    throw new StorageException(dataDir + " holds payload segment files in " + SEGMENTS_DIR
                            + "/ but no log in " + LOG_DIR + "/: the log was lost or moved. Restore it, or"
                            + " empty the whole data directory to start an empty node. Nothing was changed.");
                }
            } catch (IOException e) {
                throw new StorageException("cannot list " + segments + ": " + e, e);
            }
        }
    }

    private static String linkTarget(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static boolean isMissingOrEmpty(Path dir) {
        if (!Files.exists(dir)) {
            return true;
        }
        if (!Files.isDirectory(dir)) {
            throw new StorageException(dir + " is a file, not a raft4j log directory. Nothing was changed.");
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.findAny().isEmpty();
        } catch (IOException e) {
            throw new StorageException("cannot list " + dir + ": " + e, e);
        }
    }

    /**
     * Creates the database in {@code log.init}, makes its format marker durable, and only then
     * renames it to {@code log}: a crash leaves either no log (and a stale {@code log.init} that the
     * next attempt removes) or a complete one, never a database without a marker.
     */
    private static void create(Path dataDir, Path logDir, RocksDbLogStore.Settings settings) {
        Path initDir = dataDir.resolve(INIT_DIR);
        try {
            deleteRecursively(initDir);
            Files.deleteIfExists(logDir);
            Files.createDirectories(initDir);
        } catch (IOException e) {
            throw new StorageException("cannot prepare " + initDir + ": " + e, e);
        }
        try (Database fresh = openReadWrite(initDir, settings, true);
             WriteBatch batch = new WriteBatch()) {
            batch.put(fresh.meta, Codec.FORMAT_KEY, Codec.formatValue(Codec.FORMAT_VERSION));
            fresh.db.write(fresh.syncWrite, batch);
        } catch (RocksDBException e) {
            throw new StorageException("cannot initialise a raft4j log in " + initDir + ": " + describe(e), e);
        }
        try {
            Files.move(initDir, logDir, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(dataDir);
        } catch (IOException e) {
            throw new StorageException("cannot publish the new raft4j log " + logDir + ": " + e, e);
        }
        LOG.info("created raft4j log (format {}) in {}", Codec.FORMAT_VERSION, logDir);
    }

    private static Database openReadWrite(Path dir, RocksDbLogStore.Settings settings, boolean create) {
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            DBOptions dbOptions = track(resources, dbOptions(settings).setCreateIfMissing(create)
                    .setCreateMissingColumnFamilies(create));
            Cache blockCache = track(resources, new LRUCache(settings.blockCacheBytes()));
            ColumnFamilyOptions entryOptions = track(resources, entryOptions(settings, blockCache));
            ColumnFamilyOptions metaOptions = track(resources, metaOptions(blockCache));
            ColumnFamilyOptions defaultOptions = track(resources, new ColumnFamilyOptions());
            List<ColumnFamilyDescriptor> descriptors = List.of(
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, defaultOptions),
                    new ColumnFamilyDescriptor(bytes(Codec.ENTRIES_CF), entryOptions),
                    new ColumnFamilyDescriptor(bytes(Codec.META_CF), metaOptions));
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
            // Closed in reverse: handles, then the database, then the options they used.
            List<AutoCloseable> owned = new ArrayList<>(resources);
            owned.add(db);
            owned.addAll(handles);
            WriteOptions syncWrite = new WriteOptions().setSync(true).setDisableWAL(false);
            owned.add(syncWrite);
            WriteOptions memoryOnlyWrite = new WriteOptions().setSync(false).setDisableWAL(true);
            owned.add(memoryOnlyWrite);
            return new Database(dir, db, handles.get(1), handles.get(2), syncWrite, memoryOnlyWrite, owned);
        } catch (RocksDBException e) {
            closeAll(resources);
            throw new StorageException("cannot open the raft4j log in " + dir + ": " + describe(e), e);
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        }
    }

    /**
     * Database-wide options. The log is the write-ahead log of Raft, so the WAL is the point: it is
     * on, every write syncs it (see {@link #syncWrite}), and recovery refuses a WAL damaged
     * anywhere but in its unacknowledged tail rather than silently dropping acknowledged writes.
     * docs/storage.md explains each choice.
     */
    static DBOptions dbOptions(RocksDbLogStore.Settings settings) {
        return new DBOptions()
                .setParanoidChecks(true)
                .setWalRecoveryMode(WALRecoveryMode.TolerateCorruptedTailRecords)
                .setUseFsync(false)
                .setMaxTotalWalSize(settings.writeBufferBytes() * 4)
                .setMaxBackgroundJobs(2)
                .setBytesPerSync(1 << 20)
                .setKeepLogFileNum(5)
                .setMaxLogFileSize(16L << 20)
                .setInfoLogLevel(InfoLogLevel.INFO_LEVEL)
                .setStatsDumpPeriodSec(0);
    }

    private static ColumnFamilyOptions entryOptions(RocksDbLogStore.Settings settings, Cache blockCache) {
        return new ColumnFamilyOptions()
                .setCompactionStyle(CompactionStyle.LEVEL)
                .setLevelCompactionDynamicLevelBytes(true)
                .setWriteBufferSize(settings.writeBufferBytes())
                .setMaxWriteBufferNumber(3)
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .setBottommostCompressionType(CompressionType.LZ4_COMPRESSION)
                .setTargetFileSizeBase(64L << 20)
                .setTableFormatConfig(new BlockBasedTableConfig()
                        .setBlockCache(blockCache)
                        .setBlockSize(32 << 10)
                        .setCacheIndexAndFilterBlocks(true)
                        .setPinL0FilterAndIndexBlocksInCache(true));
    }

    private static ColumnFamilyOptions metaOptions(Cache blockCache) {
        return new ColumnFamilyOptions()
                .setCompactionStyle(CompactionStyle.LEVEL)
                .setWriteBufferSize(4L << 20)
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache));
    }

    /** Starts a use of the native handles; fails if the database is closed. Pair with {@link #exit()}. */
    void enter() {
        lifecycle.readLock().lock();
        if (closed) {
            lifecycle.readLock().unlock();
            throw new IllegalStateException("the raft4j log store of " + directory + " is closed");
        }
    }

    void exit() {
        lifecycle.readLock().unlock();
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            closeAll(resources);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /**
     * A RocksDB failure as text: its status code (Corruption, IOError, ...) and message, plus what
     * to do about damaged files.
     */
    static String describe(RocksDBException e) {
        // RocksDB's messages may hold line breaks ("... actual size 0\n  The file ... may be
        // corrupted."); callers put this text in one-line refusals and log lines.
        String message = String.valueOf(e.getMessage()).replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
        Status status = e.getStatus();
        if (status == null) {
            return message;
        }
        String text = status.getCodeString() + ": " + message;
        if (status.getCode() == Status.Code.Corruption) {
            text += " (the RocksDB files are damaged; nothing was changed: " + Codec.REPLACE_DAMAGED_NODE + ")";
        }
        return text;
    }

    static byte[] bytes(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> resources, T resource) {
        resources.add(resource);
        return resource;
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", resources.get(i), e);
            }
        }
        resources.clear();
    }

    /** The names in {@code dir}, sorted, for error messages. */
    static String listing(Path dir) {
        try (Stream<Path> children = Files.list(dir)) {
            TreeSet<String> names = new TreeSet<>();
            children.limit(20).forEach(p -> names.add(p.getFileName().toString()));
            return names.toString();
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /** Used by {@link OpenCheck}: options that create nothing. */
    static Options probeOptions() {
        return new Options().setCreateIfMissing(false).setCreateMissingColumnFamilies(false);
    }
}

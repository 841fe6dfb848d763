package io.raft4j.storage.rocksdb;

import io.raft4j.spi.StorageException;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Decides, before anything is opened for writing, whether an existing directory is a raft4j log
 * this code may open: a RocksDB database, with raft4j's column families, a raft4j format marker,
 * and a format version no newer than {@link Codec#FORMAT_VERSION}. Only reads: the column family
 * list comes from the MANIFEST, and the marker from a read-only open whose RocksDB info log goes
 * to slf4j instead of a file, so a refused directory is left exactly as it was.
 */
final class OpenCheck {
    private static final Logger LOG = LoggerFactory.getLogger(OpenCheck.class);
    private static final String DEFAULT_CF = "default";

    private OpenCheck() {
    }

    /** Checks {@code logDir}; returns its format version (1 to {@link Codec#FORMAT_VERSION}). */
    static int check(Path logDir) {
        if (!Files.exists(logDir.resolve("CURRENT"))) {
            throw refuse(logDir, withoutCurrent(logDir));
        }
        List<String> families = columnFamilies(logDir);
        boolean hasMeta = families.contains(Codec.META_CF);
        boolean hasEntries = families.contains(Codec.ENTRIES_CF);
        if (!hasMeta && !hasEntries) {
            throw refuse(logDir, "it is a RocksDB database written by something other than raft4j"
                    + " (column families " + families + ")");
        }
        if (!hasMeta) {
            throw refuse(logDir, "the column family " + Codec.META_CF + " is missing (found " + families
                    + "): the log is damaged");
        }
        int version = formatVersion(logDir);
        if (version < 0) {
            throw refuse(logDir, "it has no raft4j format marker, so it was not written by raft4j (or its"
                    + " creation never completed)");
        }
        if (version > Codec.FORMAT_VERSION) {
            throw refuse(logDir, "it was written by a newer raft4j (log format version " + version
                    + "; this version reads up to " + Codec.FORMAT_VERSION + "). Run the newer raft4j");
        }
        if (version < 1) {
            throw refuse(logDir, "its format marker holds the invalid version " + version);
        }
        if (!hasEntries) {
            throw refuse(logDir, "the column family " + Codec.ENTRIES_CF + " is missing (found " + families
                    + "): the log is damaged");
        }
        for (String family : families) {
            if (!Set.of(DEFAULT_CF, Codec.META_CF, Codec.ENTRIES_CF).contains(family)) {
                throw refuse(logDir, "it holds the unexpected column family " + family
                        + " (format version " + version + " has none)");
            }
        }
        return version;
    }

    /**
     * Why a directory without CURRENT (the file naming the MANIFEST to open) is refused. With the
     * files only RocksDB writes (MANIFEST-*, OPTIONS-*), it is a damaged database, not a foreign
     * directory; its OPTIONS files, plain text listing the column families, tell whether it was ours.
     */
    private static String withoutCurrent(Path logDir) {
        List<String> names = new ArrayList<>();
        try (Stream<Path> children = Files.list(logDir)) {
            children.forEach(p -> names.add(p.getFileName().toString()));
        } catch (IOException e) {
            return "it cannot be listed (" + e + ")";
        }
        boolean rocksDb = names.stream().anyMatch(n -> n.startsWith("MANIFEST-") || n.startsWith("OPTIONS-"));
        if (!rocksDb) {
            return "it holds " + Database.listing(logDir)
                    + " but no RocksDB database (no CURRENT file), so it was not written by raft4j";
        }
        String what = names.stream().filter(n -> n.startsWith("OPTIONS-"))
                .anyMatch(n -> mentions(logDir.resolve(n), Codec.META_CF)) ? "a raft4j log" : "a RocksDB database";
        return "it holds the files of " + what + " (" + Database.listing(logDir) + ") but its CURRENT file, which"
                + " names the MANIFEST to open, is missing: the log is damaged. Restore it from a backup, or replace"
                + " this node (a new node under a new id); if CURRENT alone was lost, a CURRENT file holding the name"
                + " of the newest MANIFEST-* file and a newline brings it back";
    }

    private static boolean mentions(Path file, String text) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).contains(text);
        } catch (IOException | RuntimeException e) {
            return false; // unreadable: say nothing about whose it was
        }
    }

    private static List<String> columnFamilies(Path logDir) {
        try (Options options = Database.probeOptions()) {
            List<String> names = new ArrayList<>();
            for (byte[] name : RocksDB.listColumnFamilies(options, logDir.toString())) {
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            return names;
        } catch (RocksDBException e) {
            throw refuse(logDir, "its column families cannot be read (" + Database.describe(e) + ")");
        }
    }

    /** The version in the format marker, or -1 if there is no raft4j marker. */
    private static int formatVersion(Path logDir) {
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (QuietLogger logger = new QuietLogger();
             DBOptions options = new DBOptions().setCreateIfMissing(false).setLogger(logger);
             org.rocksdb.ColumnFamilyOptions cfOptions = new org.rocksdb.ColumnFamilyOptions()) {
            List<ColumnFamilyDescriptor> descriptors = List.of(
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                    new ColumnFamilyDescriptor(Database.bytes(Codec.META_CF), cfOptions));
            try (RocksDB db = RocksDB.openReadOnly(options, logDir.toString(), descriptors, handles)) {
                return Codec.formatVersion(db.get(handles.get(1), Codec.FORMAT_KEY));
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        } catch (RocksDBException e) {
            throw refuse(logDir, "it cannot be read (" + Database.describe(e) + ")");
        }
    }

    private static StorageException refuse(Path logDir, String why) {
        return new StorageException("refusing to open " + logDir + " as a raft4j log: " + why
                + ". Nothing was changed.");
    }

    /** RocksDB's info log during the check, sent to slf4j (debug) instead of a LOG file. */
    private static final class QuietLogger extends org.rocksdb.Logger {
        QuietLogger() {
            super(InfoLogLevel.WARN_LEVEL);
        }

        @Override
        protected void log(InfoLogLevel level, String message) {
            LOG.debug("rocksdb (read-only check): {}", message);
        }
    }
}

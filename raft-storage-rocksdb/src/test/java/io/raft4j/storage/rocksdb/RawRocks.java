package io.raft4j.storage.rocksdb;

import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Direct access to a RocksDB directory, bypassing raft4j, for tests that damage what is on disk or
 * create databases raft4j did not write.
 */
final class RawRocks implements AutoCloseable {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Map<String, ColumnFamilyHandle> families = new TreeMap<>();
    private final RocksDB db;

    /** Opens {@code dir} with all its column families, creating it (with {@code create} families) if absent. */
    RawRocks(Path dir, String... create) throws RocksDBException {
        RocksDB.loadLibrary();
        List<String> names = new ArrayList<>();
        if (Files.exists(dir.resolve("CURRENT"))) {
            try (Options options = new Options()) {
                for (byte[] name : RocksDB.listColumnFamilies(options, dir.toString())) {
                    names.add(new String(name, StandardCharsets.UTF_8));
                }
            }
        } else {
            names.add("default");
            names.addAll(List.of(create));
        }
        DBOptions options = track(new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true));
        ColumnFamilyOptions cfOptions = track(new ColumnFamilyOptions());
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (String name : names) {
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), cfOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        db = RocksDB.open(options, dir.toString(), descriptors, handles);
        for (int i = 0; i < names.size(); i++) {
            families.put(names.get(i), handles.get(i));
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    ColumnFamilyHandle family(String name) {
        ColumnFamilyHandle handle = families.get(name);
        if (handle == null) {
            throw new IllegalArgumentException("no column family " + name + " in " + families.keySet());
        }
        return handle;
    }

    byte[] get(String family, byte[] key) throws RocksDBException {
        return db.get(family(family), key);
    }

    void put(String family, byte[] key, byte[] value) throws RocksDBException {
        db.put(family(family), key, value);
    }

    /**
     * The stored value of entry {@code index} of {@code group}, whether under its own key or in a
     * chunk under an earlier one, laid out as a single entry's; null if there is none.
     */
    byte[] entryValue(String group, long index) throws RocksDBException {
        byte[] prefix = Codec.groupPrefix(group);
        for (long first = index; first >= 0; first--) {
            byte[] value = get(Codec.ENTRIES_CF, Codec.entryKey(prefix, first));
            if (value != null) {
                EntryChunk stored = EntryChunk.parse(first, value, group);
                return stored.last() >= index ? stored.entryValue((int) (index - first)) : null;
            }
        }
        return null;
    }

    /**
     * Stores {@code value} as entry {@code index}'s value inside the chunk that holds it, with a
     * valid chunk checksum: damage only the entry's own checks can find.
     */
    void replaceInChunk(String group, long first, long index, byte[] value) throws RocksDBException {
        byte[] key = Codec.entryKey(Codec.groupPrefix(group), first);
        EntryChunk stored = EntryChunk.parse(first, get(Codec.ENTRIES_CF, key), group);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < stored.count(); i++) {
            values.add(first + i == index ? value : stored.entryValue(i));
        }
        put(Codec.ENTRIES_CF, key, EntryChunk.of(first, values));
    }

    void delete(String family, byte[] key) throws RocksDBException {
        db.delete(family(family), key);
    }

    void create(String family) throws RocksDBException {
        ColumnFamilyOptions options = track(new ColumnFamilyOptions());
        families.put(family, db.createColumnFamily(
                new ColumnFamilyDescriptor(family.getBytes(StandardCharsets.UTF_8), options)));
    }

    void drop(String family) throws RocksDBException {
        ColumnFamilyHandle handle = families.remove(family);
        db.dropColumnFamily(handle);
        handle.close();
    }

    /** Writes the memtables to SST files, so that damage to those files is damage to the data. */
    void flush() throws RocksDBException {
        try (FlushOptions options = new FlushOptions().setWaitForFlush(true)) {
            db.flush(options, new ArrayList<>(families.values()));
        }
    }

    @Override
    public void close() {
        families.values().forEach(ColumnFamilyHandle::close);
        db.close();
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Every file under {@code dir} by relative path, with a digest of its content. */
    static Map<String, String> contents(Path dir) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(p)) {
                    MessageDigest digest = MessageDigest.getInstance("SHA-256");
                    out.put(dir.relativize(p).toString(), HexFormat.of().formatHex(digest.digest(Files.readAllBytes(p))));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }
}

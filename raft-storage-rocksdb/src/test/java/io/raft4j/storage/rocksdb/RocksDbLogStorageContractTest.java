package io.raft4j.storage.rocksdb;

import io.raft4j.spi.LogStorage;
import io.raft4j.spi.LogStorageContractTest;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The {@link LogStorage} contract on RocksDB. The entry cache is kept tiny (4 KiB) so that reads
 * mix entries served from memory with entries read from RocksDB; "reopen" closes the whole store
 * and opens the directory again, as a restarted process would.
 */
class RocksDbLogStorageContractTest extends LogStorageContractTest {
    @TempDir
    Path dataDir;
    private RocksDbLogStore store;

    /** The store's settings; the uncached variant overrides this. */
    RocksDbLogStore.Settings settings() {
        return new RocksDbLogStore.Settings(4 << 10, 8 << 20, 8 << 20);
    }

    @Override
    protected LogStorage open() {
        store = RocksDbLogStore.open(dataDir, settings());
        return store.forGroup("contract");
    }

    @Override
    protected LogStorage reopen(LogStorage storage) {
        storage.close();
        store.close();
        return open();
    }

    @Override
    protected void cleanUp() {
        if (store != null) {
            store.close();
        }
    }
}

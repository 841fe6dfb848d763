package io.raft4j.storage.rocksdb;

/** The contract again with no entry cache at all: every entry read comes from RocksDB. */
class RocksDbUncachedLogStorageContractTest extends RocksDbLogStorageContractTest {
    @Override
    RocksDbLogStore.Settings settings() {
        return new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20);
    }
}

package io.raft4j.storage.rocksdb;

/**
 * The contract again with every non-empty payload in segment files (thresholds of one byte, files
 * of 256 bytes so that appends roll over to new files and compaction deletes old ones) and no entry
 * cache, so every read follows a segment reference.
 */
class RocksDbSegmentedLogStorageContractTest extends RocksDbLogStorageContractTest {
    @Override
    RocksDbLogStore.Settings settings() {
        return new RocksDbLogStore.Settings(0, 8 << 20, 8 << 20).withSegments(1, 1, 256);
    }
}

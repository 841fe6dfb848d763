/**
 * The durable Raft log on RocksDB: {@link io.raft4j.storage.rocksdb.RocksDbLogStore} opens a data
 * directory and hands out one {@link io.raft4j.spi.LogStorage} per Raft group. Everything else in
 * this package is internal.
 */
package io.raft4j.storage.rocksdb;

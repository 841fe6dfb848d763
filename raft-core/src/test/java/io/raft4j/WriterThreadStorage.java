package io.raft4j;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;

import java.util.List;
import java.util.Optional;

/**
 * An in-memory log that presents itself as blocking storage, so that the runtime writes it on its
 * storage thread, as it does a durable log: keeps that path under the runtime tests.
 */
final class WriterThreadStorage implements LogStorage {
    private final LogStorage delegate;

    WriterThreadStorage(LogStorage delegate) {
        this.delegate = delegate;
    }

    @Override
    public HardState hardState() {
        return delegate.hardState();
    }

    @Override
    public Optional<LogOwner> owner() {
        return delegate.owner();
    }

    @Override
    public void recordOwner(LogOwner owner) {
        delegate.recordOwner(owner);
    }

    @Override
    public long firstIndex() {
        return delegate.firstIndex();
    }

    @Override
    public long lastIndex() {
        return delegate.lastIndex();
    }

    @Override
    public long term(long index) {
        return delegate.term(index);
    }

    @Override
    public List<LogEntry> entries(long fromIndex, long toIndex, long maxBytes) {
        return delegate.entries(fromIndex, toIndex, maxBytes);
    }

    @Override
    public void append(List<LogEntry> entries, HardState hardState) {
        delegate.append(entries, hardState);
    }

    @Override
    public void compact(long index, long term) {
        delegate.compact(index, term);
    }

    @Override
    public void reset(long index, long term) {
        delegate.reset(index, term);
    }

    @Override
    public boolean writesWithoutBlocking() {
        return false;
    }

    @Override
    public void close() {
        delegate.close();
    }
}

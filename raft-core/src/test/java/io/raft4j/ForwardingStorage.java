package io.raft4j;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;

import java.util.List;

/** Forwards every call to another log storage; a test overrides what it breaks or watches. */
class ForwardingStorage implements LogStorage {
    final LogStorage delegate;

    ForwardingStorage(LogStorage delegate) {
        this.delegate = delegate;
    }

    @Override public HardState hardState() { return delegate.hardState(); }
    @Override public long firstIndex() { return delegate.firstIndex(); }
    @Override public long lastIndex() { return delegate.lastIndex(); }
    @Override public long term(long index) { return delegate.term(index); }
    @Override public List<LogEntry> entries(long f, long t, long m) { return delegate.entries(f, t, m); }
    @Override public void append(List<LogEntry> entries, HardState hs) { delegate.append(entries, hs); }
    @Override public void compact(long index, long term) { delegate.compact(index, term); }
    @Override public void reset(long index, long term) { delegate.reset(index, term); }
    @Override public void close() { delegate.close(); }
    @Override public String toString() { return "the test's storage"; }
}

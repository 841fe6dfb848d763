package io.raft4j;

import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/** A snapshot store on a slow disk: every write into a snapshot being written takes {@code millis} more. */
final class SlowSnapshotStore implements SnapshotStore {
    private final SnapshotStore delegate;
    private final long nanos;

    SlowSnapshotStore(SnapshotStore delegate, long millis) {
        this.delegate = delegate;
        this.nanos = millis * 1_000_000L;
    }

    @Override public Optional<SnapshotInfo> latest() { return delegate.latest(); }
    @Override public Bytes read(long lastIndex, long offset, int maxBytes) { return delegate.read(lastIndex, offset, maxBytes); }
    @Override public InputStream open(long lastIndex) throws IOException { return delegate.open(lastIndex); }
    @Override public void close() { delegate.close(); }

    @Override
    public Sink begin(SnapshotMeta meta) throws IOException {
        Sink sink = delegate.begin(meta);
        OutputStream slow = new FilterOutputStream(sink.out()) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                long until = System.nanoTime() + nanos;
                while (System.nanoTime() < until) {
                    LockSupport.parkNanos(until - System.nanoTime());
                }
                out.write(b, off, len);
            }
        };
        return new Sink() {
            @Override public OutputStream out() { return slow; }
            @Override public long written() { return sink.written(); }
            @Override public SnapshotInfo publish(Long expectedChecksum) throws IOException { return sink.publish(expectedChecksum); }
            @Override public void close() { sink.close(); }
        };
    }
}

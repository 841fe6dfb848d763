package io.raft4j;

import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A recording state machine whose snapshot writes wait until {@link #release}, so a test can ask
 * for a snapshot, or restore one, while another is being written. {@code views} counts the
 * snapshots opened.
 */
final class GatedStateMachine implements StateMachine<String> {
    final LocalCluster.RecordingStateMachine inner = new LocalCluster.RecordingStateMachine();
    final CountDownLatch gate = new CountDownLatch(1);
    final AtomicInteger views = new AtomicInteger();

    @Override
    public String apply(long index, Bytes command) {
        return inner.apply(index, command);
    }

    @Override
    public String query(Bytes query) {
        return inner.query(query);
    }

    @Override
    public void restore(InputStream in) throws IOException {
        inner.restore(in);
    }

    @Override
    public Snapshot snapshot() {
        views.incrementAndGet();
        Snapshot view = inner.snapshot();
        return out -> {
            try {
                if (!gate.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("the test never released the snapshot");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
            view.writeTo(out);
        };
    }

    void release() {
        gate.countDown();
    }
}

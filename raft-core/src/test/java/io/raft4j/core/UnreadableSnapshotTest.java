package io.raft4j.core;

import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The leader's latest snapshot cannot be read (an I/O error, a data file truncated since it was
 * verified: FileSnapshotStore says "shorter than its meta says"). The leader took every failed read
 * for a snapshot replaced by newer ones and started over with the latest, the same one, whose read
 * failed again: a recursion without end, a StackOverflowError on the event loop, the node stopped.
 * It must instead say so and try again later, streaming once the snapshot can be read.
 */
class UnreadableSnapshotTest {

    /** A store whose reads fail while {@code failReads} says so. */
    static final class FailingReads implements SnapshotStore {
        private final SnapshotStore delegate;
        volatile boolean failReads;
        /** Reads return nothing, as a store reading a file truncated since it was published may. */
        volatile boolean emptyReads;

        FailingReads(SnapshotStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<SnapshotInfo> latest() {
            return delegate.latest();
        }

        @Override
        public Bytes read(long lastIndex, long offset, int maxBytes) {
            if (failReads) {
                throw new StorageException("cannot read snapshot " + lastIndex + ": Input/output error");
            }
            if (emptyReads) {
                return Bytes.wrap(new byte[0]);
            }
            return delegate.read(lastIndex, offset, maxBytes);
        }

        @Override
        public InputStream open(long lastIndex) throws IOException {
            return delegate.open(lastIndex);
        }

        @Override
        public Sink begin(SnapshotMeta meta) throws IOException {
            return delegate.begin(meta);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    @Test
    void aSnapshotThatCannotBeReadIsNotStreamedAndDoesNotStopTheLeader() {
        CoreCluster c = clusterWithFailableSnapshotReads();
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 20);
        FailingReads store = (FailingReads) c.snapshots.get(leader);
        store.failReads = true;
        int[] chunks = {0};
        c.dropIf = m -> {
            if (m instanceof InstallSnapshot) {
                chunks[0]++;
            }
            return false;
        };

        assertDoesNotThrow(() -> {
            c.restart(lagging);
            c.tickAll(5);
        });
        assertEquals(leader, c.leader(), "the leader goes on");
        assertEquals(0, chunks[0], "nothing streamed of a snapshot that cannot be read");

        store.failReads = false; // the operator fixed the disk
        c.tickAll(30);
        assertEquals(c.applied.get(leader), c.applied.get(lagging), "the snapshot is streamed once it can be read");
    }

    /**
     * {@link SnapshotStore#read} returns "up to" the bytes asked for. A store that returned none
     * before the end (its file truncated) had the leader send the same empty chunk without end, on
     * its event loop: the node hung, filling its outbox.
     */
    @Test
    void aStoreReadingNothingBeforeTheEndDoesNotHangTheLeader() {
        CoreCluster c = clusterWithFailableSnapshotReads();
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 20);
        FailingReads store = (FailingReads) c.snapshots.get(leader);
        store.emptyReads = true;

        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            c.restart(lagging);
            c.tickAll(5);
        });
        assertEquals(leader, c.leader(), "the leader goes on");

        store.emptyReads = false;
        c.tickAll(30);
        assertEquals(c.applied.get(leader), c.applied.get(lagging), "the snapshot is streamed once it can be read");
    }

    /** Three nodes whose snapshot stores can be made to fail reads, with small chunks so a transfer takes several. */
    private static CoreCluster clusterWithFailableSnapshotReads() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8)
                .snapshotChunksInFlight(2));
        for (String id : c.allIds()) {
            c.snapshots.put(id, new FailingReads(new InMemorySnapshotStore(2)));
            c.restart(id);
        }
        return c;
    }
}

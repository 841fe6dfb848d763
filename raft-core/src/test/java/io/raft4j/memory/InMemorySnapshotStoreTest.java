package io.raft4j.memory;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class InMemorySnapshotStoreTest {
    private static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));

    private static SnapshotStore.Sink begin(SnapshotStore store, long index, String content) throws IOException {
        SnapshotStore.Sink sink = store.begin(new SnapshotMeta(index, 2, CONFIG));
        sink.out().write(content.getBytes(StandardCharsets.UTF_8));
        return sink;
    }

    /**
     * A follower's local snapshot may finish after a newer one received from the leader (two writing
     * threads). The latest used to be the last published: the node then saw a snapshot older than
     * its compacted log and could not restart.
     */
    @Test
    void anOlderSnapshotPublishedLastNeitherBecomesLatestNorEvictsTheNewer() throws IOException {
        InMemorySnapshotStore store = new InMemorySnapshotStore(1);
        try (SnapshotStore.Sink local = begin(store, 20, "local")) {
            try (SnapshotStore.Sink received = begin(store, 120, "received")) {
                received.publish(null);
            }
            local.publish(null);
        }
        assertEquals(120, store.latest().orElseThrow().meta().lastIndex());
        assertArrayEquals("received".getBytes(StandardCharsets.UTF_8), store.read(120, 0, 100).toByteArray());
        assertThrows(StorageException.class, () -> store.read(20, 0, 1));
    }

    @Test
    void keepsTheHighestIndexesUpToTheRetentionCount() throws IOException {
        InMemorySnapshotStore store = new InMemorySnapshotStore(2);
        for (long index : new long[]{10, 30, 20, 40}) {
            try (SnapshotStore.Sink sink = begin(store, index, "s" + index)) {
                sink.publish(null);
            }
        }
        assertEquals(40, store.latest().orElseThrow().meta().lastIndex());
        assertArrayEquals("s30".getBytes(StandardCharsets.UTF_8), store.read(30, 0, 100).toByteArray());
        assertThrows(StorageException.class, () -> store.read(20, 0, 1));
        assertThrows(StorageException.class, () -> store.read(10, 0, 1));
    }

    /**
     * A snapshot being streamed to a follower outlives the retention count until its transfer ends:
     * evicting it restarted the transfer with the newest one, and a leader snapshotting faster than
     * a transfer took never caught the follower up (simulation seed 24007751, 3 nodes).
     */
    @Test
    void aSnapshotReadSinceThePreviousPublishIsKeptUntilItsTransferEnds() throws IOException {
        InMemorySnapshotStore store = new InMemorySnapshotStore(1);
        publish(store, 10);
        store.read(10, 0, 4); // a follower is being sent snapshot 10
        publish(store, 20);
        store.read(10, 4, 4);
        publish(store, 30);
        assertArrayEquals("s10".getBytes(StandardCharsets.UTF_8), store.read(10, 0, 100).toByteArray());
        assertThrows(StorageException.class, () -> store.read(20, 0, 1), "not streamed: dropped as usual");
        publish(store, 40); // read since the last publish: still kept
        publish(store, 50); // the transfer is over: dropped
        assertThrows(StorageException.class, () -> store.read(10, 0, 1));
        assertEquals(50, store.latest().orElseThrow().meta().lastIndex());
    }

    private static void publish(SnapshotStore store, long index) throws IOException {
        try (SnapshotStore.Sink sink = begin(store, index, "s" + index)) {
            sink.publish(null);
        }
    }

    /**
     * The snapshot being streamed is kept besides the {@code retain} newest, not instead of one of
     * them: with two kept and the oldest being streamed, a publish used to drop the second newest.
     */
    @Test
    void aSnapshotBeingStreamedDoesNotCountAgainstTheRetentionCount() throws IOException {
        InMemorySnapshotStore store = new InMemorySnapshotStore(2);
        publish(store, 10);
        publish(store, 20);
        store.read(10, 0, 4); // a follower is being sent snapshot 10
        publish(store, 30);

        assertArrayEquals("s20".getBytes(StandardCharsets.UTF_8), store.read(20, 0, 100).toByteArray(),
                "one of the two newest");
        assertArrayEquals("s30".getBytes(StandardCharsets.UTF_8), store.read(30, 0, 100).toByteArray());
        assertArrayEquals("s10".getBytes(StandardCharsets.UTF_8), store.read(10, 0, 100).toByteArray(),
                "being streamed");
    }

    /**
     * An abandoned snapshot (its writer gave up, or the node stopped while it was being received)
     * was published by a later publish(null) as an empty snapshot, visible as the latest, from which
     * a restarted node would restore its state machine; the file store refuses it (its files are gone).
     */
    @Test
    void anAbandonedSnapshotCannotBePublished() throws IOException {
        InMemorySnapshotStore store = new InMemorySnapshotStore();
        SnapshotStore.Sink abandoned = begin(store, 10, "half of it");
        abandoned.close();

        assertThrows(StorageException.class, () -> abandoned.publish(null));
        assertEquals(Optional.empty(), store.latest());
    }
}

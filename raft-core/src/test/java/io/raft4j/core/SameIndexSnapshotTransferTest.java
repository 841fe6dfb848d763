package io.raft4j.core;

import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The leader publishes a second snapshot at the index of the one it is streaming (takeSnapshot()
 * with nothing applied since), holding the same state serialised otherwise (a hash map's order after
 * a restore). The in-memory store, the runtime's default, replaced the content under the transfer:
 * the follower got bytes whose CRC was not the one the leader announced, asked for the snapshot
 * again, and the leader, with no newer snapshot, streamed the same mismatch again, for ever. The
 * follower never caught up while nothing newer was taken.
 */
class SameIndexSnapshotTransferTest {

    @Test
    void aSnapshotRepublishedAtTheStreamedIndexDoesNotStallTheTransferForEver() throws IOException {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8)
                .snapshotChunksInFlight(1));
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 20);
        SnapshotStore store = c.snapshots.get(leader);
        SnapshotStore.SnapshotInfo streamed = store.latest().orElseThrow();
        c.cut.add(lagging + ">" + leader); // the follower's answers are lost: the transfer stays open
        c.restart(lagging);
        c.tickAll(1); // the transfer has begun

        byte[] content;
        try (InputStream in = store.open(streamed.meta().lastIndex())) {
            content = in.readAllBytes();
        }
        // Other bytes, as a map's entries in another order would be (here: the lines reversed).
        List<String> lines = new ArrayList<>(List.of(new String(content, StandardCharsets.UTF_8).split("\n")));
        Collections.reverse(lines);
        try (SnapshotStore.Sink sink = store.begin(streamed.meta())) {
            sink.out().write(String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
            sink.publish(null);
        }

        c.cut.clear();
        c.tickAll(40);
        assertEquals(c.core(leader).lastIndex(), c.core(lagging).lastIndex(), "the follower caught up");
        assertEquals(c.applied.get(leader), c.applied.get(lagging));
    }
}

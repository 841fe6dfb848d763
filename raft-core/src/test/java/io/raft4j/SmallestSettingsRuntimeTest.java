package io.raft4j;

import io.raft4j.message.Bytes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime with every size limit at its smallest legal value (the simulation covers the core
 * alone): every entry larger than an append may carry, one append in flight, room for one
 * uncommitted command, an apply backlog smaller than any entry, a snapshot after every entry with no
 * log kept behind it, streamed one byte at a time. A follower that missed writes while down must
 * still catch up (by snapshot) and serve a linearizable read, in each way the runtime can be wired.
 */
class SmallestSettingsRuntimeTest {
    @ParameterizedTest
    @EnumSource(LocalCluster.Mode.class)
    void aFollowerCatchesUpAndReadsWithEveryLimitAtItsSmallest(LocalCluster.Mode mode) throws Exception {
        try (LocalCluster c = new LocalCluster(3, LocalCluster.steadyLeader(b -> b.heartbeatIntervalTicks(1)
                .maxMessageBytes(1).maxEntryBytes(64).maxInflightMessages(1).maxInflightBytes(1).maxUncommittedBytes(64)
                .maxApplyBatchBytes(1).snapshotEveryEntries(1).snapshotEveryBytes(1).snapshotTrailingEntries(0)
                .snapshotChunkBytes(1).snapshotChunksInFlight(1).promoteWithinEntries(0)), mode)) {
            RaftNode<String> leader = c.awaitLeader();
            String f = c.awaitFollowerOf(leader).id();
            c.stop(f);
            for (int i = 0; i < 30; i++) {
                String command = "c" + i;
                assertEquals("applied:" + command, leader.propose(Bytes.ofUtf8(command)).get(10, TimeUnit.SECONDS));
            }
            c.start(f);
            RaftNode<String> back = c.nodes.get(f);
            LocalCluster.await(Duration.ofSeconds(20), () -> back.status().commitIndex() >= leader.status().commitIndex(),
                    () -> back.status().toString());
            assertEquals("30", LocalCluster.retryingNotLeader(() -> back.query(Bytes.EMPTY)));
            assertTrue(back.stats().snapshotsInstalled() > 0, "caught up by a snapshot: " + back.stats());
        }
    }
}

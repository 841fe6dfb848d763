package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.Ready;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.LogEntry;
import io.raft4j.message.SnapshotMeta;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A snapshot from the leader that the log matches (Raft Figure 13, rule 6: keep the entries after
 * it) may match entries the core accepted in the same batch, not yet handed to storage: the leader's
 * append of 8..20 and the completion of its snapshot at 15 stepped together. One {@link Ready} then
 * carries those entries and the compaction to 15. The storage thread compacted first, leaving a log
 * that ended at 7 empty after 15, and the entries from 8 then did not fit it: the append threw and
 * the node stopped. The entries are written first; the compaction then keeps 16..20.
 */
class SnapshotMatchingUnwrittenEntriesTest {
    private static final ClusterConfig THREE = ClusterConfig.ofVoters(Set.of("n1", "n2", "n3"));

    @Test
    void entriesHandedOutWithTheCompactionOfASnapshotTheyMatchAreWrittenBeforeIt() throws Exception {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").preVote(false).build();
        InMemoryLogStorage storage = new InMemoryLogStorage();
        List<LogEntry> stored = new ArrayList<>();
        stored.add(new LogEntry(1, 1, EntryType.CONFIG, THREE.encode()));
        for (long i = 2; i <= 7; i++) {
            stored.add(LogEntry.command(i, 1, Bytes.ofUtf8("c" + i)));
        }
        storage.append(stored, new HardState(1, "n2"));
        InMemorySnapshotStore snapshots = new InMemorySnapshotStore();
        RaftCore core = new RaftCore(config, storage, snapshots, new SplittableRandom(1));
        LogWriter writer = new LogWriter("test-writer", storage, snapshots, d -> { }, t -> { }, new NodeCounters());

        SnapshotMeta meta = new SnapshotMeta(15, 1, THREE);
        core.step(new InstallSnapshot(config.groupId(), "n2", "n1", 1, meta, 0, Bytes.ofUtf8("state"), true, 0));
        Ready chunk = core.ready();
        assertEquals(1, chunk.snapshotChunks().size(), "precondition: the chunk goes to the storage thread");

        // One batch: the leader's append of 8..20 (sent before it chose to send the snapshot), then
        // the storage thread's report that the snapshot is published.
        List<LogEntry> appended = new ArrayList<>();
        for (long i = 8; i <= 20; i++) {
            appended.add(LogEntry.command(i, 1, Bytes.ofUtf8("c" + i)));
        }
        core.step(new AppendEntries(config.groupId(), "n2", "n1", 1, 7, 1, appended, 7, 1));
        core.snapshotReceived(meta, true);
        Ready ready = core.ready();
        assertEquals(appended, ready.entriesToPersist(), "precondition: the entries are handed out now");
        assertFalse(ready.compaction().discardAll(), "precondition: the log matches the snapshot at 15");
        assertEquals(15, ready.compaction().index());

        writer.writeNow(new LogWriter.Job(ready.entriesToPersist(), ready.hardState(), ready.messagesAfterPersist(),
                ready.abandonSnapshotReceiving(), List.of(), ready.compaction()));

        assertEquals(16, storage.firstIndex());
        assertEquals(20, storage.lastIndex());
        assertEquals(1, storage.term(15));
        assertEquals(appended.subList(8, 13), storage.entries(16, 21, Long.MAX_VALUE));
    }
}

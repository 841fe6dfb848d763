package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.Ready;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.snapshot.FileSnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event loop steps a batch of messages before it collects their effects. A chunk of a transfer
 * and a message of a newer term (a new leader's heartbeat) in one batch make one {@link Ready} that carries the chunk and the
 * order to abandon that very transfer (the core gives it up only as it hands its effects out). The
 * storage thread abandoned first and then stored the chunk into no sink: "snapshot chunk ... out of
 * order", which stopped the node (and a first chunk opened a sink nobody would ever close).
 */
class SnapshotChunkAbandonOrderTest {

    private static long tmpFiles(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("tmp-")).count();
        }
    }

    private static LogWriter.Job job(Ready r) {
        return new LogWriter.Job(r.entriesToPersist(), r.hardState(), r.messagesAfterPersist(),
                r.abandonSnapshotReceiving(), r.snapshotChunks(), r.compaction());
    }

    @Test
    void aChunkHandedOutWithTheAbandonmentOfItsTransferIsStoredBeforeTheTransferIsDropped(@TempDir Path dir)
            throws Exception {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").build();
        FileSnapshotStore store = new FileSnapshotStore(dir);
        RaftCore core = new RaftCore(config, new InMemoryLogStorage(), store, new SplittableRandom(1));
        LogWriter writer = new LogWriter("test-writer", new InMemoryLogStorage(), store, d -> { }, t -> { },
                new NodeCounters());
        SnapshotMeta meta = new SnapshotMeta(100, 5, ClusterConfig.ofVoters(Set.of("n1", "n2", "n3")));
        byte[] content = new byte[128];

        core.step(new InstallSnapshot(config.groupId(), "n2", "n1", 5, meta, 0, Bytes.wrap(java.util.Arrays.copyOf(content, 64)),
                false, 0));
        Ready first = core.ready();
        assertEquals(1, first.snapshotChunks().size());
        writer.writeNow(job(first));

        // One batch: the transfer's next chunk, then a heartbeat of the leader of a newer term.
        core.step(new InstallSnapshot(config.groupId(), "n2", "n1", 5, meta, 64, Bytes.wrap(java.util.Arrays.copyOf(content, 64)),
                false, 0));
        core.step(new AppendEntries(config.groupId(), "n3", "n1", 6, 500, 6, List.of(), 0, 1));
        Ready second = core.ready();
        assertTrue(second.abandonSnapshotReceiving(), "the transfer of term 5 is given up");
        assertEquals(1, second.snapshotChunks().size(), "with the chunk stepped before");

        assertDoesNotThrow(() -> writer.writeNow(job(second)));
        assertEquals(0, tmpFiles(dir), "the abandoned transfer's temporary file is gone");
        assertFalse(store.latest().isPresent());
    }

    @Test
    void aFirstChunkHandedOutWithTheAbandonmentOfItsTransferLeavesNoOpenSink(@TempDir Path dir) throws Exception {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").build();
        FileSnapshotStore store = new FileSnapshotStore(dir);
        RaftCore core = new RaftCore(config, new InMemoryLogStorage(), store, new SplittableRandom(1));
        LogWriter writer = new LogWriter("test-writer", new InMemoryLogStorage(), store, d -> { }, t -> { },
                new NodeCounters());
        SnapshotMeta meta = new SnapshotMeta(100, 5, ClusterConfig.ofVoters(Set.of("n1", "n2", "n3")));

        core.step(new InstallSnapshot(config.groupId(), "n2", "n1", 5, meta, 0, Bytes.wrap(new byte[64]), false, 0));
        core.step(new AppendEntries(config.groupId(), "n3", "n1", 6, 500, 6, List.of(), 0, 1));
        Ready ready = core.ready();
        assertTrue(ready.abandonSnapshotReceiving());
        assertEquals(1, ready.snapshotChunks().size());

        writer.writeNow(job(ready));
        assertEquals(0, tmpFiles(dir), "no sink is left open for a transfer the core gave up");
    }
}

package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.SnapshotMeta;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots, log compaction and InstallSnapshot on the pure core (Raft Figure 13, §7). */
class SnapshotRulesTest {
    private static final String G = "default";
    private static final ClusterConfig THREE = ClusterConfig.ofVoters(Set.of("n1", "n2", "n3"));

    private InMemoryLogStorage storage;

    /** Follower n1 whose log holds the given terms at 2.. after the config entry, in term 5. */
    private RaftCore follower(long... terms) {
        storage = new InMemoryLogStorage();
        List<LogEntry> entries = new ArrayList<>();
        entries.add(new LogEntry(1, 1, EntryType.CONFIG, THREE.encode()));
        for (int i = 0; i < terms.length; i++) {
            entries.add(LogEntry.command(i + 2, terms[i], Bytes.ofUtf8("e" + (i + 2))));
        }
        storage.append(entries, new HardState(5, null));
        return new RaftCore(RaftConfig.builder("n1").build(), storage, new InMemorySnapshotStore(), new SplittableRandom(1));
    }

    private static InstallSnapshot chunk(SnapshotMeta meta, long offset, String data, boolean done, long checksum) {
        return new InstallSnapshot(G, "n2", "n1", 5, meta, offset, Bytes.ofUtf8(data), done, checksum);
    }

    private static InstallSnapshotResponse answer(Ready rd) {
        List<RaftMessage> all = new ArrayList<>(rd.messages());
        all.addAll(rd.messagesAfterPersist());
        List<RaftMessage> answers = all.stream().filter(m -> m instanceof InstallSnapshotResponse).toList();
        assertEquals(1, answers.size(), "one answer expected: " + all);
        return (InstallSnapshotResponse) answers.get(0);
    }

    @Test
    void snapshotChunksAreStoredInOrderAndAcknowledgedAfterTheWrite() {
        RaftCore core = follower(1);
        SnapshotMeta meta = new SnapshotMeta(10, 4, THREE);
        core.step(chunk(meta, 0, "abc", false, 0));
        Ready rd = core.ready();
        assertEquals(1, rd.snapshotChunks().size());
        assertTrue(rd.messages().isEmpty(), "the acknowledgement waits for the chunk to be stored");
        assertEquals(3, answer(rd).nextOffset());
    }

    @Test
    void aSnapshotFromAnEarlierTermIsAnsweredWithTheNewTermAndNotStored() {
        // A deposed leader's chunk, delayed: storing it could discard entries the current leader
        // had this node acknowledge (a snapshot whose last entry conflicts with the log).
        RaftCore core = follower(1, 5, 5);
        SnapshotMeta meta = new SnapshotMeta(10, 4, THREE);
        core.step(new InstallSnapshot(G, "n3", "n1", 4, meta, 0, Bytes.ofUtf8("old"), true, 0));
        Ready rd = core.ready();
        assertTrue(rd.snapshotChunks().isEmpty(), "a chunk of term 4 was stored in term 5");
        assertNull(rd.snapshotToInstall());
        assertEquals(5, answer(rd).term(), "the deposed leader must learn of term 5");
        assertEquals(5, core.term());
        assertEquals(4, core.lastIndex(), "the log is untouched");
        assertNull(core.leaderId(), "a deposed leader is not taken for the current one");
    }

    @Test
    void duplicateSnapshotChunkIsAnsweredButNotStoredAgain() {
        RaftCore core = follower(1);
        SnapshotMeta meta = new SnapshotMeta(10, 4, THREE);
        core.step(chunk(meta, 0, "abc", false, 0));
        core.ready();
        core.step(chunk(meta, 0, "abc", false, 0));
        Ready rd = core.ready();
        assertTrue(rd.snapshotChunks().isEmpty());
        assertEquals(3, answer(rd).nextOffset());
        assertFalse(answer(rd).rejected());
    }

    @Test
    void snapshotChunkAfterAGapAsksToResendFromTheExpectedOffset() {
        RaftCore core = follower(1);
        SnapshotMeta meta = new SnapshotMeta(10, 4, THREE);
        core.step(chunk(meta, 0, "abc", false, 0));
        core.ready();
        core.step(chunk(meta, 6, "ghi", false, 0));
        Ready rd = core.ready();
        assertTrue(rd.snapshotChunks().isEmpty());
        assertTrue(answer(rd).rejected());
        assertEquals(3, answer(rd).nextOffset());
    }

    @Test
    void snapshotChunkOfAnUnknownTransferRestartsItFromZero() {
        RaftCore core = follower(1);   // e.g. this node restarted mid-transfer
        core.step(chunk(new SnapshotMeta(10, 4, THREE), 3, "def", false, 0));
        Ready rd = core.ready();
        assertTrue(answer(rd).rejected());
        assertEquals(0, answer(rd).nextOffset());
    }

    @Test
    void snapshotOfAlreadyCommittedEntriesIsAcknowledgedWithoutInstalling() {
        RaftCore core = follower(1, 1, 1);
        core.step(new io.raft4j.message.AppendEntries(G, "n2", "n1", 5, 4, 1, List.of(), 4, 0));
        core.ready();
        core.step(chunk(new SnapshotMeta(3, 1, THREE), 0, "x", true, 0));
        Ready rd = core.ready();
        assertTrue(rd.snapshotChunks().isEmpty());
        assertTrue(answer(rd).done());
        assertNull(rd.snapshotToInstall());
    }

    @Test
    void snapshotMatchingTheLogKeepsTheEntriesAfterIt() {
        RaftCore core = follower(2, 3, 4, 4);                   // 2:2 3:3 4:4 5:4
        core.ready();
        SnapshotMeta meta = new SnapshotMeta(3, 3, THREE);      // matches entry 3
        core.step(chunk(meta, 0, "state", true, 0));
        core.ready();
        core.snapshotReceived(meta, true);
        Ready rd = core.ready();
        assertEquals(meta, rd.snapshotToInstall());
        assertFalse(rd.compaction().discardAll(), "Figure 13 rule 6: keep the entries after the snapshot");
        assertEquals(5, core.lastIndex());
        assertEquals(4, core.firstIndex());
        assertEquals(3, core.commitIndex());
        assertTrue(answer(rd).done());
    }

    @Test
    void snapshotNotMatchingTheLogDiscardsTheWholeLog() {
        RaftCore core = follower(2, 2, 2);                       // 2..4 all term 2
        core.ready();
        SnapshotMeta meta = new SnapshotMeta(3, 4, THREE);      // index 3 has term 4 in the leader's history
        core.step(chunk(meta, 0, "state", true, 0));
        core.ready();
        core.snapshotReceived(meta, true);
        Ready rd = core.ready();
        assertTrue(rd.compaction().discardAll(), "Figure 13 rule 7: discard the entire log");
        assertEquals(3, core.lastIndex());
        assertEquals(4, core.termAt(3));
        assertEquals(RaftLog.UNKNOWN_TERM, core.termAt(4));
    }

    @Test
    void snapshotFailingItsChecksumIsRequestedAgainFromTheStart() {
        RaftCore core = follower(1);
        SnapshotMeta meta = new SnapshotMeta(10, 4, THREE);
        core.step(chunk(meta, 0, "abc", true, 0));
        core.ready();
        core.snapshotReceived(meta, false);
        Ready rd = core.ready();
        assertNull(rd.snapshotToInstall());
        assertTrue(answer(rd).rejected());
        assertEquals(0, answer(rd).nextOffset());
    }

    @Test
    void localSnapshotCompactsTheLogKeepingTrailingEntries() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(3));
        String leader = c.awaitLeader();
        for (int i = 0; i < 20; i++) {
            c.propose(leader, "v" + i);
        }
        c.tickAll(3);
        SnapshotMeta meta = c.takeSnapshot(leader);
        assertEquals(meta.lastIndex() - 3 + 1, c.core(leader).firstIndex());
        assertEquals(meta.lastIndex() - 3, c.storages.get(leader).firstIndex() - 1, "storage compacted too");
    }

    @Test
    void laggingFollowerCatchesUpBySnapshotStreamedInChunksWhileOthersReplicate() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(16).snapshotChunksInFlight(2));
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 30);
        AtomicInteger chunks = c.countSnapshotChunks();
        c.restart(lagging);
        c.propose(leader, "after");
        c.tickAll(30);
        assertEquals(c.applied.get(leader), c.applied.get(lagging));
        assertTrue(chunks.get() > 10, "the snapshot went in many small chunks: " + chunks);
        assertNotNull(c.snapshots.get(lagging).latest().orElse(null));
    }

    /**
     * A leader keeps the log after a snapshot it is streaming: a follower slower to receive a snapshot
     * than the leader is to take the next one then continues with appends once it installed it. It
     * used to find the entries after it compacted away and need a newer snapshot, again and again
     * while clients wrote (found by the simulation, seed 40006847: two followers still receiving
     * snapshots 200 election timeouts after the faults healed).
     */
    @Test
    void theLogAfterASnapshotBeingStreamedIsKept() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8)
                .snapshotChunksInFlight(1));
        String leader = c.awaitLeader();
        String lagging = c.followerLeftBehindASnapshot(leader, 30);
        long streamed = c.snapshots.get(leader).latest().orElseThrow().meta().lastIndex();
        AtomicInteger chunks = new AtomicInteger();
        c.dropIf = m -> m instanceof InstallSnapshot && chunks.incrementAndGet() > 3; // the rest is slow
        c.restart(lagging);
        c.tickAll(1);
        for (int i = 0; i < 10; i++) {
            c.propose(leader, "during" + i);
        }
        c.tickAll(1);
        c.takeSnapshot(leader); // a newer snapshot while the first is still on its way
        assertEquals(streamed + 1, c.core(leader).firstIndex(), "kept from the snapshot being streamed on");
        c.dropIf = m -> false;
        c.tickAll(60);
        assertEquals(c.applied.get(leader), c.applied.get(lagging));
        assertEquals(streamed, c.snapshots.get(lagging).latest().orElseThrow().meta().lastIndex(),
                "one snapshot installed, the rest by appends");
    }

    @Test
    void snapshotTransferSurvivesLostChunksAndALeaderChange() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(0).snapshotChunkBytes(8));
        String leader = c.awaitLeader();
        String lagging = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.crash(lagging);
        for (int i = 0; i < 20; i++) {
            c.propose(leader, "v" + i);
        }
        c.tickAll(3);
        for (String id : c.ids()) {
            if (!id.equals(lagging)) {
                c.takeSnapshot(id);
            }
        }
        SplittableRandom random = new SplittableRandom(5);
        c.dropIf = m -> m instanceof InstallSnapshot && random.nextDouble() < 0.3;
        c.restart(lagging);
        c.tickAll(5);
        c.crash(leader);                         // the leader dies mid-transfer
        c.tickAll(60);
        c.restart(leader);
        c.tickAll(60);
        c.dropIf = m -> false;
        c.tickAll(30);
        String now = c.leader();
        assertNotNull(now);
        assertEquals(c.applied.get(now), c.applied.get(lagging));
    }

    @Test
    void restartRecoversFromTheSnapshotPlusTheLogAfterIt() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(2));
        String leader = c.awaitLeader();
        for (int i = 0; i < 10; i++) {
            c.propose(leader, "a" + i);
        }
        c.tickAll(3);
        for (String id : c.ids()) {
            c.takeSnapshot(id);
        }
        for (int i = 0; i < 5; i++) {
            c.propose(leader, "b" + i);
        }
        c.tickAll(3);
        List<String> before = new ArrayList<>(c.applied.get(leader));
        for (String id : c.ids()) {
            c.crash(id);
        }
        for (String id : c.ids()) {
            c.restart(id);
        }
        c.awaitLeader();
        c.tickAll(5);
        for (String id : c.ids()) {
            assertEquals(before, c.applied.get(id), id + " recovers snapshot state plus the log after it");
        }
    }

    /**
     * A restart keeps the entries trailing the latest snapshot: a follower slightly behind nodes that
     * just restarted catches up from their logs, not by a snapshot transfer.
     */
    @Test
    void restartKeepsTheEntriesTrailingTheSnapshot() {
        CoreCluster c = new CoreCluster(3, 10, b -> b.snapshotTrailingEntries(50));
        String leader = c.awaitLeader();
        String lagging = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        c.crash(lagging);
        for (int i = 0; i < 10; i++) {
            c.propose(leader, "v" + i);
        }
        c.tickAll(3);
        List<String> up = List.of(c.ids()).stream().filter(id -> !id.equals(lagging)).toList();
        for (String id : up) {
            c.takeSnapshot(id);
            c.crash(id);
        }
        for (String id : up) {
            c.restart(id);
            assertEquals(1, c.core(id).firstIndex(), id + " kept its log behind the snapshot");
        }
        AtomicInteger snapshotChunks = c.countSnapshotChunks();
        c.restart(lagging);
        String now = c.awaitLeader();
        c.propose(now, "after");
        c.tickAll(10);
        assertEquals(c.applied.get(now), c.applied.get(lagging));
        assertEquals(0, snapshotChunks.get(), "caught up from the log");
    }

    /** A node that crashed between publishing a snapshot and compacting its log compacts at restart. */
    @Test
    void restartFinishesACompactionKeepingTheTrailingEntries() throws Exception {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        List<LogEntry> entries = new ArrayList<>();
        entries.add(new LogEntry(1, 1, EntryType.CONFIG, THREE.encode()));
        for (long i = 2; i <= 20; i++) {
            entries.add(LogEntry.command(i, 1, Bytes.ofUtf8("x" + i)));
        }
        storage.append(entries, new HardState(1, null));
        InMemorySnapshotStore snapshots = new InMemorySnapshotStore();
        try (var sink = snapshots.begin(new SnapshotMeta(15, 1, THREE))) {
            sink.out().write(1);
            sink.publish(null);
        }
        RaftCore core = new RaftCore(RaftConfig.builder("n1").snapshotTrailingEntries(4).build(), storage, snapshots,
                new SplittableRandom(1));
        assertEquals(12, core.firstIndex(), "compacted to 15 - 4");
        assertEquals(15, core.commitIndex(), "the snapshot's entries are committed");
        assertEquals(20, core.lastIndex());
        assertEquals(THREE, core.clusterConfig());
        Ready rd = core.ready();
        assertTrue(rd.committedEntries().isEmpty(), "nothing the snapshot holds is applied again: " + rd.committedEntries());
        assertNotNull(rd.compaction());
        assertEquals(11, rd.compaction().index());
        assertFalse(rd.compaction().discardAll());
    }

    @Test
    void refusesToStartWhenTheLogIsCompactedPastTheLatestSnapshot() {
        InMemoryLogStorage log = new InMemoryLogStorage();
        log.append(List.of(new LogEntry(1, 1, EntryType.CONFIG, THREE.encode()),
                LogEntry.command(2, 1, Bytes.ofUtf8("x"))), new HardState(1, null));
        log.compact(2, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new RaftCore(
                RaftConfig.builder("n1").build(), log, new InMemorySnapshotStore(), new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("cannot be recovered"), e.getMessage());
    }


}

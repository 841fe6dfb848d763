package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A snapshot whose last entry the follower's log does not hold replaces the whole log (Raft Figure
 * 13, rule 7): what the discarded entries said must go with them. Found in review: the durable index
 * and the configurations of the discarded log outlived it.
 */
class SnapshotDiscardingLogTest {
    private static final String G = "default";
    private static final ClusterConfig FOUR = ClusterConfig.ofVoters(Set.of("n1", "n2", "n3", "n4"));
    private static final ClusterConfig FIVE = ClusterConfig.ofVoters(Set.of("n1", "n2", "n3", "n4", "n5"));
    private static final ClusterConfig THREE = ClusterConfig.ofVoters(Set.of("n1", "n2", "n3"));

    /**
     * n1's durable log: 1 = config {@code base} (term 1), 2 = no-op of term 2 (n1 led term 2),
     * 3..(2+commands) = commands of term 2 n1 accepted while partitioned, then optionally a config
     * entry {@code stale} of term 2 that never got replicated. Current term 5.
     */
    private static InMemoryLogStorage partitionedOldLeaderLog(ClusterConfig base, int commands, ClusterConfig stale) {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        List<LogEntry> entries = new ArrayList<>();
        entries.add(new LogEntry(1, 1, EntryType.CONFIG, base.encode()));
        entries.add(new LogEntry(2, 2, EntryType.NOOP, Bytes.EMPTY));
        for (int i = 0; i < commands; i++) {
            entries.add(LogEntry.command(3 + i, 2, Bytes.ofUtf8("stale" + i)));
        }
        if (stale != null) {
            entries.add(new LogEntry(3 + commands, 2, EntryType.CONFIG, stale.encode()));
        }
        storage.append(entries, new HardState(5, null));
        return storage;
    }

    private static RaftConfig.Builder settings() {
        return RaftConfig.builder("n1").preVote(false).checkQuorum(false);
    }

    /**
     * Has n2 (leader of term 5, idle: its whole log 1..4 ends with its own no-op at 4) stream n1 a
     * snapshot ending at (4, term 5) with {@code config}; n1 installs it.
     */
    private static void installSnapshotFromLeader(RaftCore core, ClusterConfig config) {
        SnapshotMeta meta = new SnapshotMeta(4, 5, config);
        core.step(new InstallSnapshot(G, "n2", "n1", 5, meta, 0, Bytes.ofUtf8("state"), true, 0));
        core.ready();
        core.snapshotReceived(meta, true);
        Ready rd = core.ready();
        assertTrue(rd.compaction().discardAll(), "precondition: n1's entry 4 is of term 2, so the log is discarded");
        assertEquals(4, core.lastIndex());
    }

    /** Feeds back the messages a core addressed to itself (its own vote, once "durable"). */
    private static void stepOwn(RaftCore core, Ready rd) {
        for (RaftMessage m : rd.messagesAfterPersist()) {
            if (m.to().equals(core.id())) {
                core.step(m);
            }
        }
    }

    /**
     * SnapshotInstaller.onReceived / ConfigHistory.compactTo: installing a snapshot that discards the
     * whole log (Figure 13 rule 7) keeps the configuration entries of the discarded log that lie after
     * the snapshot. The node then runs on a configuration from an entry that is no longer in its log.
     */
    @Test
    void snapshotThatDiscardsTheLogAlsoDiscardsItsConfigurations() {
        RaftCore core = new RaftCore(settings().build(), partitionedOldLeaderLog(FOUR, 3, FIVE),
                new InMemorySnapshotStore(), new SplittableRandom(1));
        core.ready();
        assertEquals(FIVE, core.clusterConfig());
        installSnapshotFromLeader(core, THREE);
        assertEquals(THREE, core.clusterConfig(),
                "the configuration in force must come from the snapshot, not from discarded entry 6");
    }

    /**
     * Consequence of the above: n1 wins an election with votes from n4 and n5 only. Neither is a voter
     * of the configuration in force ({n1,n2,n3}), whose majority {n2,n3} can elect another leader in
     * the same term: two leaders in one term.
     */
    @Test
    void nodeIsNotElectedByVotersOfADiscardedConfiguration() {
        RaftCore core = new RaftCore(settings().build(), partitionedOldLeaderLog(FOUR, 3, FIVE),
                new InMemorySnapshotStore(), new SplittableRandom(1));
        core.ready();
        installSnapshotFromLeader(core, THREE);
        core.campaign();
        Ready rd = core.ready();
        stepOwn(core, rd);
        long term = core.term();
        core.step(new RequestVoteResponse(G, "n4", "n1", term, true, false));
        core.step(new RequestVoteResponse(G, "n5", "n1", term, true, false));
        assertNotEquals(Role.LEADER, core.role(),
                "elected in term " + term + " by n1,n4,n5 while the configuration in force is {n1,n2,n3}");
    }

    /**
     * Same defect on the restart path (SnapshotInstaller.reconcileAtStartup): the node crashed after
     * publishing the received snapshot and before resetting its log.
     */
    @Test
    void restartFinishingADiscardingInstallDropsConfigurationsOfTheDiscardedLog() throws Exception {
        InMemoryLogStorage storage = partitionedOldLeaderLog(FOUR, 3, FIVE);
        InMemorySnapshotStore snapshots = new InMemorySnapshotStore();
        SnapshotMeta meta = new SnapshotMeta(4, 5, THREE);
        try (SnapshotStore.Sink sink = snapshots.begin(meta)) {
            sink.out().write("state".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sink.publish(null);
        }
        RaftCore core = new RaftCore(settings().build(), storage, snapshots, new SplittableRandom(1));
        assertEquals(4, core.lastIndex());
        assertEquals(THREE, core.clusterConfig());
    }

    /**
     * RaftLog.installSnapshot: when the snapshot discards the log, {@code persisted} is only raised
     * (max), never lowered to the snapshot index. n1's durable log ended at 8, so after the install
     * "persisted" is 8 while the log ends at 4. Elected next, n1 counts its own not-yet-durable
     * entries 5..8 as durable in LeaderState.maybeCommit: one follower ack commits (and hands out for
     * applying) an entry of which only one durable copy exists in a 3-node cluster.
     */
    @Test
    void leaderDoesNotCountEntriesNotYetDurableAfterADiscardingInstall() {
        RaftCore core = new RaftCore(settings().build(), partitionedOldLeaderLog(THREE, 6, null),
                new InMemorySnapshotStore(), new SplittableRandom(1));
        core.ready();
        assertEquals(8, core.lastIndex());
        installSnapshotFromLeader(core, THREE);
        core.campaign();
        Ready rd = core.ready();
        stepOwn(core, rd);
        long term = core.term();
        // n2 crashed; n3's log also ends at (4, term 5), so it grants.
        core.step(new RequestVoteResponse(G, "n3", "n1", term, true, false));
        assertEquals(Role.LEADER, core.role());
        long command = core.propose(Bytes.ofUtf8("x"));           // no-op at 5, x at 6
        assertEquals(6, command);
        core.ready();                                              // the write of 5..6 starts, never reported durable
        core.step(new AppendEntriesResponse(G, "n3", "n1", term, true, 6, 0, 0, 0, 0));
        List<LogEntry> applied = core.ready().committedEntries();
        assertTrue(core.commitIndex() < 6,
                "committed " + core.commitIndex() + " with n3's copy only (the leader's own 5..6 are not durable);"
                        + " handed out to apply: " + applied);
    }
}

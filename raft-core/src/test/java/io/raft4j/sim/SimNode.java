package io.raft4j.sim;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;

import io.raft4j.core.LogCompaction;
import io.raft4j.core.SnapshotChunk;

import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One simulated node: a {@link RaftCore} over a durable in-memory store, the writes it has handed
 * out that are not durable yet (lost in a crash), and its applied state.
 */
final class SimNode {
    /** A write handed out by the core, durable only once {@code completeAtUs} is reached. */
    record PendingWrite(List<LogEntry> entries, HardState hardState, List<RaftMessage> afterPersist,
                        List<SnapshotChunk> chunks, LogCompaction compaction, long completeAtUs) {
    }

    final String id;
    final InMemoryLogStorage storage = new InMemoryLogStorage();
    final InMemorySnapshotStore snapshots = new InMemorySnapshotStore(2);
    /** A snapshot being received from the leader (lost in a crash). */
    SnapshotStore.Sink receiving;
    long lastSnapshotIndex;
    final ArrayDeque<PendingWrite> pendingWrites = new ArrayDeque<>();
    RaftCore core;
    LogMirror mirror;
    boolean up;
    int incarnation;
    /** The state machine: how far it has applied, and a hash chain over what it applied. */
    long appliedIndex;
    long appliedChain;
    io.raft4j.message.ClusterConfig appliedConfig = io.raft4j.message.ClusterConfig.EMPTY;
    long knownCommit;
    /** When {@link #knownCommit} last moved, in simulated time. */
    long commitAdvancedAtUs;
    double tickPeriodUs;
    /** When this incarnation started, in simulated time: its clock counts ticks from there. */
    long startedAtUs;
    /** Paused (handles nothing, not even ticks) until this simulated time. */
    long pausedUntilUs;
    /** When it last woke from a pause. */
    long resumedAtUs;
    /** Simulated time spent paused in all, the current pause included. */
    long pausedTotalUs;

    SimNode(String id) {
        this.id = id;
    }

    /** Starts (or restarts) from durable state only. */
    void start(RaftConfig config, java.time.Duration tick, long seed, SafetyChecker checker) {
        incarnation++;
        pendingWrites.clear();
        receiving = null;
        core = new RaftCore(config, storage, snapshots, new SplittableRandom(seed * 31 + incarnation), tick);
        long base = storage.firstIndex() - 1;
        mirror = new LogMirror(base, checker.committedChain(base));
        if (storage.lastIndex() >= storage.firstIndex()) {
            mirror.write(storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Long.MAX_VALUE));
        }
        appliedIndex = 0;
        appliedChain = 0;
        appliedConfig = io.raft4j.message.ClusterConfig.EMPTY;
        snapshots.latest().ifPresent(s -> restore(s.meta().lastIndex(), checker));
        knownCommit = core.commitIndex();
        up = true;
    }

    /** Restores the state machine from the stored snapshot at {@code index}, checking it is the committed state. */
    void restore(long index, SafetyChecker checker) {
        byte[] content = snapshots.read(index, 0, 16).toByteArray();
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(content);
        long storedIndex = buf.getLong();
        long chain = buf.getLong();
        if (storedIndex != index || chain != checker.committedChain(index)) {
            throw new SafetyChecker.Violation("state machine safety: " + id + " restored a snapshot at " + index
                    + " that is not the committed state");
        }
        appliedIndex = index;
        appliedChain = chain;
        snapshots.latest().filter(s -> s.meta().lastIndex() == index).ifPresent(s -> appliedConfig = s.meta().config());
        lastSnapshotIndex = Math.max(lastSnapshotIndex, index);
    }

    void crash() {
        up = false;
        core = null;
        pendingWrites.clear();
        receiving = null;
    }
}

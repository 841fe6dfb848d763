package io.raft4j.sim;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;

import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One simulated node: a {@link RaftCore} over a durable in-memory store, the writes it has handed
 * out that are not durable yet (lost in a crash), and its applied state.
 */
final class SimNode {
    /** A write handed out by the core, durable only once {@code completeAtUs} is reached. */
    record PendingWrite(List<LogEntry> entries, HardState hardState, List<RaftMessage> afterPersist, long completeAtUs) {
    }

    final String id;
    final InMemoryLogStorage storage = new InMemoryLogStorage();
    final ArrayDeque<PendingWrite> pendingWrites = new ArrayDeque<>();
    RaftCore core;
    LogMirror mirror;
    boolean up;
    int incarnation;
    long appliedIndex;
    long appliedChain;
    long knownCommit;
    double tickPeriodUs;

    SimNode(String id) {
        this.id = id;
    }

    /** Starts (or restarts) from durable state only. */
    void start(RaftConfig config, long seed) {
        incarnation++;
        pendingWrites.clear();
        core = new RaftCore(config, storage, new SplittableRandom(seed * 31 + incarnation));
        mirror = new LogMirror(storage.firstIndex() - 1, 0);
        if (storage.lastIndex() >= storage.firstIndex()) {
            mirror.write(storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Long.MAX_VALUE));
        }
        appliedIndex = storage.firstIndex() - 1;
        appliedChain = 0;
        knownCommit = core.commitIndex();
        up = true;
    }

    void crash() {
        up = false;
        core = null;
        pendingWrites.clear();
    }
}

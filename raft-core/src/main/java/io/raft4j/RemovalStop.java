package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Stops a node that learned it was removed from its group, neither at once nor never: first what it
 * knows committed is applied, so that callers get their results, but a stuck state machine must not
 * keep a removed node running. That takes waiting on the loop, and an earlier removal replayed by a
 * node added back under the same id must not stop it; this class keeps both out of the node's batch
 * handling, which only asks it to look after each batch. Loop thread only.
 */
final class RemovalStop {
    /** As before this class was split out of the node: log settings for {@link RaftNode} still cover it. */
    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

    private final RaftConfig config;
    private final RaftCore core;
    private final LoopWatch watches;
    /** The loop's tick count. */
    private final LongSupplier loopTicks;
    /** The index the state machine has applied. */
    private final LongSupplier appliedIndex;
    /** Has the node stopped, off the loop (called on the loop: it must not wait for the stop). */
    private final Runnable stopNode;
    private boolean handled;

    RemovalStop(RaftConfig config, RaftCore core, LoopWatch watches, LongSupplier loopTicks,
                LongSupplier appliedIndex, Runnable stopNode) {
        this.config = config;
        this.core = core;
        this.watches = watches;
        this.loopTicks = loopTicks;
        this.appliedIndex = appliedIndex;
        this.stopNode = stopNode;
    }

    /** After each batch the loop handled: once the core says this node is removed, stops it when that settles. */
    void checkRemoved() {
        if (!handled && core.isRemoved()) {
            handled = true;
            // First apply what is known committed (the removal itself, and what a leader removing
            // itself committed with it), so their callers get their results; a write still on its way
            // to the local disk may take a moment, and a slow state machine longer (the apply backlog
            // holds the rest in the log). Stop regardless once applying makes no progress for an
            // election timeout: a state machine that is stuck must not keep a removed node running.
            // (A node added back under a removed one's id replays that old removal, but is not
            // "removed": the leader's appends say it is a member. Should it become one again
            // meanwhile all the same, it goes on.)
            long committed = core.commitIndex();
            Unchanging applied = new Unchanging(appliedIndex);
            int timeout = config.electionTimeoutTicks();
            watches.add(() -> !core.isRemoved() || appliedIndex.getAsLong() >= committed || applied.forTicks(timeout),
                    this::onSettled, new CompletableFuture<Void>());
            watches.check();
        }
    }

    private void onSettled() {
        if (core.isRemoved()) {
            stopRemoved();
        } else {
            handled = false;
            LOG.info("{}: a member of group {} again: the removal it saw was an earlier one", config.nodeId(),
                    config.groupId());
        }
    }

    /** Whether a reading (such as the entries applied) stayed the same for a number of loop ticks. */
    private final class Unchanging {
        private final LongSupplier reading;
        private long last;
        private long lastChangeTick = loopTicks.getAsLong();

        Unchanging(LongSupplier reading) {
            this.reading = reading;
            this.last = reading.getAsLong();
        }

        boolean forTicks(long ticks) {
            long now = reading.getAsLong();
            if (now != last) {
                last = now;
                lastChangeTick = loopTicks.getAsLong();
            }
            return loopTicks.getAsLong() - lastChangeTick >= ticks;
        }
    }

    private void stopRemoved() {
        LOG.info("{}: removed from group {}; stopping", config.nodeId(), config.groupId());
        stopNode.run();
    }
}

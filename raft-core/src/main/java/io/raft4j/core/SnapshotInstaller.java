package io.raft4j.core;

import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.SnapshotMeta;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The follower's side of snapshots, and log compaction: receives chunks from the leader (handing
 * them to the driver to store), installs a received snapshot per Raft Figure 13, compacts the log
 * behind local snapshots, and finishes a compaction interrupted by a crash. Its effects leave
 * through {@link Ready}: chunks to store, a snapshot to restore, a log compaction.
 */
final class SnapshotInstaller {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotInstaller.class);

    private final RaftCore core;
    private final RaftLog log;
    private final ConfigHistory configs;
    private final RaftConfig settings;
    private final SnapshotReceiver receiver = new SnapshotReceiver();
    private boolean receptionAbandoned;
    private final List<SnapshotChunk> chunksToStore = new ArrayList<>();
    private SnapshotMeta snapshotToInstall;
    private LogCompaction pendingCompaction;

    SnapshotInstaller(RaftCore core, RaftLog log, ConfigHistory configs, RaftConfig settings) {
        this.core = core;
        this.log = log;
        this.configs = configs;
        this.settings = settings;
    }

    /**
     * At start-up, with the state machine restored from {@code latest}: its entries are committed and
     * applied. If the log still holds its last entry (same index and term), the log is kept, trimmed
     * only as a local snapshot would trim it (finishing a compaction a crash interrupted), so the
     * {@link RaftConfig#snapshotTrailingEntries() trailing entries} still serve followers slightly
     * behind. Otherwise the node crashed while installing a snapshot from the leader that conflicts
     * with its log: finish that install, discarding the log (Raft Figure 13, rule 7).
     */
    void reconcileAtStartup(SnapshotMeta latest) {
        long index = latest.lastIndex();
        if (index <= log.compactIndex()) {
            return;
        }
        if (log.term(index) == latest.lastTerm()) {
            // Log Matching: the log up to here is the snapshot's committed prefix. The configurations
            // read back from it stay; the one in force at any index from the snapshot point on is right.
            log.restoreSnapshotPoint(index);
            compactBehind(index);
            return;
        }
        boolean discard = log.installSnapshot(index, latest.lastTerm());
        installConfig(latest, discard);
        pendingCompaction = new LogCompaction(index, latest.lastTerm(), discard);
    }

    /** The snapshot's configuration becomes the base; with the log discarded, also the one in force. */
    private void installConfig(SnapshotMeta meta, boolean discard) {
        if (discard) {
            configs.resetTo(meta.lastIndex(), meta.config());
        } else {
            configs.compactTo(meta.lastIndex(), meta.config());
        }
    }

    /** Called with the current term whenever effects are collected: see {@link SnapshotReceiver#abandonIfOlderThan}. */
    void onTerm(long term) {
        if (receiver.abandonIfOlderThan(term)) {
            LOG.debug("{}: gave up a snapshot transfer of an earlier term", core.id());
            receptionAbandoned = true;
        }
    }

    /** Whether the partly received snapshot must be dropped (once; the flag is then cleared). */
    boolean takeReceptionAbandoned() {
        boolean abandoned = receptionAbandoned;
        receptionAbandoned = false;
        return abandoned;
    }

    /** A chunk from the current leader (term and role already handled by the core). */
    void onChunk(InstallSnapshot m) {
        long index = m.meta().lastIndex();
        if (index <= log.committed()) {
            // Everything the snapshot holds is already committed here: nothing to install.
            core.send(answer(m.from(), index, 0, true, false));
            return;
        }
        switch (receiver.offer(m)) {
            case WRITE -> {
                chunksToStore.add(new SnapshotChunk(m.meta(), m.offset(), m.chunk(), m.done(), m.checksum()));
                if (!m.done()) {
                    core.send(answer(m.from(), index, receiver.expectedOffset(), false, false));
                }
            }
            case DUPLICATE -> core.send(answer(m.from(), index, receiver.expectedOffset(), false, false));
            case RESEND -> core.send(answer(m.from(), index, receiver.resendFrom(), false, true));
        }
    }

    /** See {@link RaftCore#snapshotReceived}. */
    void onReceived(SnapshotMeta meta, boolean published) {
        if (!receiver.isAwaiting(meta)) {
            return;
        }
        String from = receiver.leader();
        receiver.reset();
        if (!published) {
            LOG.warn("{}: snapshot at {} from {} failed verification; asking for it again", core.id(), meta.lastIndex(), from);
            core.send(answer(from, meta.lastIndex(), 0, false, true));
            return;
        }
        if (meta.lastIndex() > log.committed()) {
            boolean discard = log.installSnapshot(meta.lastIndex(), meta.lastTerm());
            installConfig(meta, discard);
            snapshotToInstall = meta;
            pendingCompaction = new LogCompaction(meta.lastIndex(), meta.lastTerm(), discard);
            LOG.info("{}: installed snapshot up to {} (term {}) from {}{}", core.id(), meta.lastIndex(), meta.lastTerm(),
                    from, discard ? ", discarding the log" : "");
        }
        core.send(answer(from, meta.lastIndex(), 0, true, false));
    }

    /** See {@link RaftCore#snapshotTaken}. */
    void onTaken(SnapshotMeta meta) {
        compactBehind(meta.lastIndex());
    }

    /**
     * Compacts the log behind a snapshot ending at {@code snapshotIndex}, keeping the trailing entries
     * and every entry after a snapshot being streamed to a follower.
     */
    private void compactBehind(long snapshotIndex) {
        long target = Math.min(Math.min(snapshotIndex - settings.snapshotTrailingEntries(), core.compactionFloor()),
                Math.min(log.committed(), log.persisted()));
        if (target <= log.compactIndex()) {
            return;
        }
        log.compactTo(target);
        configs.compactTo(target, configs.configAt(target));
        pendingCompaction = new LogCompaction(target, log.compactTerm(), false);
    }

    private InstallSnapshotResponse answer(String to, long index, long nextOffset, boolean done, boolean rejected) {
        return new InstallSnapshotResponse(core.groupId(), core.id(), to, core.term(), index, nextOffset, done, rejected);
    }

    boolean hasEffects() {
        return !chunksToStore.isEmpty() || snapshotToInstall != null || pendingCompaction != null || receptionAbandoned;
    }

    List<SnapshotChunk> takeChunksToStore() {
        if (chunksToStore.isEmpty()) {
            return List.of();
        }
        List<SnapshotChunk> taken = List.copyOf(chunksToStore);
        chunksToStore.clear();
        return taken;
    }

    SnapshotMeta takeSnapshotToInstall() {
        SnapshotMeta taken = snapshotToInstall;
        snapshotToInstall = null;
        return taken;
    }

    LogCompaction takeCompaction() {
        LogCompaction taken = pendingCompaction;
        pendingCompaction = null;
        return taken;
    }
}

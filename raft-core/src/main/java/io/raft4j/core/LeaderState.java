package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.LogEntry;
import io.raft4j.message.TimeoutNow;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What only a leader keeps for its term: per-follower progress, replication and its flow control,
 * the commit rule, and (through {@link LeaderReads}) read-index confirmation. Lives exactly as long
 * as one leadership.
 */
final class LeaderState {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderState.class);
    private final RaftCore core;
    private final RaftLog log;
    private final RaftConfig settings;
    private final Map<String, Progress> progress = new HashMap<>();
    private final LeaderReads reads;
    private final UncommittedBudget uncommitted;
    /**
     * Addresses of members being removed that are still tracked: taken from the committed
     * configuration when the change removing each was appended (it still held them then).
     */
    private final Map<String, String> removedAddresses = new HashMap<>();
    /** See {@link #peerAddresses()}. */
    private Map<String, String> peerAddresses = Map.of();

    LeaderState(RaftCore core, RaftLog log, RaftConfig settings) {
        this.core = core;
        this.log = log;
        this.settings = settings;
        this.reads = new LeaderReads(settings, core.leaseReadTally());
        this.uncommitted = new UncommittedBudget(settings.maxUncommittedBytes());
        // A leader elected while a change is uncommitted inherits it, and commits it: the members it
        // removes must be told as the leader that made it would have told them. Tracking the current
        // configuration alone, a removed member was never heard from again (holding the change, it no
        // longer campaigns) and ran on for ever. syncMembers keeps those of the committed
        // configuration that the current one drops as members being removed.
        for (String id : core.committedConfig().allMembers()) {
            if (!id.equals(core.id())) {
                progress.put(id, newProgress());
            }
        }
        syncMembers(core.clusterConfig());
    }

    private Progress newProgress() {
        return new Progress(log.lastIndex() + 1, settings.maxInflightMessages(), settings.maxInflightBytes());
    }

    /**
     * Tracks progress for the members of the current configuration and, until it is committed, of
     * the committed one too: a member being removed keeps receiving the log until the change that
     * removes it commits, and then that commit, so it learns it was removed and can stop. Only
     * {@link #pruneRemovedMembers} forgets a member being removed, once it was told (or is silent):
     * dropped here when the next change was appended (neither configuration lists it then), a member
     * removed a moment before and not told yet was never told, and ran on for ever.
     */
    void syncMembers(ClusterConfig config) {
        ClusterConfig committed = core.committedConfig();
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            String id = e.getKey();
            if (config.isMember(id)) {
                // A member again (removed, then added back before it was forgotten): a later
                // removal takes its address then, and needs a notice of its own.
                removedAddresses.remove(id);
                e.getValue().markRemovalHeldIn(0);
            } else {
                tracksRemovedMembers = true;
                removedAddresses.computeIfAbsent(id, committed.addresses()::get);
            }
        }
        for (String id : config.allMembers()) {
            if (!id.equals(core.id()) && !progress.containsKey(id)) {
                progress.put(id, newProgress());
            }
        }
        updatePeerAddresses();
    }

    /**
     * Whom this leader sends to: its configuration's members (both halves of a joint one) and the
     * members being removed that it still tracks. The same instance until that changes.
     */
    Map<String, String> peerAddresses() {
        return peerAddresses;
    }

    private void updatePeerAddresses() {
        Map<String, String> current = core.clusterConfig().addresses();
        removedAddresses.keySet().retainAll(progress.keySet());
        Map<String, String> next = current;
        if (!removedAddresses.isEmpty()) {
            Map<String, String> all = new HashMap<>(removedAddresses);
            all.putAll(current);
            next = Collections.unmodifiableMap(all);
        }
        if (!next.equals(peerAddresses)) {
            peerAddresses = next;
        }
    }

    Progress progress(String id) {
        return progress.get(id);
    }

    /** The bytes of this term's commands not yet committed and handed out for apply, and their bound. */
    UncommittedBudget uncommitted() {
        return uncommitted;
    }

    /** Every follower's progress, voters first, each group by id. */
    List<FollowerProgress> followers() {
        ClusterConfig config = core.clusterConfig();
        List<FollowerProgress> out = new ArrayList<>(progress.size());
        progress.forEach((id, pr) -> out.add(new FollowerProgress(id, config.isVoter(id), pr.match(), pr.next(),
                pr.state(), pr.answeredLately())));
        out.sort(Comparator.comparing((FollowerProgress f) -> !f.voter()).thenComparing(FollowerProgress::nodeId));
        return out;
    }

    // ---- leadership transfer -----------------------------------------------------------------

    private String transferTarget;
    private int transferElapsed;

    String transferTarget() {
        return transferTarget;
    }

    /**
     * Set once a transfer has started, for the rest of this leadership: its TimeoutNow may reach the
     * target late, even after the transfer was given up, and the election it starts does not wait
     * for any lease to run out (voters grant a transfer's vote though they heard from this leader a
     * moment ago). So no lease is trusted again in this term; reads confirm with a round instead.
     */
    private boolean leaseForfeited;

    void startTransfer(String target) {
        transferTarget = target;
        leaseForfeited = true;
        reads.endLease(); // the target will be elected without waiting it out
        transferElapsed = 0;
        maybeSendTimeoutNow(target);
    }

    /** Ticks the transfer; gives up after an election timeout. */
    void tickTransfer() {
        if (transferTarget != null && ++transferElapsed >= settings.electionTimeoutTicks()) {
            LOG.info("{}: leadership transfer to {} timed out; taking proposals again", core.id(), transferTarget);
            transferTarget = null;
        }
    }

    private void maybeSendTimeoutNow(String peer) {
        Progress pr = progress.get(peer);
        if (peer.equals(transferTarget) && pr != null && pr.match() == log.lastIndex()) {
            core.send(new TimeoutNow(core.groupId(), core.id(), peer, core.term()));
        } else if (pr != null) {
            sendAppends(peer, pr, false);
        }
    }

    // ---- replication -------------------------------------------------------------------------

    /** Sends every follower what it is missing, as far as flow control allows. */
    void replicateToAll() {
        boolean startRound = reads.takeNewRoundNeeded();
        if (startRound) {
            reads.startRound(core.leaseClock());
        }
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            boolean mustSend = startRound || pr.sentCommit() < Math.min(log.committed(), pr.match());
            sendAppends(e.getKey(), pr, mustSend);
        }
        pruneRemovedMembers();
    }

    /** Members being removed are still tracked (see {@link #syncMembers}). */
    private boolean tracksRemovedMembers;
    /** Heartbeats since the configuration removing them committed. */
    private int removalGraceHeartbeats;

    /**
     * Forgets members the committed configuration removed, once each has surely been told (so it
     * can stop itself), or, an election timeout after the removal committed at the earliest, once
     * it has not answered for an election timeout. Told means: it holds the
     * removing entry (match), and it acknowledged a message of a read round later than the one in
     * which that was first seen; every message of such a round carries a commit index of at least
     * min(commit, match), which covers the removal. Sent is not enough: the transport drops a peer
     * the moment it is forgotten, possibly with that message still unwritten, and a removed member
     * that joined after the others were configured is then unknown to the transport and never
     * learns it was removed.
     */
    private void pruneRemovedMembers() {
        long configIndex = core.configIndex();
        if (!tracksRemovedMembers || configIndex > log.committed()) {
            return;
        }
        ClusterConfig config = core.clusterConfig();
        boolean graceOver = removalGraceHeartbeats * settings.heartbeatIntervalTicks() >= settings.electionTimeoutTicks();
        tracksRemovedMembers = false;
        boolean forgotten = progress.entrySet().removeIf(e -> {
            if (config.isMember(e.getKey())) {
                return false;
            }
            Progress pr = e.getValue();
            if (graceOver && !pr.heardWithin(core.ticks(), settings.electionTimeoutTicks())) {
                // Down or cut off. One that answers is kept however long it takes to tell it: a
                // member lagging far behind its removal was forgotten while it caught up, and never
                // stopped.
                return true;
            }
            if (pr.match() >= configIndex) {
                if (pr.removalNoticeRound() == 0) {
                    pr.markRemovalHeldIn(reads.round());
                } else if (pr.ackedRound() > pr.removalNoticeRound()) {
                    return true;
                }
            }
            tracksRemovedMembers = true;
            return false;
        });
        if (!tracksRemovedMembers) {
            removalGraceHeartbeats = 0;
        }
        if (forgotten) {
            updatePeerAddresses(); // (this runs for every batch while a removed member is tracked)
        }
    }

    /** Heartbeat: an append with no entries to every follower, carrying the commit index and round. */
    void heartbeat() {
        reads.startRound(core.leaseClock()); // acknowledgements of each heartbeat round renew the lease
        if (tracksRemovedMembers && core.configIndex() <= log.committed()) {
            removalGraceHeartbeats++;
        }
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            pr.onHeartbeat();
            sendHeartbeat(e.getKey(), pr);
        }
    }

    private void sendHeartbeat(String to, Progress pr) {
        if (pr.state() == ReplicationState.SNAPSHOT) {
            if (transferLooksAbandoned(pr.outgoing())) {
                // The follower has not answered for an election timeout (it is down, or cut off):
                // when it is back, the newest snapshot serves it better than the rest of an old one.
                startSnapshot(to, pr);
                return;
            }
            sendSnapshotChunks(to, pr);
            return;
        }
        // prevLogIndex = match: the follower is known to hold it, so a heartbeat never triggers a
        // spurious rejection while appends are in flight. Commit beyond match would be unsafe to
        // announce: the follower could commit entries it does not have yet from this leader.
        long prev = pr.match();
        long prevTerm = log.term(prev);
        if (prevTerm == RaftLog.UNKNOWN_TERM) {
            return; // compacted: the follower needs a snapshot, replication handles it
        }
        long commit = Math.min(log.committed(), prev);
        core.send(new AppendEntries(core.groupId(), core.id(), to, core.term(), prev, prevTerm, List.of(),
                commit, reads.round(), !core.clusterConfig().isMember(to), core.bootstrapFingerprint()));
        pr.commitSent(commit);
    }

    /**
     * Sends appends to {@code to} while it is not paused and entries remain; if nothing is sent and
     * {@code sendIfEmpty}, sends one empty append (commit index, round).
     */
    private void sendAppends(String to, Progress pr, boolean sendIfEmpty) {
        // A follower in PROBE whose match is unknown must be probed even with no new entries: an
        // append at next - 1 is how the leader learns where the logs match (a new member starts at
        // next = last + 1 with nothing to send).
        sendIfEmpty |= needsProbe(pr);
        boolean sentAny = false;
        while (!pr.isPaused()) {
            long prev = pr.next() - 1;
            long prevTerm = log.term(prev);
            if (prevTerm == RaftLog.UNKNOWN_TERM) {
                // Entries the follower needs were compacted into a snapshot.
                startSnapshot(to, pr);
                return;
            }
            List<LogEntry> entries = log.entries(pr.next(), log.lastIndex() + 1, settings.maxMessageBytes());
            if (entries.isEmpty() && (sentAny || !sendIfEmpty)) {
                return;
            }
            if (entries.isEmpty() && !needsProbe(pr) && log.term(pr.match()) != RaftLog.UNKNOWN_TERM) {
                // Not a probe (a read round, a commit update): anchored at match, like a heartbeat.
                // At next - 1 it could reach the follower before the appends in flight (a transport
                // sends small messages ahead of queued bulk; networks reorder), be rejected for a
                // gap, and send the leader back to probing, resending all of them.
                prev = pr.match();
                prevTerm = log.term(prev);
            }
            long last = prev + entries.size();
            long commit = Math.min(log.committed(), last);
            AppendEntries m = new AppendEntries(core.groupId(), core.id(), to, core.term(), prev, prevTerm,
                    entries, commit, reads.round(), !core.clusterConfig().isMember(to), core.bootstrapFingerprint());
            core.send(m);
            pr.commitSent(commit);
            pr.onAppendSent(last, m.sizeBytes(), !entries.isEmpty());
            sentAny = true;
            if (entries.isEmpty()) {
                return;
            }
        }
    }

    // ---- snapshots ---------------------------------------------------------------------------

    /**
     * The lowest index at which a snapshot being streamed to a follower ends, or
     * {@code Long.MAX_VALUE}: the log is kept after it. Compacted past it, a follower that takes
     * longer to receive a snapshot than this leader takes to make the next one would need another
     * snapshot on installing each, and never catch up while clients write.
     */
    long snapshotTransfersFloor() {
        long floor = Long.MAX_VALUE;
        for (Progress pr : progress.values()) {
            if (pr.state() == ReplicationState.SNAPSHOT) {
                floor = Math.min(floor, pr.outgoing().info.meta().lastIndex());
            }
        }
        return floor;
    }

    /** Silent for an election timeout's worth of heartbeats, and a newer snapshot exists. */
    private boolean transferLooksAbandoned(Progress.OutgoingSnapshot out) {
        if ((long) out.stalledHeartbeats * settings.heartbeatIntervalTicks() < settings.electionTimeoutTicks()) {
            return false;
        }
        SnapshotStore.SnapshotInfo latest = core.latestSnapshot();
        return latest != null && latest.meta().lastIndex() > out.info.meta().lastIndex();
    }

    private void startSnapshot(String to, Progress pr) {
        SnapshotStore.SnapshotInfo latest = core.latestSnapshot();
        if (latest == null || latest.meta().lastIndex() < log.compactIndex()) {
            throw new IllegalStateException("log compacted to " + log.compactIndex() + " but no snapshot covers it");
        }
        pr.becomeSnapshot(latest, settings.snapshotChunkBytesBeside(latest.meta().config()));
        sendSnapshotChunks(to, pr);
    }

    /** Streams chunks to {@code to} while fewer than the window are unacknowledged. */
    private void sendSnapshotChunks(String to, Progress pr) {
        Progress.OutgoingSnapshot out = pr.outgoing();
        // Counted in chunks, as the setting says: in bytes of the configured size, chunks made smaller
        // for a large configuration would go out by the thousand, more than a transport queues.
        long window = (long) out.chunkBytes * settings.snapshotChunksInFlight();
        while (!out.allSent() && out.sent - out.acked < window) {
            long size = out.info.sizeBytes();
            int length = (int) Math.min(out.chunkBytes, size - out.sent);
            Bytes chunk;
            try {
                chunk = core.readSnapshot(out.info.meta().lastIndex(), out.sent, length);
                if (chunk.length() == 0 && length > 0) {
                    // A store may return fewer bytes than asked ("up to"), but none before the end
                    // means it has no more (a file truncated since it was published): sent as a
                    // chunk, the same empty one went out again and again, without end, on the loop.
                    throw new StorageException("snapshot " + out.info.meta().lastIndex() + " ends at " + out.sent
                            + " bytes, but its size is " + size);
                }
            } catch (StorageException e) {
                SnapshotStore.SnapshotInfo latest = core.latestSnapshot();
                if (latest != null && latest.meta().lastIndex() > out.info.meta().lastIndex()) {
                    // The snapshot being streamed was replaced by newer ones: start over with the latest.
                    LOG.info("{}: snapshot {} for {} is gone ({}); restarting with the latest",
                            core.id(), out.info.meta().lastIndex(), to, e.getMessage());
                    startSnapshot(to, pr);
                    return;
                }
                // The latest snapshot itself cannot be read (an I/O error, a file truncated since it
                // was verified). Starting over with it, as with one replaced by newer ones, failed the
                // same way, again and again: a StackOverflowError that stopped the node. The next
                // heartbeat tries again; the transfer goes on once the snapshot can be read.
                if (!out.unreadableReported) {
                    out.unreadableReported = true;
                    LOG.error("{}: cannot read snapshot {} to send it to {} ({}); trying again at every heartbeat",
                            core.id(), out.info.meta().lastIndex(), to, e.getMessage());
                }
                return;
            }
            long end = out.sent + chunk.length();
            core.send(new InstallSnapshot(core.groupId(), core.id(), to, core.term(), out.info.meta(), out.sent,
                    chunk, end >= size, out.info.checksum(), core.bootstrapFingerprint()));
            out.markSent(end);
        }
    }

    /** Handles a follower's answer to a snapshot chunk. */
    void onSnapshotResponse(InstallSnapshotResponse m) {
        Progress pr = progress.get(m.from());
        if (pr == null) {
            return;
        }
        pr.markActive(core.ticks());
        Progress.OutgoingSnapshot out = pr.outgoing();
        if (out == null || m.snapshotIndex() != out.info.meta().lastIndex()) {
            if (m.done() && m.snapshotIndex() > pr.match() && pr.state() != ReplicationState.REPLICATE) {
                pr.onSnapshotInstalled(m.snapshotIndex(), reads.round()); // a late answer still tells us the follower's state
                sendAppends(m.from(), pr, false);
            }
            return;
        }
        if (m.done()) {
            pr.onSnapshotInstalled(m.snapshotIndex(), reads.round());
            maybeCommit();
            if (core.isLeading(this)) {
                sendAppends(m.from(), pr, false);
            }
            return;
        }
        if (m.rejected()) {
            SnapshotStore.SnapshotInfo latest = core.latestSnapshot();
            if (m.nextOffset() == 0 && latest != null && latest.meta().lastIndex() > out.info.meta().lastIndex()) {
                // Starting over anyway (the follower restarted, or the snapshot failed its checksum,
                // perhaps for ever if the file rotted here): start over with the newest one. Streaming
                // the same snapshot again and again would hold the log after it (the transfer floor)
                // while the leader takes newer ones.
                startSnapshot(m.from(), pr);
                return;
            }
            // An offset outside the snapshot cannot come from a sound follower (a corrupt or
            // foreign message): starting the transfer over is always safe.
            out.rewindTo(m.nextOffset() >= 0 && m.nextOffset() <= out.info.sizeBytes() ? m.nextOffset() : 0);
        } else if (m.nextOffset() > out.acked && m.nextOffset() <= out.info.sizeBytes()) {
            out.acked = m.nextOffset();
        }
        sendSnapshotChunks(m.from(), pr);
    }

    /** Followers already reported as holding a log of another history (see {@link #ignoreForeignLog}). */
    private final Set<String> foreignLogsReported = new HashSet<>();

    /**
     * A follower says it holds entries up to {@code index}, beyond this leader's last: impossible for
     * a log of this group's history (whatever a follower holds committed, every later leader holds
     * too). Its storage came from elsewhere, say a data directory of another cluster whose first
     * entries had the same indexes and terms as this one's. Its answers say nothing about this log:
     * they are ignored (never counted for a commit), not trusted into a match beyond the end of the
     * log; an operator must give it an empty data directory.
     */
    private void ignoreForeignLog(String follower, long index) {
        if (foreignLogsReported.add(follower)) {
            LOG.error("{}: {} answers that it holds entries up to {}, beyond this leader's last entry {}: its log is not"
                    + " of this group's history (a data directory of another cluster?). Ignoring its answers; start it"
                    + " on an empty data directory", core.id(), follower, index, log.lastIndex());
        }
    }

    /** Handles a follower's answer to an append. */
    void onAppendResponse(AppendEntriesResponse m) {
        Progress pr = progress.get(m.from());
        if (pr == null) {
            return; // no longer a member
        }
        if (m.success() && m.index() > log.lastIndex()) {
            ignoreForeignLog(m.from(), m.index());
            return;
        }
        pr.markActive(core.ticks());
        if (m.success()) {
            pr.ackRound(m.round());
            if (reads.leasesOn()) {
                pr.refusesVotesUntil(reads.refusesVotesUntil(m.round(),
                        core.voteRefusal().leaseTicksOf(m.voteRefusalMicros())));
            }
            if (pr.maybeUpdate(m.index(), reads.round())) {
                if (pr.state() == ReplicationState.PROBE) {
                    pr.becomeReplicate();
                } else if (pr.state() == ReplicationState.REPLICATE) {
                    pr.inflights().freeUpTo(m.index());
                }
                maybeCommit();
                if (!core.isLeading(this)) {
                    return; // this leader removed itself and stepped down
                }
                if (m.from().equals(transferTarget)) {
                    maybeSendTimeoutNow(m.from());
                }
            }
            releaseConfirmedReads();
            sendAppends(m.from(), pr, false);
            return;
        }
        long matchBefore = pr.match();
        if (pr.maybeDecreaseTo(m.index(), hintNext(m), m.round())) {
            if (pr.match() < matchBefore) {
                core.onFollowerLogLoss();
                LOG.warn("{}: {} no longer holds entry {}, which it acknowledged (its log now matches before {} at"
                        + " most): its storage lost entries or was replaced by an older copy; sending them again",
                        core.id(), m.from(), matchBefore, pr.next());
            }
            sendAppends(m.from(), pr, false);
        }
    }

    /**
     * Where to probe next after a rejection: skip the follower's whole conflicting term when this
     * leader has no entries of it, otherwise continue just after this leader's last entry of that
     * term (terms never decrease along a log, so both are found by binary search).
     */
    private long hintNext(AppendEntriesResponse m) {
        if (m.hintTerm() == 0) {
            return m.hintIndex();
        }
        long hi = Math.min(m.index(), log.lastIndex());
        long firstAbove = log.firstIndexWithTermAtLeast(m.hintTerm() + 1, log.firstIndex(), hi);
        long candidate = firstAbove - 1;
        if (candidate >= log.firstIndex() - 1 && log.term(candidate) == m.hintTerm()) {
            return candidate + 1;
        }
        return m.hintIndex();
    }

    /**
     * Raft §5.3/§5.4.2: commit the highest index a quorum has stored, but only if that entry is of
     * the current term (Figure 8); earlier entries are then committed with it. The leader's own
     * log counts only up to what it has made durable.
     *
     * @return whether the commit index advanced
     */
    boolean maybeCommit() {
        ClusterConfig config = core.clusterConfig();
        long quorumIndex = Quorum.committedValue(config,
                id -> id.equals(core.id()) ? log.persisted() : matchOf(id));
        if (quorumIndex == Long.MAX_VALUE || quorumIndex <= log.committed()) {
            return false;
        }
        if (log.term(quorumIndex) != core.term()) {
            return false;
        }
        boolean firstCommitInTerm = log.term(log.committed()) != core.term();
        log.commitTo(quorumIndex);
        core.onCommitAdvanced();
        if (firstCommitInTerm) {
            reads.onTermCommitted(log.committed(), aloneIsQuorum());
        }
        return true;
    }

    private long matchOf(String id) {
        Progress pr = progress.get(id);
        return pr == null ? 0 : pr.match();
    }

    /** {@code voter} answered this leader (a vote, for one): it counts as active in this round. */
    void answered(String voter) {
        Progress pr = progress.get(voter);
        if (pr != null) {
            pr.markActive(core.ticks());
        }
    }

    /**
     * The voters of {@code target} that answered lately, this leader among them if it stays a voter.
     * "Lately" is two heartbeat intervals (and at least two ticks): a live follower answers every
     * heartbeat, and a voter that went silent just before a change must not count. With a window of
     * election timeouts, a leader removing itself just after another of three voters died got the
     * change approved, then CheckQuorum (counting the new voters only) deposed it, leaving the two
     * live nodes with an uncommitted configuration they could not elect a leader in.
     */
    private Set<String> answeringIn(ClusterConfig target) {
        long window = Math.max(2, 2L * core.heartbeatIntervalTicks());
        Set<String> answering = new TreeSet<>();
        for (String voter : target.voters()) {
            Progress pr = progress.get(voter);
            if (voter.equals(core.id()) || (pr != null && pr.heardWithin(core.ticks(), window))) {
                answering.add(voter);
            }
        }
        return answering;
    }

    /** Whether a majority of {@code target}'s voters answered lately: see {@link RaftConfig#strictMembershipChecks()}. */
    boolean quorumAnswersIn(ClusterConfig target) {
        return answeringIn(target).size() > target.voters().size() / 2;
    }

    /**
     * Whether the voters of {@code target} that could still answer (this leader and the members it
     * tracks) are no majority: the others are not members yet, so waiting for them is pointless.
     */
    boolean quorumImpossibleIn(ClusterConfig target) {
        long couldAnswer = target.voters().stream().filter(v -> v.equals(core.id()) || progress.containsKey(v)).count();
        return couldAnswer <= target.voters().size() / 2;
    }

    /** Why {@link #quorumAnswersIn} does not hold for {@code target}, for the caller of the change. */
    String whyNoQuorumIn(ClusterConfig target) {
        String answered = "of the new voters " + target.voters() + " only " + answeringIn(target) + " answered lately, and ";
        String override = "; RaftConfig.strictMembershipChecks(false) skips this check";
        if (quorumImpossibleIn(target)) {
            return answered + "the others are not members yet, so they cannot answer before the change: add them as"
                    + " learners first (addVoter does), then retry" + override;
        }
        return answered + (target.voters().size() / 2 + 1) + " are needed to commit anything: start the others (or add"
                + " them as learners first), then retry" + override;
    }

    // ---- check quorum ------------------------------------------------------------------------

    /** Whether a quorum was heard from since the last check; resets the activity flags. */
    boolean checkQuorumActive() {
        boolean active = Quorum.isActive(core.clusterConfig(),
                id -> id.equals(core.id()) || (progress.containsKey(id) && progress.get(id).recentActive()));
        for (Progress pr : progress.values()) {
            pr.endActivityRound();
        }
        return active;
    }

    // ---- read index --------------------------------------------------------------------------

    /**
     * Thesis §6.4: record the commit index now, confirm leadership with a heartbeat round. With
     * {@code lease}, and while this leader holds a lease (§6.4.1), answer at once instead.
     */
    void readIndex(long requestId, boolean lease) {
        if (lease && leaseForfeited) {
            core.leaseReadTally().confirmedByRound();
        }
        reads.request(requestId, lease && !leaseForfeited, log.committed(),
                log.term(log.committed()) == core.term(), aloneIsQuorum(), core.ticks(), core.leaseClock());
    }

    private boolean aloneIsQuorum() {
        return Quorum.committedValue(core.clusterConfig(), id -> id.equals(core.id()) ? 1 : 0) >= 1;
    }

    /** This leadership's reads: confirmed ones to take, and those to give up. */
    LeaderReads reads() {
        return reads;
    }

    private void releaseConfirmedReads() {
        if (reads.wantsAcknowledgements()) {
            ClusterConfig config = core.clusterConfig();
            long quorumRound = Quorum.committedValue(config, id -> id.equals(core.id()) ? reads.round() : ackedRoundOf(id));
            // Each voter refuses votes by its own settings: the lease runs while a quorum does.
            long quorumRefusesUntil = !reads.leasesOn() ? 0 : Quorum.committedValue(config,
                    id -> id.equals(core.id()) ? reads.ownRefusalEnd() : refusesVotesUntilOf(id));
            reads.onRoundAcknowledged(quorumRound, quorumRefusesUntil);
        }
    }

    private long refusesVotesUntilOf(String id) {
        Progress pr = progress.get(id);
        return pr == null ? 0 : pr.refusesVotesUntil();
    }

    private long ackedRoundOf(String id) {
        Progress pr = progress.get(id);
        return pr == null ? 0 : pr.ackedRound();
    }

    boolean hasWork() {
        return reads.hasWork() || hasUnsentEntries();
    }

    private static boolean needsProbe(Progress pr) {
        return pr.state() == ReplicationState.PROBE && pr.match() < pr.next() - 1;
    }

    private boolean hasUnsentEntries() {
        long last = log.lastIndex();
        for (Progress pr : progress.values()) {
            if (!pr.isPaused() && (pr.next() <= last || needsProbe(pr)
                    || pr.sentCommit() < Math.min(log.committed(), pr.match()))) {
                return true;
            }
        }
        return false;
    }
}

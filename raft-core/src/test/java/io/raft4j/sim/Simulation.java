package io.raft4j.sim;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.ReadState;
import io.raft4j.core.Ready;
import io.raft4j.core.Role;
import io.raft4j.core.SnapshotChunk;
import io.raft4j.message.Bytes;
import io.raft4j.message.EntryType;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A deterministic simulation of a whole Raft cluster from one seed: real {@link io.raft4j.core.RaftCore}s,
 * a network that drops, delays, duplicates and reorders messages and partitions nodes (both ways and
 * one way), disks whose writes complete after a delay and are lost in a crash, clocks that drift,
 * and clients that propose and read throughout. After every step it checks the Raft safety
 * properties; at the end, linearizability of the client history and liveness after healing.
 *
 * <p>Everything random comes from the seed, and nothing depends on wall time or thread scheduling,
 * so a seed replays exactly.
 */
public final class Simulation {
    private record Event(long at, long seq, String node, int incarnation, Object what, Runnable action) {
    }

    private record Write(long seq, String node, long invokeAt, long index, long term) {
    }

    /**
     * A read a node took at {@code takenAt}, when it had been paused for {@code pausedBefore} in all;
     * invoked by its client at {@code invokeAt} (earlier, if the node was paused then), when the highest
     * index any node knew committed was {@code committedAtInvoke}.
     */
    private record PendingRead(long id, long invokeAt, long readIndex, long takenAt, long pausedBefore,
                               long committedAtInvoke) {
    }

    private final long seed;
    private final SimParams p;
    /** The smallest legal settings this seed runs with, or {@code null} for the usual ones. */
    private final ExtremeConfig extreme;
    private final SplittableRandom random;
    /**
     * One seed in nine tests read leases against the worst clocks: every clock runs at one of the two
     * extremes of the drift (a slow leader's lease measured against fast followers' election timeouts),
     * its clients ask for lease reads, and three partitions in four cut the leader off alone, right
     * after its last heartbeat round renewed its lease. The other seeds rarely bring these together:
     * with their clocks spread and their partitions random, a lease as long as the election timeout
     * (no allowance for drift) ran 1300 seeds of either size without serving a stale read; with these
     * seeds the 5-node runs catch it at seed 202. Chosen from the seed, with draws of
     * {@link #skewRandom}, so that no other seed's run changes.
     */
    private final boolean skewedClocks;
    private final SplittableRandom skewRandom;
    /**
     * Each node's election timeout, tick length and check-quorum: the seed's for all, except in half
     * the seeds with {@link #skewedClocks} (one in eighteen), where each node runs its own, as during
     * a rolling change of settings, and a leader's read lease must end before a quorum of followers,
     * each by its own settings, may elect another. Drawn from a stream of their own, so that no
     * other seed's run changes.
     */
    private final Map<String, NodeTiming> timings = new HashMap<>();
    /** The longest election timeout of any node, in real time (nominal). */
    private final long longestTimeoutUs;
    /** Whether this seed's nodes run settings of their own (see {@link #timings}). */
    private final boolean mixedSettings;
    private final SplittableRandom mixRandom;
    private final Map<String, SimNode> nodes = new LinkedHashMap<>();
    private final List<String> ids = new ArrayList<>();
    private final PriorityQueue<Event> events = new PriorityQueue<>(
            (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private final SafetyChecker checker = new SafetyChecker();
    private final Set<String> blockedLinks = new HashSet<>();
    /** The fingerprint of the group's bootstrap, once a node knows it (see {@link #checkOneBootstrap}). */
    private long bootstrapFingerprint;
    private final Object[] trace = new Object[400];
    private int traceNext;
    private long eventSeq;
    private long now;
    private boolean faultsActive = true;
    private boolean clientsActive = true;

    private long commandSeq;
    private long readSeq;
    private final Map<Long, Write> writesBySeq = new HashMap<>();
    private final Map<Long, Long> ackAt = new HashMap<>();
    private final Map<Long, Long> committedIndexOf = new HashMap<>();
    private final List<LinearizabilityChecker.Read> reads = new ArrayList<>();
    private final Map<String, List<PendingRead>> pendingReads = new HashMap<>();
    private final Map<String, Map<Long, PendingRead>> readsAwaitingIndex = new HashMap<>();
    /** When a leader's answer (a read index) to a follower's read was delivered, by read id. */
    private final Map<Long, Long> readAnsweredAt = new HashMap<>();
    private long stepCount;
    /** Proposals clients made to nodes that led, after healing. */
    private long proposedAfterHeal;
    /**
     * The highest term any node has campaigned in (or led): a term a node holds must come from a
     * candidate. A term raised by a pre-vote, or by anything but an election, shows up here.
     */
    private long highestCampaignTerm = 1;
    /** When each node last became leader (for the CheckQuorum check). */
    private final Map<String, Long> leaderSince = new HashMap<>();
    /** The configuration each leader was last seen with, and since when (voters it adds start afresh). */
    private final Map<String, io.raft4j.message.ClusterConfig> leaderConfig = new HashMap<>();
    private final Map<String, Long> leaderConfigSince = new HashMap<>();
    /** receiver -> sender -> when a message from sender was last delivered to receiver. */
    private final Map<String, Map<String, Long>> lastHeard = new HashMap<>();
    /**
     * What happened, for the run summary: installs, corrupted chunks, crashes, elections, membership
     * changes, transfers, reads served, reads served by a follower.
     */
    final long[] counters = new long[10];

    /** The initial voters; the other nodes start empty, waiting to be added by a membership change. */
    private final List<String> initialMembers = new ArrayList<>();

    public Simulation(long seed, int nodeCount) {
        this.seed = seed;
        this.extreme = ExtremeConfig.forSeed(seed);
        SimParams drawn = SimParams.draw(seed, nodeCount);
        this.p = extreme == null ? drawn : extreme.adjust(drawn);
        this.random = new SplittableRandom(seed);
        this.skewedClocks = Math.floorMod(seed, 9) == 4;
        this.skewRandom = new SplittableRandom(seed * 0xD1B54A32D192ED03L);
        for (int i = 1; i <= nodeCount; i++) {
            ids.add("n" + i);
            initialMembers.add("n" + i);
        }
        if (p.membershipRate() > 0) {
            for (int i = 1; i <= p.spareNodes(); i++) {
                ids.add("n" + (nodeCount + i));
            }
        }
        this.mixedSettings = skewedClocks && extreme == null && seed / 9 % 2 == 0;
        this.mixRandom = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        long longest = 0;
        for (String id : ids) {
            NodeTiming t = mixedSettings ? NodeTiming.mixed(p, mixRandom) : NodeTiming.shared(p);
            timings.put(id, t);
            longest = Math.max(longest, t.timeoutUs());
        }
        this.longestTimeoutUs = longest;
        for (String id : ids) {
            nodes.put(id, new SimNode(id));
        }
    }

    /** Runs the whole scenario; throws an {@link AssertionError} with seed and trace on a violation. */
    public void run() {
        try {
            for (SimNode n : nodes.values()) {
                startNode(n);
            }
            schedule(now + p.faultEveryUs(), null, "faults", this::injectFaults);
            schedule(now + p.clientEveryUs(), null, "client", this::clientStep);
            long healAt = p.faultPhaseUs();
            long end = healAt + p.healPhaseUs();
            schedule(healAt, null, "heal", this::healEverything);
            // 15 election timeouts of the drawn profile (whose phases extreme settings keep) before the end.
            schedule(end - p.healPhaseUs() * 15 / 40, null, "clients stop", () -> clientsActive = false);
            while (!events.isEmpty() && events.peek().at <= end) {
                Event e = events.poll();
                now = e.at;
                SimNode n = e.node == null ? null : nodes.get(e.node);
                if (n != null && (!n.up || n.incarnation != e.incarnation)) {
                    continue; // event of a crashed incarnation
                }
                if (n != null && now < n.pausedUntilUs) {
                    // Paused: what arrives waits, in order, until the node runs again.
                    schedule(n.pausedUntilUs, n, e.what, e.action);
                    continue;
                }
                record(e);
                e.action.run();
                stepCount++;
                if (n != null) {
                    process(n);
                }
                checkCommittedEntriesProtected();
            }
            checkLiveness();
            checkLinearizable();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("simulation failed: seed " + seed + " nodes " + initialMembers.size() + " at t=" + now
                    + "us step " + stepCount + ": " + e.getMessage() + "\nparams " + p
                    + (extreme == null ? "" : "\nextreme settings " + extreme) + "\nreplay: -Draft.sim.seed=" + seed
                    + " -Draft.sim.nodes=" + initialMembers.size() + "\nlast events:\n" + formatTrace(), e);
        }
    }

    long steps() {
        return stepCount;
    }

    long committed() {
        return checker.highestCommitted();
    }

    // ---- nodes -------------------------------------------------------------------------------

    private RaftConfig configFor(String id) {
        RaftConfig.Builder b = RaftConfig.builder(id);
        if (initialMembers.contains(id)) {
            b.initialMembers(initialMembers.toArray(String[]::new));
        }
        if (seed % 4 == 0) {
            // A leader with room for two to six uncommitted commands (about 136 bytes each as
            // counted) refuses clients often, under every fault. Chosen from the seed, not drawn,
            // so that the random stream, and with it every other seed's run, stays as it was.
            b.maxEntryBytes(64).maxUncommittedBytes(300 + (seed / 4 % 3) * 300);
        }
        // Strict membership checks refuse the changes whose new voters have not answered lately: half
        // the seeds run with them, half without (as the seed's parity says, drawing nothing).
        b.strictMembershipChecks(seed % 2 == 1);
        b
                .electionTimeoutTicks(timings.get(id).electionTicks()).heartbeatIntervalTicks(1)
                .preVote(p.preVote()).checkQuorum(timings.get(id).checkQuorum())
                .maxMessageBytes(512 + random.nextInt(4096)).maxInflightMessages(1 + random.nextInt(8))
                .maxInflightBytes(64L << 10)
                .snapshotTrailingEntries(p.snapshotTrailing()).snapshotChunkBytes(p.snapshotChunkBytes())
                .snapshotChunksInFlight(1 + random.nextInt(4))
                // Node clocks here differ by up to 20% plus 5% jitter per tick: a 45% bound covers the
                // worst ratio between a fast follower's and a slow leader's election timeout.
                .leaseClockDriftPercent(45);
        return (extreme == null ? b : extreme.apply(b)).build();
    }

    private void startNode(SimNode n) {
        n.start(configFor(n.id), timings.get(n.id).tick(), seed, checker);
        n.startedAtUs = now;
        n.pausedUntilUs = 0;
        n.resumedAtUs = 0;
        n.tickPeriodUs = timings.get(n.id).tickUs() * (1 + clockDrift(random.nextDouble() * 2 - 1));
        pendingReads.remove(n.id);
        readsAwaitingIndex.remove(n.id);
        scheduleTick(n);
        process(n);
    }

    /**
     * How much faster or slower than real time a node's clock runs, from a draw {@code u} in [-1, 1):
     * spread over the seed's drift, or at one of the two extremes of any seed's drift in the seeds
     * with {@link #skewedClocks}.
     */
    private double clockDrift(double u) {
        return skewedClocks ? Math.signum(u) * SimParams.MAX_TICK_DRIFT : u * p.tickDrift();
    }

    /** Whether clients ask for lease reads: in the seeds drawn so, and in every seed with skewed clocks. */
    private boolean leaseReads() {
        return p.leaseReads() || skewedClocks;
    }

    private SimNode currentLeader() {
        return nodes.values().stream().filter(n -> n.up && n.core.role() == Role.LEADER)
                .max((a, b) -> Long.compare(a.core.term(), b.core.term())).orElse(null);
    }

    private void scheduleTick(SimNode n) {
        long period = Math.max(1, Math.round(n.tickPeriodUs * (0.95 + random.nextDouble() * 0.1)));
        schedule(now + period, n, "tick", () -> {
            n.core.tick();
            observeClock(n);
            checkQuorumStepDown(n);
            scheduleTick(n);
        });
    }

    private void process(SimNode n) {
        checkTermOrigin(n);
        checkNoFollowerLogLoss(n);
        checkOneBootstrap(n);
        while (n.up && n.core.hasReady()) {
            observeClock(n); // as the runtime does before every ready()
            Ready rd = n.core.ready();
            boolean leader = n.core.role() == Role.LEADER;
            List<LogEntry> toPersist = rd.entriesToPersist();
            if (rd.compaction() != null && rd.compaction().discardAll()) {
                long index = rd.compaction().index();
                n.mirror = new LogMirror(index, checker.committedChain(index));
            }
            if (!toPersist.isEmpty()) {
                long first = toPersist.get(0).index();
                if (leader && !rd.roleChanged()) {
                    checker.onLeaderWrite(n.id, n.core.term(), first, n.mirror.lastIndex());
                }
                checkNoCommittedEntryRemoved(n, toPersist);
                if (leader) {
                    checkConfigAfterTermCommit(n, toPersist);
                }
                n.mirror.write(toPersist);
                checker.onEntriesWritten(n.id, n.mirror, first);
            }
            if (rd.roleChanged() && leader) {
                counters[3]++;
                leaderSince.put(n.id, now);
                checker.onLeader(n.id, n.core.term(), n.mirror);
                checker.onLeaderDurableTerm(n.id, n.core.term(), n.storage.hardState().term());
            }
            long commit = n.core.commitIndex();
            if (commit < n.knownCommit) {
                // A commit index only grows (Figure 2: min(leaderCommit, index of last new entry) is
                // taken only when higher). One pulled back by a stale or reordered append lowers the
                // bar below which the log is never truncated; the symptoms come much later, if at all.
                throw new SafetyChecker.Violation("commit index went back: " + n.id + " (" + n.core.role() + ", term "
                        + n.core.term() + ") had committed up to " + n.knownCommit + ", now " + commit);
            }
            if (commit > n.knownCommit && leader) {
                checkCommitOfOwnTerm(n, commit);
                checkDurableOnAQuorum(n, commit);
                if (n.knownCommit < n.mirror.base() + 1 || n.mirror.term(n.knownCommit) != n.core.term()) {
                    readAtDeposedLeaders(n);
                }
            }
            if (commit > n.knownCommit) {
                // Entries below the mirror's base came in a snapshot: committed and checked elsewhere.
                checker.onCommitted(n.id, n.core.term(), n.mirror, Math.max(n.knownCommit, n.mirror.base()), commit);
                n.knownCommit = commit;
                n.commitAdvancedAtUs = now;
            }
            for (RaftMessage m : rd.messages()) {
                send(m);
            }
            if (rd.mustPersist() || !rd.messagesAfterPersist().isEmpty()) {
                long last = n.pendingWrites.isEmpty() ? now : n.pendingWrites.peekLast().completeAtUs();
                long at = Math.max(last, now + 1 + random.nextInt(p.maxPersistUs()));
                n.pendingWrites.add(new SimNode.PendingWrite(toPersist, rd.hardState(), rd.messagesAfterPersist(),
                        rd.snapshotChunks(), rd.compaction(), at));
                schedule(at, n, "persisted", () -> completeWrite(n));
                if (faultsActive && random.nextDouble() < p.crashBeforeSyncRate()) {
                    // Checked again when it fires: one scheduled a microsecond before the heal would
                    // otherwise leave the node down for the whole healing phase.
                    schedule(now + 1, n, "crash before sync", () -> {
                        if (faultsActive) {
                            crash(n);
                        }
                    });
                }
            }
            if (rd.snapshotToInstall() != null) {
                counters[0]++;
                n.restore(rd.snapshotToInstall().lastIndex(), checker);
            }
            for (LogEntry e : rd.committedEntries()) {
                apply(n, e);
            }
            maybeTakeSnapshot(n);
            for (ReadState rs : rd.readStates()) {
                PendingRead pr = readsAwaitingIndex.getOrDefault(n.id, Map.of()).remove(rs.requestId());
                if (pr != null) {
                    pendingReads.computeIfAbsent(n.id, k -> new ArrayList<>())
                            .add(new PendingRead(pr.id(), pr.invokeAt(), rs.readIndex(), pr.takenAt(), pr.pausedBefore(),
                                    pr.committedAtInvoke()));
                }
            }
            for (long abandoned : rd.abandonedReads()) {
                readsAwaitingIndex.getOrDefault(n.id, Map.of()).remove(abandoned);
            }
            serveReads(n);
        }
    }

    /**
     * A leader commits an entry only once a majority of voters (of each half of a joint
     * configuration) hold it on disk: the leader counting itself must count only its durable copy,
     * and a follower acknowledges only what it has written. Checked against what each node's disk
     * holds now, so an entry a crash could take from the majority fails here, before any crash.
     */
    private void checkDurableOnAQuorum(SimNode leader, long index) {
        long term = leader.mirror.term(index);
        io.raft4j.message.ClusterConfig config = leader.core.clusterConfig();
        if (!durableOnMajority(config.voters(), index, term) || !durableOnMajority(config.outgoingVoters(), index, term)) {
            throw new SafetyChecker.Violation("durability: " + leader.id + " committed index " + index + " (term " + term
                    + ") which a majority of " + config.voters() + (config.isJoint() ? " / " + config.outgoingVoters() : "")
                    + " does not hold on disk");
        }
    }

    /**
     * Raft §5.4.2 (Figure 8): a leader commits by counting replicas only an entry of its own term;
     * earlier entries are committed with it. A leader that counts replicas of an earlier term's entry
     * commits something a node holding a later conflicting entry can still be elected without and
     * overwrite. That takes a rare chain of crashes and elections to show as two committed values; the
     * rule itself is visible at every commit.
     */
    private void checkCommitOfOwnTerm(SimNode leader, long index) {
        long entryTerm = leader.mirror.term(index);
        if (entryTerm != leader.core.term()) {
            throw new SafetyChecker.Violation("commit rule: " + leader.id + ", leading term " + leader.core.term()
                    + ", committed up to index " + index + " of term " + entryTerm
                    + ": only an entry of the leader's own term may be committed by counting replicas");
        }
    }

    /**
     * The fix to single-server changes (Ongaro, raft-dev, 2015): a leader appends a configuration
     * only once it has committed an entry of its own term. One appended earlier may extend a
     * configuration that a leader of an earlier term already replaced with another, uncommitted, and
     * the two changes together allow disjoint majorities. Showing that takes a leader elected amid
     * a change that changes again before its no-op commits, and then elections on both sides: without
     * the rule, a committed entry was first left unprotected at seed 469 of the 5-node runs, and in
     * none of the first 1300 of the 3-node runs. The rule itself is visible at every append.
     */
    private void checkConfigAfterTermCommit(SimNode leader, List<LogEntry> written) {
        long previousConfig = leader.mirror.lastConfigBefore(written.get(0).index());
        for (LogEntry e : written) {
            if (e.type() != EntryType.CONFIG || e.term() != leader.core.term()) {
                continue;
            }
            if (!leader.core.hasCommittedInTerm()) {
                throw new SafetyChecker.Violation("membership rule: " + leader.id + ", leading term " + e.term()
                        + ", appended a configuration at index " + e.index() + " before committing an entry of its term");
            }
            checkOneChangeAtATime(leader, e, previousConfig);
            previousConfig = e.index();
        }
    }

    /**
     * One membership change at a time (Raft §4.1; joint consensus is one change in two steps, the
     * second appended once the first commits): a leader appends a configuration only when the one
     * before it in its log is committed. Two uncommitted changes together may allow disjoint
     * majorities; with 5 nodes that was not caught in 300 seeds by the outcome checks alone. The
     * commit index is read when the entry is written, which is no earlier than when it was appended:
     * this can miss a violation, never report one that did not happen.
     */
    private static void checkOneChangeAtATime(SimNode leader, LogEntry config, long previousConfig) {
        if (previousConfig > leader.core.commitIndex()) {
            throw new SafetyChecker.Violation("membership rule: " + leader.id + ", leading term " + config.term()
                    + ", appended a configuration at index " + config.index() + " while the one at " + previousConfig
                    + " is not committed (commit index " + leader.core.commitIndex() + ")");
        }
    }

    private boolean durableOnMajority(java.util.Set<String> voters, long index, long term) {
        if (voters.isEmpty()) {
            return true;
        }
        int holding = 0;
        for (String id : voters) {
            SimNode m = nodes.get(id);
            if (m != null && holdsOnDisk(m, index, term)) {
                holding++;
            }
        }
        return holding > voters.size() / 2;
    }

    /** Whether {@code m}'s disk holds entry ({@code index}, {@code term}), or a snapshot covering it. */
    private static boolean holdsOnDisk(SimNode m, long index, long term) {
        if (index < m.storage.firstIndex()) {
            return true;
        }
        return index <= m.storage.lastIndex() && m.storage.term(index) == term;
    }

    private void completeWrite(SimNode n) {
        SimNode.PendingWrite w = n.pendingWrites.poll();
        for (SnapshotChunk c : w.chunks()) {
            storeChunk(n, c);
        }
        // As the runtime's storage thread: a reset before the entries (they follow it), a
        // compaction after them (a snapshot from the leader may cover some of them).
        if (w.compaction() != null && w.compaction().discardAll()) {
            n.storage.reset(w.compaction().index(), w.compaction().term());
        }
        n.storage.append(w.entries(), w.hardState());
        if (w.compaction() != null && !w.compaction().discardAll()) {
            n.storage.compact(w.compaction().index(), w.compaction().term());
        }
        if (!w.entries().isEmpty()) {
            LogEntry last = w.entries().get(w.entries().size() - 1);
            n.core.persisted(last.index(), last.term());
        }
        for (RaftMessage m : w.afterPersist()) {
            if (m.to().equals(n.id)) {
                n.core.step(m);
            } else {
                send(m);
            }
        }
    }

    private void storeChunk(SimNode n, SnapshotChunk c) {
        if (c.offset() == 0) {
            n.receiving = n.snapshots.begin(c.meta());
        }
        if (n.receiving == null || n.receiving.written() != c.offset()) {
            throw new SafetyChecker.Violation(n.id + " was handed snapshot chunk at " + c.offset() + " out of order");
        }
        try {
            n.receiving.out().write(c.data().unsafeArray(), 0, c.data().length());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (c.last()) {
            boolean ok;
            try {
                n.receiving.publish(c.checksum());
                ok = true;
            } catch (io.raft4j.spi.StorageException | java.io.IOException e) {
                ok = false;
            }
            n.receiving = null;
            n.core.snapshotReceived(c.meta(), ok);
        }
    }

    private void maybeTakeSnapshot(SimNode n) {
        if (p.snapshotEvery() == 0 || n.appliedIndex - n.lastSnapshotIndex < p.snapshotEvery()) {
            return;
        }
        long index = n.appliedIndex;
        long term = n.core.termAt(index);
        java.nio.ByteBuffer content = java.nio.ByteBuffer.allocate(16 + p.snapshotFillerBytes());
        content.putLong(index).putLong(n.appliedChain);
        for (int i = 16; i < content.capacity(); i++) {
            content.put(i, (byte) (index * 31 + i));
        }
        io.raft4j.message.SnapshotMeta meta = new io.raft4j.message.SnapshotMeta(index, term, n.appliedConfig);
        try (io.raft4j.spi.SnapshotStore.Sink sink = n.snapshots.begin(meta)) {
            sink.out().write(content.array());
            sink.publish(null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        n.lastSnapshotIndex = index;
        n.core.snapshotTaken(meta);
    }

    private void apply(SimNode n, LogEntry e) {
        if (e.index() != n.appliedIndex + 1) {
            throw new SafetyChecker.Violation(n.id + " applied index " + e.index() + " after " + n.appliedIndex);
        }
        // The state machine's own hash chain over what it applied must be the committed prefix.
        n.appliedChain = LogMirror.link(n.appliedChain, e);
        checker.onApplied(n.id, e.index(), n.appliedChain);
        n.appliedIndex = e.index();
        if (e.type() == EntryType.CONFIG) {
            n.appliedConfig = io.raft4j.message.ClusterConfig.decode(e.data());
        }
        if (e.type() != EntryType.COMMAND) {
            return;
        }
        long cmd = Long.parseLong(e.data().toUtf8());
        Long previous = committedIndexOf.putIfAbsent(cmd, e.index());
        if (previous != null && previous != e.index()) {
            throw new SafetyChecker.Violation("command " + cmd + " committed at both " + previous + " and " + e.index());
        }
        Write w = writesBySeq.get(cmd);
        if (w != null && w.node().equals(n.id) && w.index() == e.index() && !ackAt.containsKey(cmd)) {
            ackAt.put(cmd, now); // the proposer's leader applied it: the client sees the result now
        }
    }

    private void serveReads(SimNode n) {
        List<PendingRead> waiting = pendingReads.get(n.id);
        if (waiting == null) {
            return;
        }
        waiting.removeIf(r -> {
            if (r.readIndex() <= n.appliedIndex) {
                if (n.appliedIndex < r.committedAtInvoke()) {
                    // Stricter than the end-of-run check, which only knows the writes acknowledged
                    // to clients: an entry committed anywhere (a new leader's no-op, say) before the
                    // read began must be seen by it (thesis 6.4: the read index covers every
                    // committed entry). Catches a stale leader answering from a lease it no longer
                    // holds as soon as its successor commits anything.
                    throw new SafetyChecker.Violation("linearizability: read " + r.id() + " on " + n.id + " ("
                            + n.core.role() + ", term " + n.core.term() + "), invoked at " + r.invokeAt()
                            + " when index " + r.committedAtInvoke() + " was already committed, returned "
                            + n.appliedIndex + " (read index " + r.readIndex() + ")");
                }
                reads.add(new LinearizabilityChecker.Read(r.invokeAt(), now, n.appliedIndex));
                counters[6]++;
                if (n.core.role() != Role.LEADER) {
                    counters[7]++;
                }
                return true;
            }
            return false;
        });
    }

    // ---- network -----------------------------------------------------------------------------

    private void send(RaftMessage m) {
        checkVoteDurableBeforeGrant(m);
        if (seed % 3 == 2 && m instanceof io.raft4j.message.AppendEntries ae) {
            m = withLeadersCommit(ae);
        }
        if (faultsActive && random.nextDouble() < p.dropRate()) {
            return;
        }
        if (faultsActive && m instanceof io.raft4j.message.InstallSnapshot is && is.chunk().length() > 0
                && random.nextDouble() < p.corruptRate()) {
            counters[1]++;
            byte[] bytes = is.chunk().toByteArray();
            bytes[random.nextInt(bytes.length)] ^= 0x5A;
            m = new io.raft4j.message.InstallSnapshot(is.groupId(), is.from(), is.to(), is.term(), is.meta(), is.offset(),
                    Bytes.wrap(bytes), is.done(), is.checksum());
        }
        RaftMessage sent = m;
        int copies = faultsActive && random.nextDouble() < p.duplicateRate() ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            long delay = 1 + random.nextInt(p.maxDelayUs());
            if (faultsActive && random.nextDouble() < p.longDelayRate()) {
                delay *= 20; // arrives long after later messages: reordering
            }
            SimNode target = nodes.get(sent.to());
            schedule(now + delay, target, sent, () -> deliver(target, sent));
        }
        if (faultsActive && sent instanceof io.raft4j.message.TimeoutNow && random.nextBoolean()) {
            // A TimeoutNow is the one message that makes voters ignore a live leader (and the up-to-date
            // target it was sent to campaign at once): deliver a copy up to four election timeouts
            // late, after the transfer was given up and the leader moved on, when the target may be
            // behind. Ordinary delays stay far shorter than an election timeout.
            long late = 1 + random.nextInt((int) (4 * longestTimeoutUs));
            SimNode target = nodes.get(sent.to());
            schedule(now + late, target, sent, () -> deliver(target, sent));
        }
    }

    /**
     * Thesis §3.8: a vote is on disk before its grant leaves the voter. A grant sent earlier is
     * forgotten by a crash in between, and the restarted voter may grant the same term to another
     * candidate: two leaders of one term. Showing that takes a crash within the write's few hundred
     * microseconds, a quick restart and a second candidate of the same term: with grants sent before
     * their write, the first two leaders of one term came at seed 787 of the 3-node runs and in none
     * of the first 1300 of the 5-node runs. The rule itself is visible at every grant.
     */
    private void checkVoteDurableBeforeGrant(RaftMessage m) {
        if (m instanceof io.raft4j.message.RequestVoteResponse r && r.granted() && !r.preVote()) {
            io.raft4j.message.HardState durable = nodes.get(r.from()).storage.hardState();
            if (durable.term() != r.term() || !r.to().equals(durable.votedFor())) {
                throw new SafetyChecker.Violation("vote durability: " + r.from() + " grants its vote of term " + r.term()
                        + " to " + r.to() + " while its disk holds term " + durable.term() + " vote "
                        + durable.votedFor() + ": a crash now lets it vote again in that term");
            }
        }
    }

    /**
     * Figure 2 lets a leader send its whole commit index with any append (this one sends at most the
     * last index the append vouches for), so a follower must not commit past the last entry the
     * append matched. In a third of the seeds (chosen from the seed, so that no seed's random stream
     * changes) every append carries the leader's full commit index, as another implementation's
     * leader would send it: a follower that trusted leaderCommit beyond what the append vouches for
     * would commit a stale suffix of its own log.
     */
    private RaftMessage withLeadersCommit(io.raft4j.message.AppendEntries ae) {
        SimNode from = nodes.get(ae.from());
        if (!from.up || from.core.role() != Role.LEADER || from.core.term() != ae.term()
                || from.core.commitIndex() <= ae.leaderCommit()) {
            return ae;
        }
        return new io.raft4j.message.AppendEntries(ae.groupId(), ae.from(), ae.to(), ae.term(), ae.prevLogIndex(),
                ae.prevLogTerm(), ae.entries(), from.core.commitIndex(), ae.round());
    }

    private void deliver(SimNode target, RaftMessage m) {
        if (blockedLinks.contains(m.from() + ">" + m.to())) {
            return;
        }
        if (m instanceof io.raft4j.message.ReadIndexResponse r && !r.refused()) {
            readAnsweredAt.putIfAbsent(r.requestId(), now);
        }
        lastHeard.computeIfAbsent(m.to(), k -> new HashMap<>()).put(m.from(), now);
        target.core.step(m);
        if (target.core.malformedMessagesDropped() != 0) {
            // Correct members never send what the core refuses as malformed (MessageCheck).
            throw new AssertionError(target.id + " dropped as malformed a message of a correct member: "
                    + m.getClass().getSimpleName() + " from " + m.from() + " of term " + m.term());
        }
    }

    // ---- faults and clients ------------------------------------------------------------------

    private void injectFaults() {
        if (!faultsActive) {
            return;
        }
        double r = random.nextDouble();
        if (r < p.crashRate()) {
            SimNode victim = nodes.get(ids.get(random.nextInt(ids.size())));
            if (victim.up) {
                crash(victim);
            } else {
                startNode(victim);
            }
        } else if (r < p.crashRate() + p.partitionRate()) {
            partitionRandomly();
        } else if (r < p.crashRate() + p.partitionRate() + p.oneWayRate()) {
            String a = ids.get(random.nextInt(ids.size()));
            String b = ids.get(random.nextInt(ids.size()));
            if (!a.equals(b)) {
                blockedLinks.add(a + ">" + b);
            }
        } else if (random.nextDouble() < 0.3) {
            blockedLinks.clear();
        }
        if (p.pauseRate() > 0 && random.nextDouble() < p.pauseRate()) {
            pauseANode();
        }
        if (random.nextDouble() < p.membershipRate()) {
            changeMembership();
        }
        if (mixedSettings && mixRandom.nextInt(3) == 0) {
            handLeadershipToTheSlowest();
        }
        if (mixedSettings && mixRandom.nextInt(3) == 0) {
            restartTheLongestWindowShorter();
        }
        // Bring back nodes that stayed down, so most of the run has a live majority.
        for (SimNode n : nodes.values()) {
            if (!n.up && random.nextDouble() < 0.3) {
                startNode(n);
            }
        }
        schedule(now + p.faultEveryUs(), null, "faults", this::injectFaults);
    }

    /**
     * With settings that differ, asks the leader to hand over to the voter with the longest election
     * timeout in real time: elections alone seldom pick it (the others time out first), yet its lease,
     * counted by its own settings, would outlast its followers' refusals, which a partition cutting it
     * off alone then exposes.
     */
    private void handLeadershipToTheSlowest() {
        SimNode leader = currentLeader();
        if (leader == null) {
            return;
        }
        String slowest = leader.core.clusterConfig().voters().stream()
                .filter(id -> timings.get(id).checkQuorum())
                .max(java.util.Comparator.comparingLong((String id) -> timings.get(id).timeoutUs()).thenComparing(id -> id))
                .orElse(leader.id);
        if (!slowest.equals(leader.id) && leader.core.transferLeadership(slowest) == null) {
            counters[5]++;
        }
        process(leader);
    }

    /**
     * With settings that differ, a rolling change of them at its riskiest: the follower with the
     * longest vote-refusal window (the one the leader's lease rests on) is restarted at once with the
     * shortest timeout, as the leader is cut off alone; only where the lease could outlive the new
     * timeout (the leader runs check-quorum, its timeout is no shorter than the follower's, and the
     * follower's is at least twice the shortest). Restarted, it must go on refusing votes for the
     * window it announced before it stopped, or the others elect a leader while the old one still
     * answers lease reads: before nodes stored that window, seed 1552 (3 nodes) failed with
     * "linearizability: read 157 on n1 (LEADER, term 5), invoked at 242812 when index 191 was already
     * committed, returned 188", one of 300 mixed-settings seeds.
     */
    private void restartTheLongestWindowShorter() {
        SimNode leader = currentLeader();
        if (leader == null) {
            return;
        }
        String longest = leader.core.clusterConfig().voters().stream()
                .filter(id -> !id.equals(leader.id) && nodes.get(id).up && timings.get(id).checkQuorum())
                .max(java.util.Comparator.comparingLong((String id) -> timings.get(id).timeoutUs()).thenComparing(id -> id))
                .orElse(null);
        NodeTiming shortest = new NodeTiming(p.electionTicks(), SimParams.TICK_US, true);
        if (longest == null || !timings.get(leader.id).checkQuorum()
                || timings.get(longest).timeoutUs() < 2 * shortest.timeoutUs()
                || timings.get(leader.id).timeoutUs() < timings.get(longest).timeoutUs()) {
            return; // no lease, or none that a shorter restart could outlive
        }
        SimNode follower = nodes.get(longest);
        stop(follower);
        timings.put(longest, shortest);
        startNode(follower);
        cutOff(Set.of(leader.id));
    }

    /** An operator's change on the current leader: grow, shrink, replace, learners, or a transfer. */
    private void changeMembership() {
        SimNode leader = currentLeader();
        if (leader == null) {
            return;
        }
        io.raft4j.message.ClusterConfig c = leader.core.clusterConfig();
        List<String> voters = new ArrayList<>(c.voters());
        List<String> learners = new ArrayList<>(c.learners());
        List<String> outsiders = ids.stream().filter(id -> !c.isMember(id)).toList();
        java.util.Set<String> newVoters = new java.util.TreeSet<>(voters);
        java.util.Set<String> newLearners = new java.util.TreeSet<>(learners);
        int op = random.nextInt(6);
        if (op == 0 && !outsiders.isEmpty()) {                                   // grow by one voter
            newVoters.add(outsiders.get(random.nextInt(outsiders.size())));
        } else if (op == 1 && voters.size() > 3) {                               // shrink by one voter
            newVoters.remove(voters.get(random.nextInt(voters.size())));
        } else if (op == 2 && !outsiders.isEmpty()) {                            // replace: joint consensus
            newVoters.remove(voters.get(random.nextInt(voters.size())));
            newVoters.add(outsiders.get(random.nextInt(outsiders.size())));
        } else if (op == 3 && !outsiders.isEmpty()) {                            // add a learner
            newLearners.add(outsiders.get(random.nextInt(outsiders.size())));
        } else if (op == 4 && !learners.isEmpty()) {                             // promote a learner
            String l = learners.get(random.nextInt(learners.size()));
            newLearners.remove(l);
            newVoters.add(l);
        } else if (op == 5 && voters.size() > 1) {                               // transfer leadership
            String target = voters.get(random.nextInt(voters.size()));
            if (!target.equals(leader.id) && leader.core.transferLeadership(target) == null) {
                counters[5]++;
                process(leader);
            }
            return;
        } else {
            return;
        }
        if (leader.core.changeMembership(new io.raft4j.message.ClusterConfig(newVoters, newLearners, java.util.Set.of(),
                java.util.Map.of())).accepted()) {
            counters[4]++;
        }
        process(leader);
    }

    /**
     * Liveness of reads: a node gives up a read it cannot confirm within an election timeout of its
     * ticks (a follower whose leader does not answer, a leader that cannot confirm, with or without
     * CheckQuorum), so no read may wait for its index much longer than that, whatever the faults.
     */
    private void checkReadsHearBack() {
        for (Map.Entry<String, Map<Long, PendingRead>> e : readsAwaitingIndex.entrySet()) {
            SimNode n = nodes.get(e.getKey());
            long bound = 3L * timings.get(n.id).timeoutUs();
            for (PendingRead r : e.getValue().values()) {
                // Counted from when the node took it, less the time it was paused since (its clock stood
                // still). A follower's read answered by its leader waits for the entries up to its read
                // index as long as its commit index moves: counted from the answer or the last move.
                Long answered = readAnsweredAt.get(r.id());
                long from = answered == null ? r.takenAt() : Math.max(answered, n.commitAdvancedAtUs);
                long waited = now - from - (n.pausedTotalUs - r.pausedBefore());
                if (waited > bound) {
                    throw new AssertionError("read " + r.id() + " on " + e.getKey() + ", invoked at " + r.invokeAt()
                            + " and taken at " + r.takenAt() + ", neither confirmed nor given up after " + waited
                            + " us of its running time");
                }
            }
        }
    }

    /**
     * A log never loses a committed entry it holds: only a conflict with the leader's log removes
     * entries, and the leader holds every committed one. Catches a follower that truncates its log
     * on a stale or duplicate append, which the durability check at commit time does not see (the
     * entry was on a majority when it was committed, and is lost from it afterwards).
     */
    private void checkNoCommittedEntryRemoved(SimNode n, List<LogEntry> toWrite) {
        long first = toWrite.get(0).index();
        long last = toWrite.get(toWrite.size() - 1).index();
        // A stale leader may still overwrite, on a follower that never heard of later terms, what a
        // later term committed without that follower (as it may still be elected without it, see
        // SafetyChecker.onLeader): only what was committed in the follower's term or before is kept.
        long probe = Math.min(n.mirror.lastIndex(), checker.committedUpToTerm(n.core.term()));
        if (probe < first) {
            return; // appends only after every committed entry this log holds
        }
        long before = n.mirror.chain(probe);
        if (before == 0 || before != checker.committedChain(probe)) {
            return; // it does not hold the committed entry there: replacing it is how it is repaired
        }
        // The chain at probe stays only if the write keeps every entry up to it unchanged.
        boolean kept = last >= probe && chainUnchanged(n.mirror, toWrite, first, probe);
        if (!kept) {
            throw new SafetyChecker.Violation("committed entry removed: " + n.id + " (" + n.core.role() + ", term "
                    + n.core.term() + ") rewrites its log from " + first + " to " + last + ", dropping the committed entry at "
                    + probe + " (its last index was " + n.mirror.lastIndex() + ")");
        }
    }

    /**
     * Leader completeness, checked before any election happens: a node whose log lacks the highest
     * committed entry can never win an election, whatever the voters' later timing, votes cast or
     * crashes. So for every live voter lacking it, the voters of its own configuration whose durable
     * log it is at least as up to date as (Raft §5.4.1; its own vote included) must not make a
     * majority (of each half of a joint configuration). This holds at every step of a sound run
     * (the commit needs a majority whose durable logs end at or after the entry in a term at least its
     * own, and those logs never fall back below it), so a commit rule that counts too early (Figure 8)
     * or a vote or log that goes backwards shows here at once, not only in the rare runs where such a
     * node then actually campaigns, wins and overwrites the entry.
     */
    private void checkCommittedEntriesProtected() {
        long committed = checker.highestCommitted();
        if (committed == 0) {
            return;
        }
        long chain = checker.committedChain(committed);
        for (SimNode x : nodes.values()) {
            if (!x.up || committed <= x.mirror.base() || x.mirror.chain(committed) == chain) {
                continue; // down (checked once back up), or it holds the entry
            }
            io.raft4j.message.ClusterConfig config = x.core.clusterConfig();
            if (!config.isVoter(x.id)) {
                continue;
            }
            long lastIndex = x.core.lastIndex();
            long lastTerm = x.core.termAt(lastIndex);
            java.util.function.Predicate<String> grants = id -> {
                if (id.equals(x.id)) {
                    return true;
                }
                SimNode v = nodes.get(id);
                long vIndex = v.storage.lastIndex();
                long vTerm = v.storage.term(vIndex);
                return lastTerm > vTerm || (lastTerm == vTerm && lastIndex >= vIndex);
            };
            if (heardFromMajority(config.voters(), grants) && heardFromMajority(config.outgoingVoters(), grants)) {
                throw new SafetyChecker.Violation("committed entry unprotected: " + x.id + " (" + x.core.role() + ", term "
                        + x.core.term() + ", last " + lastIndex + " term " + lastTerm + ") lacks committed index "
                        + committed + " yet the durable logs of a majority of " + config.voters()
                        + (config.isJoint() ? " / " + config.outgoingVoters() : "")
                        + " are no more up to date than its own: it could be elected and overwrite it");
            }
        }
    }

    private static boolean chainUnchanged(LogMirror mirror, List<LogEntry> toWrite, long first, long upTo) {
        long chain = mirror.chain(first - 1);
        for (long i = first; i <= upTo; i++) {
            chain = LogMirror.link(chain, toWrite.get((int) (i - first)));
            if (chain != mirror.chain(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Terms come from elections: every term a node holds was first taken by a candidate. Only
     * becoming a candidate raises a term; every other node learns it from messages. A node whose
     * term runs ahead of every candidate's (say, one that adopted the term of a pre-vote request)
     * disrupts a live leader for nothing, which PreVote is there to prevent.
     */
    private void checkTermOrigin(SimNode n) {
        if (!n.up) {
            return;
        }
        Role role = n.core.role();
        if (role == Role.CANDIDATE || role == Role.LEADER) {
            highestCampaignTerm = Math.max(highestCampaignTerm, n.core.term());
        }
        if (n.core.term() > highestCampaignTerm) {
            throw new SafetyChecker.Violation("term origin: " + n.id + " (" + role + ") is in term " + n.core.term()
                    + " but no node has campaigned beyond term " + highestCampaignTerm);
        }
    }

    /**
     * Every node bootstrapped the group with the same members, so every node that knows a bootstrap
     * fingerprint (all but spares never added) knows the same one, and no message is dropped for
     * carrying another.
     */
    private void checkOneBootstrap(SimNode n) {
        long fingerprint = n.up ? n.core.bootstrapFingerprint() : 0;
        if (fingerprint == 0) {
            return;
        }
        if (bootstrapFingerprint == 0) {
            bootstrapFingerprint = fingerprint;
        }
        if (fingerprint != bootstrapFingerprint || n.core.foreignBootstrapMessagesDropped() > 0) {
            throw new SafetyChecker.Violation("bootstrap fingerprint: " + n.id + " knows " + Long.toHexString(fingerprint)
                    + ", the group was bootstrapped as " + Long.toHexString(bootstrapFingerprint) + "; it dropped "
                    + n.core.foreignBootstrapMessagesDropped() + " messages of another bootstrap");
        }
    }

    /**
     * Durable entries are never lost here, so a leader that concludes a follower lost some it had
     * acknowledged (and sends them again) misread a stale or reordered answer.
     */
    private void checkNoFollowerLogLoss(SimNode n) {
        if (n.up && n.core.followerLogLosses() > 0) {
            throw new SafetyChecker.Violation("follower log loss: " + n.id + " (leading term " + n.core.term()
                    + ") concluded that a follower lost acknowledged entries; no storage loses any here");
        }
    }

    /**
     * CheckQuorum: a leader that has heard nothing from a majority of its voters (of each half of a
     * joint configuration) for two election timeouts of its own clock steps down. Its clock may run
     * up to 26% slow here, so the bound allows 30%, plus a tick either side. The simulator counts
     * every message delivered to the leader as hearing from its sender (the core counts fewer), so
     * the check never fires early. A configuration change restarts the clock: the core counts its
     * new voters only from the next round.
     */
    private void checkQuorumStepDown(SimNode n) {
        NodeTiming timing = timings.get(n.id);
        if (!timing.checkQuorum() || !n.up || n.core.role() != Role.LEADER) {
            return;
        }
        long bound = (2L * timing.electionTicks() + 2) * timing.tickUs() * 13 / 10;
        io.raft4j.message.ClusterConfig config = n.core.clusterConfig();
        if (!config.equals(leaderConfig.put(n.id, config))) {
            leaderConfigSince.put(n.id, now);
        }
        // A paused leader's clock stood still (it ticks once on waking): count from its waking.
        long since = Math.max(Math.max(leaderSince.getOrDefault(n.id, now), leaderConfigSince.get(n.id)), n.resumedAtUs);
        Map<String, Long> heard = lastHeard.getOrDefault(n.id, Map.of());
        java.util.function.Predicate<String> recent = id -> id.equals(n.id)
                || now - Math.max(since, heard.getOrDefault(id, Long.MIN_VALUE)) <= bound;
        if (!heardFromMajority(config.voters(), recent) || !heardFromMajority(config.outgoingVoters(), recent)) {
            throw new SafetyChecker.Violation("check quorum: " + n.id + " still leads term " + n.core.term()
                    + " though no majority of " + config.voters()
                    + (config.isJoint() ? " / " + config.outgoingVoters() : "") + " reached it in the last "
                    + bound + " us");
        }
    }

    private static boolean heardFromMajority(java.util.Set<String> voters, java.util.function.Predicate<String> recent) {
        if (voters.isEmpty()) {
            return true;
        }
        long heard = voters.stream().filter(recent).count();
        return heard > voters.size() / 2;
    }

    private void crash(SimNode n) {
        stop(n);
        if (faultsActive && random.nextDouble() < 0.3) {
            // A process restarted at once (by a supervisor), well within an election timeout: the
            // window in which a node that forgot hearing from a live leader could help elect another
            // while that leader still holds a read lease.
            schedule(now + 1 + random.nextInt(p.electionTicks() * SimParams.TICK_US), null, "quick restart", () -> {
                if (!n.up && faultsActive) {
                    if (mixedSettings && mixRandom.nextBoolean()) {
                        // A rolling change of settings: back with new ones, often a shorter window than
                        // the one it announced before it stopped, whose leases may still run.
                        timings.put(n.id, NodeTiming.mixed(p, mixRandom));
                    }
                    startNode(n);
                }
            });
        }
    }

    /** The node's process ends: its durable state stays, the rest is gone. */
    private void stop(SimNode n) {
        counters[2]++;
        n.crash();
        pendingReads.remove(n.id);
        readsAwaitingIndex.remove(n.id);
    }

    /**
     * {@code leader} just committed its first entry of its term: a client now reads at every node
     * that still thinks it leads an earlier term (cut off, or not told yet). Such a node must not
     * answer from a lease it no longer holds: the read check flags any answer below what is committed
     * now. Random reads rarely land in that short window.
     */
    private void readAtDeposedLeaders(SimNode leader) {
        if (!clientsActive) {
            return;
        }
        for (SimNode d : nodes.values()) {
            if (d != leader && d.up && d.core.role() == Role.LEADER && d.core.term() < leader.core.term()) {
                long id = ++readSeq;
                long invokedAt = now;
                long committedAtInvoke = checker.highestCommitted();
                schedule(now + 1, d, "read " + id + " at deposed leader", () -> {
                    if (d.core.readIndex(id, leaseReads())) {
                        readsAwaitingIndex.computeIfAbsent(d.id, k -> new HashMap<>()).put(id,
                                new PendingRead(id, invokedAt, -1, now, d.pausedTotalUs, committedAtInvoke));
                    }
                });
            }
        }
    }

    /**
     * Pauses a node, the leader half the time, for up to three election timeouts: it handles
     * nothing meanwhile (its ticks, messages, finished writes and clients' requests wait), then
     * runs on from where it was, as a process does after a long GC pause. A paused leader's lease
     * ran out in real time while it was paused, and others may have elected a new leader.
     */
    private void pauseANode() {
        SimNode victim = random.nextBoolean()
                ? nodes.values().stream().filter(n -> n.up && n.core.role() == Role.LEADER).findFirst().orElse(null)
                : nodes.get(ids.get(random.nextInt(ids.size())));
        if (victim == null || !victim.up || now < victim.pausedUntilUs) {
            return;
        }
        counters[9]++;
        long pause = (1 + random.nextInt(3 * p.electionTicks())) * (long) SimParams.TICK_US;
        victim.pausedUntilUs = now + pause;
        victim.pausedTotalUs += pause;
        // Scheduled before anything deferred to the same moment, so it runs first on waking.
        schedule(victim.pausedUntilUs, victim, "resume", () -> resume(victim));
    }

    /** A paused node runs again: it first looks at its clock, as the runtime does before anything else. */
    private void resume(SimNode n) {
        n.resumedAtUs = now;
        observeClock(n);
    }

    /**
     * What the runtime does with its monotonic clock: tells the core how many ticks of this node's
     * clock have passed since it started, which the core's lease counts even when ticks were not
     * delivered (a pause) or came late.
     */
    private void observeClock(SimNode n) {
        n.core.observeTime((long) ((now - n.startedAtUs) / n.tickPeriodUs));
    }

    private void partitionRandomly() {
        Set<String> side = new HashSet<>();
        for (String id : ids) {
            if (random.nextBoolean()) {
                side.add(id);
            }
        }
        SimNode leader = skewedClocks && skewRandom.nextInt(4) != 0 ? currentLeader() : null;
        if (leader != null) {
            // The leader alone, cut off from the voters that renewed its lease a moment ago.
            side = Set.of(leader.id);
        }
        cutOff(side);
    }

    /** Replaces every partition with one between {@code side} and the other nodes, both ways. */
    private void cutOff(Set<String> side) {
        blockedLinks.clear();
        for (String a : ids) {
            for (String b : ids) {
                if (side.contains(a) != side.contains(b)) {
                    blockedLinks.add(a + ">" + b);
                }
            }
        }
    }

    private void healEverything() {
        faultsActive = false;
        blockedLinks.clear();
        for (SimNode n : nodes.values()) {
            if (!n.up) {
                startNode(n);
            }
        }
    }

    private void clientStep() {
        checkReadsHearBack();
        if (clientsActive) {
            SimNode n = nodes.get(ids.get(random.nextInt(ids.size())));
            if (n.up && random.nextDouble() < p.readRate()) {
                // Reads go to any node: followers ask their leader for the read index.
                long id = ++readSeq;
                boolean lease = leaseReads() && random.nextBoolean();
                long invokedAt = now;
                long committedAtInvoke = checker.highestCommitted();
                whenRunning(n, "read " + id, () -> {
                    if (n.core.readIndex(id, lease)) {
                        readsAwaitingIndex.computeIfAbsent(n.id, k -> new HashMap<>()).put(id,
                                new PendingRead(id, invokedAt, -1, now, n.pausedTotalUs, committedAtInvoke));
                    }
                });
            } else if (n.up && n.core.role() == Role.LEADER) {
                long cmd = ++commandSeq;
                long invokedAt = now;
                if (!faultsActive) {
                    proposedAfterHeal++;
                }
                whenRunning(n, "propose " + cmd, () -> {
                    long index = n.core.propose(Bytes.ofUtf8(Long.toString(cmd)));
                    if (index == RaftCore.OVERLOADED) {
                        counters[8]++;
                    }
                    if (index > 0) {
                        writesBySeq.put(cmd, new Write(cmd, n.id, invokedAt, index, n.core.term()));
                    }
                });
            }
        }
        schedule(now + 1 + random.nextInt(p.clientEveryUs()), null, "client", this::clientStep);
    }

    /**
     * Runs a client's request on {@code n} now, or, while it is paused, once it runs again: the
     * request was sent now (its invocation time) and waits for the node like any message.
     */
    private void whenRunning(SimNode n, String what, Runnable request) {
        if (now < n.pausedUntilUs) {
            schedule(n.pausedUntilUs, n, what, request);
            return;
        }
        request.run();
        process(n);
    }

    // ---- end-of-run checks -------------------------------------------------------------------

    /**
     * After healing: writes proposed to leaders are acknowledged again (a leader that commits nothing,
     * say one stuck at its uncommitted bound, acknowledges nothing, which the other checks pass), one
     * leader at the end, and every acknowledged write applied on every node.
     */
    private void checkLiveness() {
        long healAt = p.faultPhaseUs();
        long acceptedAfterHeal = writesBySeq.values().stream().filter(w -> w.invokeAt() >= healAt).count();
        long ackedAfterHeal = writesBySeq.values().stream()
                .filter(w -> w.invokeAt() >= healAt && ackAt.containsKey(w.seq())).count();
        if (proposedAfterHeal > 20 && ackedAfterHeal == 0) {
            throw new AssertionError("liveness: " + proposedAfterHeal + " proposals to leaders after healing, "
                    + acceptedAfterHeal + " accepted, none acknowledged");
        }
        long leaders = nodes.values().stream().filter(n -> n.up && n.core.role() == Role.LEADER).count();
        if (leaders == 0) {
            throw new AssertionError("liveness: no leader " + p.healPhaseUs() + "us after healing");
        }
        long maxAcked = 0;
        for (Map.Entry<Long, Long> e : ackAt.entrySet()) {
            maxAcked = Math.max(maxAcked, committedIndexOf.get(e.getKey()));
        }
        SimNode leader = nodes.values().stream().filter(n -> n.up && n.core.role() == Role.LEADER)
                .max((a, b) -> Long.compare(a.core.term(), b.core.term())).orElseThrow();
        io.raft4j.message.ClusterConfig finalConfig = leader.core.clusterConfig();
        if (finalConfig.isJoint()) {
            throw new AssertionError("liveness: still in a joint configuration after healing: " + finalConfig);
        }
        for (SimNode n : nodes.values()) {
            if (!finalConfig.isMember(n.id)) {
                continue; // removed (or never added): it owes nothing
            }
            if (n.appliedIndex < maxAcked) {
                throw new AssertionError("liveness: " + n.id + " applied only up to " + n.appliedIndex
                        + " after healing; acknowledged writes reach " + maxAcked);
            }
        }
    }

    /**
     * The client history is linearizable ({@link LinearizabilityChecker}), and each acknowledged
     * write was committed where its leader appended it.
     */
    private void checkLinearizable() {
        List<LinearizabilityChecker.Write> committedWrites = new ArrayList<>();
        for (Write w : writesBySeq.values()) {
            Long index = committedIndexOf.get(w.seq());
            Long acked = ackAt.get(w.seq());
            if (acked != null && index != w.index()) {
                throw new AssertionError("write " + w.seq() + " acknowledged at index " + w.index()
                        + " but committed at " + index);
            }
            if (index != null) {
                committedWrites.add(new LinearizabilityChecker.Write(w.invokeAt(),
                        acked == null ? LinearizabilityChecker.NOT_ACKNOWLEDGED : acked, index));
            }
        }
        LinearizabilityChecker.check(committedWrites, reads);
    }

    // ---- scheduling and trace ----------------------------------------------------------------

    private void schedule(long at, SimNode n, Object what, Runnable action) {
        events.add(new Event(at, eventSeq++, n == null ? null : n.id, n == null ? 0 : n.incarnation, what, action));
    }

    private void record(Event e) {
        trace[traceNext++ % trace.length] = e;
    }

    private String formatTrace() {
        StringBuilder sb = new StringBuilder();
        int count = Math.min(traceNext, trace.length);
        for (int i = traceNext - count; i < traceNext; i++) {
            Event e = (Event) trace[i % trace.length];
            sb.append(String.format("%9d %-3s %s%n", e.at, e.node == null ? "-" : e.node, describe(e.what)));
        }
        for (SimNode n : nodes.values()) {
            sb.append(n.id).append(n.up ? " up " + n.core.role() + " term " + n.core.term() + " last "
                    + n.core.lastIndex() + " commit " + n.core.commitIndex() + " voters " + n.core.clusterConfig().voters()
                    + " learners " + n.core.clusterConfig().learners() + " outgoing "
                    + n.core.clusterConfig().outgoingVoters() : " down").append('\n');
        }
        return sb.toString();
    }

    private static String describe(Object what) {
        String s = String.valueOf(what);
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}

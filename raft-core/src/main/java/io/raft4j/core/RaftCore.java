package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.message.TimeoutNow;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The Raft protocol for one node of one group, as a plain single-threaded object with no I/O,
 * threads or clocks.
 *
 * <p>Inputs: {@link #tick()} (logical time), {@link #step(RaftMessage)} (a received message),
 * {@link #propose(Bytes)}, {@link #readIndex(long)}, and {@link #persisted(long, long)} (a write
 * handed out earlier became durable). Output: {@link #ready()} hands back one {@link Ready} batch
 * of effects — what to persist, send and apply — whenever {@link #hasReady()} says there is one.
 * The driver (the runtime, a simulator, or a unit test) carries them out as {@link Ready} describes.
 *
 * <p>Reads of the durable log go through {@link LogStorage}'s read methods; the core never writes it.
 * Not thread-safe: one thread drives it.
 */
public final class RaftCore {
    private static final Logger LOG = LoggerFactory.getLogger(RaftCore.class);
    /** The tick length taken for a node created without one: the runtime's default tick. */
    public static final Duration DEFAULT_TICK = Duration.ofMillis(100);

    private final RaftConfig settings;
    private final String id;
    private final String groupId;
    private final RaftLog log;
    private final ConfigHistory configs;
    private final Outbox outbox;
    private final SnapshotStore snapshots;
    private final SnapshotInstaller installer;
    private final PartsView parts = new PartsView();
    /** How long this node refuses votes, and how a leader counts its followers' windows into a lease. */
    private final VoteRefusal voteRefusal;
    private final RestartRefusal restartRefusal;
    private final BootstrapFingerprint bootstrap;
    private final LeaseReadTally leaseReadTally = new LeaseReadTally();
    private final Election election;
    private final FollowerReplication replication;
    private final Membership membership;

    private long term;
    private String votedFor;
    private boolean hardStateDirty;
    /** Committed entries are held back from {@link #ready()} (see {@link #pauseApplies}). */
    private boolean appliesPaused;

    private Role role = Role.FOLLOWER;
    private String leaderId;
    private boolean roleChanged = true;
    private int heartbeatElapsed;
    /** Logical time: ticks since this core was created. */
    private long ticks;
    /** The most ticks' worth of time the node's clock was seen to pass ({@link #observeTime}). */
    private long observedTicks;
    private LeaderState leader;
    /** Read requests of this node's callers that will never be answered; taken by the runtime. */
    private final List<Long> abandonedReads = new ArrayList<>();
    private long electionsStarted;
    private long termsLed;
    private long followerLogLosses;
    private long malformedMessagesDropped;
    /** Reads a leadership confirmed before it ended, for the next {@link #ready()}. */
    private final List<ReadState> confirmedReads = new ArrayList<>();
    private final ReadRelay readRelay = new ReadRelay();

    /**
     * Creates the core over the durable state in {@code storage}. A brand-new node with
     * {@link RaftConfig#initialMembers()} bootstraps the cluster: it appends the initial
     * configuration as entry 1 of term 1, identical on every initial member.
     */
    public RaftCore(RaftConfig settings, LogStorage storage, RandomGenerator random) {
        this(settings, storage, null, random);
    }

    /**
     * Creates the core over the durable log in {@code storage} and the snapshots in {@code snapshots}
     * ({@code null} if the node keeps none). The latest snapshot and the log must fit together: the
     * log may not be compacted beyond the snapshot.
     *
     * @throws IllegalStateException if the log was compacted past the latest snapshot
     */
    public RaftCore(RaftConfig settings, LogStorage storage, SnapshotStore snapshots, RandomGenerator random) {
        this(settings, storage, snapshots, random, DEFAULT_TICK);
    }

    /**
     * Like {@link #RaftCore(RaftConfig, LogStorage, SnapshotStore, RandomGenerator)}, for a node whose
     * runtime ticks it every {@code tick} of real time. The node tells its leader how long it refuses
     * votes in real time, and a leader counts its followers' windows into its own ticks, so that
     * lease reads stay safe where nodes run different election timeouts or tick lengths. Nodes
     * created without it are taken to tick every {@link #DEFAULT_TICK}.
     *
     * @param tick how long one tick is, at least a microsecond
     */
    public RaftCore(RaftConfig settings, LogStorage storage, SnapshotStore snapshots, RandomGenerator random,
                    Duration tick) {
        this.voteRefusal = new VoteRefusal(settings, tickMicros(tick));
        this.snapshots = snapshots;
        this.settings = settings;
        this.id = settings.nodeId();
        this.groupId = settings.groupId();
        this.log = new RaftLog(storage);
        this.outbox = new Outbox(id);
        HardState hs = storage.hardState();
        if (hs == null) {
            throw new StorageException("the log storage " + storage + " returned no hard state (a new one has"
                    + " HardState.INITIAL)");
        }
        this.term = hs.term();
        this.votedFor = hs.votedFor();
        this.bootstrap = new BootstrapFingerprint(id, hs.bootstrapFingerprint());
        SnapshotStore.SnapshotInfo snapshot = snapshots == null ? null : snapshots.latest().orElse(null);
        long snapshotIndex = snapshot == null ? 0 : snapshot.meta().lastIndex();
        if (storage.firstIndex() - 1 > snapshotIndex) {
            throw new IllegalStateException("node " + id + ": the log is compacted up to " + (storage.firstIndex() - 1)
                    + " but the latest usable snapshot ends at " + snapshotIndex + " (snapshot store: " + snapshots
                    + "); the state cannot be recovered. Is that the store this node wrote its snapshots to? One"
                    + " pointed at another directory, or none given, finds none");
        }
        this.configs = new ConfigHistory(snapshot == null ? ClusterConfig.EMPTY : snapshot.meta().config(),
                log.firstIndex() - 1);
        loadConfigsFrom(storage);
        learnFingerprintFromFirstEntry(storage);
        this.installer = new SnapshotInstaller(this, log, configs, settings);
        if (snapshot != null) {
            installer.reconcileAtStartup(snapshot.meta());
        }
        this.restartRefusal = new RestartRefusal(hs.voteRefusalMicros(), voteRefusal.windowMicros(),
                voteRefusal.tickMicros());
        if (restartRefusal.durableMicros() != hs.voteRefusalMicros()) {
            hardStateDirty = true; // before any append answer announces the window
        }
        if (restartRefusal.startupTicks() > settings.electionTimeoutTicks()) {
            LOG.info("{}: refusing votes and not campaigning for {} ticks after its start: it may have announced"
                    + " a {} µs vote-refusal window before it stopped, longer than its election timeout now", id,
                    restartRefusal.startupTicks(), hs.voteRefusalMicros());
        }
        this.election = new Election(settings, random, log, configs, parts, restartRefusal);
        this.replication = new FollowerReplication(settings, voteRefusal.windowMicros(), log, configs, installer, parts);
        boolean fresh = storage.lastIndex() == 0 && storage.firstIndex() == 1 && term == 0;
        if (!fresh) {
            // What a restart recovered: the first line to compare when a node comes back unexpected.
            LOG.info("{}: recovered group {} from storage: term {}, log entries {}..{}, snapshot {}, voters {}",
                    id, groupId, term, storage.firstIndex(), storage.lastIndex(),
                    snapshot == null ? "none" : "up to " + snapshot.meta().lastIndex(), configs.current().voters());
        }
        if (fresh && !settings.initialMembers().isEmpty()) {
            bootstrap(ClusterConfig.ofVoters(settings.initialMembers()));
        } else if (!settings.initialMembers().isEmpty()
                && !configs.current().voters().equals(settings.initialMembers().keySet())) {
            // Legitimate after membership changes; a telling line when the storage is not what was meant.
            LOG.info("{}: initial members {} ignored: the stored state already holds voters {}", id,
                    new java.util.TreeSet<>(settings.initialMembers().keySet()), configs.current().voters());
        }
        this.membership = new Membership(settings, log, configs, parts);
        election.resetTimer();
    }

    private void loadConfigsFrom(LogStorage storage) {
        for (long i = storage.firstIndex(); i <= storage.lastIndex(); ) {
            List<LogEntry> batch = RaftLog.checkedEntries(storage, i, storage.lastIndex() + 1, 4L << 20);
            configs.onAppendedKeepingHistory(batch);
            i += batch.size();
        }
    }

    /**
     * A log stored before fingerprints were, that still holds its first entry: the configuration the
     * group was bootstrapped with (this node's own, or its leader's for a node that joined).
     */
    private void learnFingerprintFromFirstEntry(LogStorage storage) {
        if (bootstrap.value() != 0 || storage.firstIndex() != 1 || storage.lastIndex() < 1) {
            return;
        }
        LogEntry first = RaftLog.checkedEntries(storage, 1, 2, Long.MAX_VALUE).get(0);
        if (first.type() == EntryType.CONFIG && first.term() == 1
                && bootstrap.learn(BootstrapFingerprint.of(groupId, ClusterConfig.decode(first.data()).voters()))) {
            hardStateDirty = true;
        }
    }

    private void bootstrap(ClusterConfig initial) {
        term = 1;
        hardStateDirty = true;
        bootstrap.learn(BootstrapFingerprint.of(groupId, initial.voters()));
        appendLocal(List.of(new LogEntry(1, 1, EntryType.CONFIG, initial.encode())));
        LOG.info("{}: bootstrapped group {} with voters {}", id, groupId, initial.voters());
    }

    // ---- accessors ---------------------------------------------------------------------------

    /** This node's id. */
    public String id() {
        return id;
    }

    /**
     * The fingerprint of the bootstrap this node's group comes from (see
     * {@link HardState#bootstrapFingerprint()}), 0 while unknown.
     */
    public long bootstrapFingerprint() {
        return bootstrap.value();
    }

    /** Vote requests, appends and snapshot chunks dropped as coming from another bootstrap of the group. */
    public long foreignBootstrapMessagesDropped() {
        return bootstrap.refused();
    }

    /** The group id. */
    public String groupId() {
        return groupId;
    }

    /** The current term. */
    public long term() {
        return term;
    }

    /** The current role. */
    public Role role() {
        return role;
    }

    /** The leader this node knows of for the current term, or {@code null}. */
    public String leaderId() {
        return leaderId;
    }

    /** The commit index as known here. */
    public long commitIndex() {
        return log.committed();
    }

    /**
     * Index up to which this node's own log is known durable ({@link #persisted}); only entries up to
     * it are handed out for apply.
     */
    public long persistedIndex() {
        return log.persisted();
    }

    /** Index of the last entry in the log. */
    public long lastIndex() {
        return log.lastIndex();
    }

    /** Index of the first entry still in the log. */
    public long firstIndex() {
        return log.firstIndex();
    }

    /** Term of the entry at {@code index}, or -1 if unknown here (compacted or beyond the end). */
    public long termAt(long index) {
        return log.term(index);
    }

    /** Entries in {@code [from, to)} of the log (for inspection and tests). */
    public List<LogEntry> entries(long from, long to) {
        return log.entries(from, to, Long.MAX_VALUE);
    }

    /** On a leader, its view of every follower (voters first); empty on any other role. */
    public List<FollowerProgress> followers() {
        return role == Role.LEADER ? leader.followers() : List.of();
    }

    /** The configuration in force: the latest in the log, committed or not (Raft §6). */
    public ClusterConfig clusterConfig() {
        return configs.current();
    }

    /** Elections this node has started as a candidate since it was created (pre-votes not counted). */
    public long electionsStarted() {
        return electionsStarted;
    }

    /** Terms in which this node became leader since it was created. */
    public long termsLed() {
        return termsLed;
    }

    /**
     * Times this node, leading, found that a follower had lost entries it acknowledged (its storage
     * was damaged or replaced by an older copy) and sent them again. Should stay 0.
     */
    public long followerLogLosses() {
        return followerLogLosses;
    }

    /**
     * Lease reads ({@link #readIndex(long, boolean)} with {@code lease}, here or relayed by followers)
     * this node, leading, answered from its lease without a heartbeat round, since it was created.
     */
    public long leaseReadsFromLease() {
        return leaseReadTally.fromLease();
    }

    /**
     * Lease reads this node, leading, confirmed with a heartbeat round instead, as it held no lease
     * then (see {@link LeaseReadTally}), since it was created.
     */
    public long leaseReadsByRound() {
        return leaseReadTally.byRound();
    }

    LeaseReadTally leaseReadTally() {
        return leaseReadTally;
    }

    /** Called by the leader: see {@link #followerLogLosses()}. */
    void onFollowerLogLoss() {
        followerLogLosses++;
    }

    /**
     * Messages this node dropped because no correct member sends them: a term or log index beyond
     * {@link RaftMessage#MAX_TERM_OR_INDEX}, or entries that cannot be part of a leader's log. Should
     * stay 0; anything else points at a broken peer or transport.
     */
    public long malformedMessagesDropped() {
        return malformedMessagesDropped;
    }

    /** The vote cast in the current term, or {@code null}. */
    public String votedFor() {
        return votedFor;
    }

    // ---- inputs ------------------------------------------------------------------------------

    /** Advances logical time by one tick. */
    public void tick() {
        ticks++;
        if (restartRefusal.tick()) {
            hardStateDirty = true;
        }
        readRelay.expire(ticks, settings.electionTimeoutTicks(), log.committed());
        if (role == Role.LEADER) {
            tickLeader();
        } else {
            election.tick();
        }
        watchForLeader();
    }

    /** Election timeouts without a leader after which a voter warns, and again after as many more. */
    static final int LEADERLESS_WARNING_TIMEOUTS = 10;
    private long ticksWithoutLeader;

    /**
     * A voter that stays without a leader usually means an operator's error that nothing else
     * reports: most voters down or unreachable, or nodes bootstrapped with different initial members
     * (a voter left out of the others' configuration campaigns for ever, unheard).
     */
    private void watchForLeader() {
        if (leaderId != null || !election.isPromotable()) {
            ticksWithoutLeader = 0;
            return;
        }
        ticksWithoutLeader++;
        long warnEvery = (long) LEADERLESS_WARNING_TIMEOUTS * settings.electionTimeoutTicks();
        if (ticksWithoutLeader % warnEvery == 0) {
            LOG.warn("{}: no leader for {} election timeouts ({} elections started, term {}); voters {}: check that"
                    + " most of them run and reach each other, and that all were started with the same initial"
                    + " members", id, ticksWithoutLeader / settings.electionTimeoutTicks(), electionsStarted, term,
                    configs.current().voters());
        }
    }

    /** Ticks this voter has gone without knowing a leader (0 while it knows one). */
    long ticksWithoutLeader() {
        return ticksWithoutLeader;
    }

    private void tickLeader() {
        heartbeatElapsed++;
        if (election.tickLeader()) {
            // Ends an activity round even without CheckQuorum: followers() reports it.
            boolean quorumHeard = leader.checkQuorumActive();
            if (settings.checkQuorum() && !quorumHeard) {
                LOG.info("{}: stepping down in term {}: no quorum heard from within an election timeout", id, term);
                becomeFollower(term, null);
                return;
            }
        }
        if (heartbeatElapsed >= settings.heartbeatIntervalTicks()) {
            heartbeatElapsed = 0;
            leader.heartbeat();
        }
        leader.tickTransfer();
        giveUpReads(leader.reads().expire(ticks, settings.electionTimeoutTicks()));
    }

    /** Starts an election now, as if the election timeout had elapsed (if this node may vote). */
    public void campaign() {
        election.campaignNow();
    }

    /** What {@link #propose} returns when the leader holds too many uncommitted bytes to accept more. */
    public static final long OVERLOADED = -1;

    /**
     * Proposes a command. Only a leader accepts proposals, and only while the commands of its term
     * not yet committed and handed out for apply stay within {@link RaftConfig#maxUncommittedBytes()}, counting each
     * as its payload plus 128 bytes (one is always accepted when none is pending).
     *
     * @return the index the command was appended at; 0 if this node is not the leader (or hands
     *         leadership over); {@link #OVERLOADED} if it is over that bound. Nothing is appended
     *         unless an index is returned
     * @throws IllegalArgumentException if the command is larger than {@link RaftConfig#maxEntryBytes()}
     *                                  (nothing is appended)
     */
    public long propose(Bytes command) {
        settings.checkCommandSize(command);
        if (role == Role.LEADER && leader.transferTarget() == null && !leader.uncommitted().admits(command.length())) {
            return OVERLOADED; // (a leader handing over answers 0 first: the caller is better sent on)
        }
        long index = appendAsLeader(EntryType.COMMAND, command);
        if (index > 0) {
            leader.uncommitted().proposed(index, command.length());
        }
        return index;
    }

    /**
     * What a command of {@code payloadBytes} counts against {@link RaftConfig#maxUncommittedBytes()}:
     * its payload plus what its entry and its caller's future hold beyond it (128 bytes).
     */
    public static long uncommittedCost(long payloadBytes) {
        return payloadBytes + UncommittedBudget.PER_COMMAND_BYTES;
    }

    /**
     * Bytes of this leader's commands not yet committed and handed out for apply (0 on a node that
     * does not lead), against
     * {@link RaftConfig#maxUncommittedBytes()}.
     */
    public long uncommittedBytes() {
        return role == Role.LEADER ? leader.uncommitted().held() : 0;
    }

    private long appendAsLeader(EntryType type, Bytes data) {
        if (role != Role.LEADER || (type == EntryType.COMMAND && leader.transferTarget() != null)) {
            return 0;
        }
        long index = log.lastIndex() + 1;
        appendLocal(List.of(new LogEntry(index, term, type, data)));
        return index;
    }

    private void appendLocal(List<LogEntry> entries) {
        log.append(entries);
        configs.onAppended(entries);
        if (leader != null && containsConfig(entries)) {
            leader.syncMembers(configs.current());
            // The new configuration counts from its append: a majority of it may already hold
            // entries the old one had not committed. Any other append cannot move the commit index
            // (this leader's own copy counts once persisted), so the quorum is not recomputed for
            // every proposal.
            leader.maybeCommit();
        }
    }

    private static boolean containsConfig(List<LogEntry> entries) {
        for (LogEntry e : entries) {
            if (e.type() == EntryType.CONFIG) {
                return true;
            }
        }
        return false;
    }

    /**
     * The addresses of every node this one may send to and hear from: the members of its
     * configuration (both halves of a joint one), and the members a change not yet committed
     * removes (until it commits: a leader removing itself needs this node's answers to commit it,
     * and without its address a leader that had joined later was refused, never committed its
     * removal, and lingered for ever), and, while it leads, members being removed that it has not
     * yet told of their removal. A transport that dials peers needs all of them. The same instance
     * until they change.
     */
    public Map<String, String> peerAddresses() {
        if (leader != null) {
            return leader.peerAddresses();
        }
        ClusterConfig current = configs.current();
        ClusterConfig committed = configs.currentIndex() <= log.committed() ? current : committedConfig();
        if (current != addressesOf || committed != addressesAlsoOf) {
            addressesOf = current;
            addressesAlsoOf = committed;
            if (committed == current) {
                followerPeerAddresses = current.addresses();
            } else {
                Map<String, String> merged = new java.util.HashMap<>(committed.addresses());
                merged.putAll(current.addresses());   // the newer configuration's address wins
                followerPeerAddresses = Map.copyOf(merged);
            }
        }
        return followerPeerAddresses;
    }

    /** {@link #peerAddresses()} off the leader, and the configurations it was made of. */
    private Map<String, String> followerPeerAddresses = Map.of();
    private ClusterConfig addressesOf;
    private ClusterConfig addressesAlsoOf;

    /** Whether this leader is handing leadership over (it refuses proposals meanwhile). */
    public String transferTarget() {
        return leader == null ? null : leader.transferTarget();
    }

    /**
     * Changes the membership to {@code target} (its voters, learners and addresses). A change of at
     * most one voter (adding or removing one, promoting one learner) takes effect in one step; any
     * other goes through a joint configuration (Raft §6): C_old,new is appended now, and once it is
     * committed the leader appends C_new by itself. Learners may be added or removed freely.
     *
     * <p>Refused (see {@link MembershipChange#rejection()}) on a non-leader, while another change is
     * uncommitted, during a leadership transfer, before this leader has committed an entry of
     * its own term (the fix to single-server changes: a new leader must not change the
     * configuration before its log is known to be the committed one), and when a change that needs
     * a joint configuration makes a voter a learner (make one voter a learner per change).
     */
    public MembershipChange changeMembership(ClusterConfig target) {
        return membership.change(target);
    }

    /**
     * Whether {@code target}'s voters include a majority that answered this leader lately, as
     * {@link RaftConfig#strictMembershipChecks()} requires of a change (true without the check, or
     * on a node that does not lead).
     */
    public boolean quorumAnswersIn(ClusterConfig target) {
        return !settings.strictMembershipChecks() || leader == null || leader.quorumAnswersIn(target);
    }

    /** Whether {@link #quorumAnswersIn} will not hold whatever answers come: the missing voters are not members. */
    public boolean quorumImpossibleIn(ClusterConfig target) {
        return !quorumAnswersIn(target) && leader.quorumImpossibleIn(target);
    }

    /**
     * Hands leadership to the voter {@code target} (thesis §3.10): stop taking proposals, bring the
     * target's log up to date, then tell it to start an election at once (TimeoutNow). Gives up after
     * an election timeout and takes proposals again.
     *
     * @return null if started, else why not
     */
    public String transferLeadership(String target) {
        if (role != Role.LEADER) {
            return "not the leader";
        }
        if (target.equals(id)) {
            return "already the leader";
        }
        if (!configs.current().isVoter(target)) {
            return target + " is not a voter";
        }
        if (leader.transferTarget() != null) {
            return "a leadership transfer to " + leader.transferTarget() + " is already in progress";
        }
        LOG.info("{}: transferring leadership to {} in term {}", id, target, term);
        leader.startTransfer(target);
        return null;
    }

    /**
     * On the leader, the voter best placed to take over at once: of those that answered within the
     * last activity round or the one before, the one whose log matches furthest (ties go to the first
     * in the configuration). Only a voter that stays counts: during a joint configuration, the voters
     * of its outgoing half alone are on their way out. {@code null} on other nodes or if no such
     * voter answers.
     */
    public String mostCaughtUpVoter() {
        if (role != Role.LEADER) {
            return null;
        }
        Set<String> staying = configs.current().voters();
        String best = null;
        long bestMatch = -1;
        for (FollowerProgress f : leader.followers()) {
            if (staying.contains(f.nodeId()) && f.recentlyActive() && f.matchIndex() > bestMatch) {
                best = f.nodeId();
                bestMatch = f.matchIndex();
            }
        }
        return best;
    }

    /**
     * Whether this node leads and has committed an entry of its current term (its no-op): until then
     * it does not know which entries of earlier terms are committed (Raft §5.4.2, thesis §6.4).
     */
    public boolean hasCommittedInTerm() {
        return role == Role.LEADER && log.term(log.committed()) == term;
    }

    /** The leader's knowledge of how far {@code peer}'s log matches its own; -1 if unknown here. */
    public long matchIndexOf(String peer) {
        if (leader == null) {
            return -1;
        }
        Progress pr = leader.progress(peer);
        return pr == null ? -1 : pr.match();
    }

    /**
     * Whether this node was removed: the committed configuration no longer lists it (a node that never
     * was a member, waiting to be added, is not "removed"), and either the leader says so in its
     * appends or this node removed itself as leader. A node added back under the id of a removed one
     * replays that old removal while it catches up, but the leader's appends say it is a member. A
     * removed node should be stopped.
     */
    public boolean isRemoved() {
        return membership.isRemoved(replication.leaderSaysRemoved());
    }

    /**
     * Index of the log entry that carried the configuration in force ({@link #clusterConfig()}); that
     * configuration is committed once {@link #commitIndex()} reaches it.
     */
    public long configIndex() {
        return configs.currentIndex();
    }

    /**
     * How a membership change whose first entry is at {@code index} ended: the first committed
     * simple (not joint) configuration at or after it, or {@code null} if none is committed yet (or
     * the change predates the log's last compaction).
     */
    public ClusterConfig committedOutcomeOfChangeFrom(long index) {
        return configs.firstSimpleBetween(index, log.committed());
    }

    /** The configuration in force at the commit index. */
    ClusterConfig committedConfig() {
        return configs.configAt(log.committed());
    }

    /** Whether {@code state} is the current leadership (not ended by a step-down). */
    boolean isLeading(LeaderState state) {
        return leader == state;
    }

    /** Called by the leader after its commit index advanced: finish membership changes. */
    void onCommitAdvanced() {
        membership.onCommitAdvanced();
    }

    /**
     * Asks for a linearizable read (Raft thesis §6.4). Once confirmed, a {@link ReadState} with the
     * same {@code requestId} appears in a later {@link Ready}: serve the read once the state machine
     * has applied its read index. On the leader, a heartbeat round confirms it still leads; on a
     * follower, the leader it knows of is asked for the read index. A request that cannot be answered
     * any more (leadership ended, the follower's term moved on, not confirmed within an election
     * timeout, or a follower's commit index stood still for an election timeout short of the read
     * index it was given) appears in {@link Ready#abandonedReads()} instead. A follower hands out its
     * read's {@link ReadState} only once it has committed up to the read index.
     *
     * @param requestId the caller's id for the read, positive and unique among its pending reads
     * @return false if this node knows of no leader, or is a candidate (the request is dropped)
     */
    public boolean readIndex(long requestId) {
        return readIndex(requestId, false);
    }

    /**
     * Like {@link #readIndex(long)}; with {@code lease}, a leader holding a lease (see
     * {@link RaftConfig#leaseTicks()}) confirms the read at once, without a heartbeat round. Safe only
     * while clocks drift less than {@link RaftConfig#leaseClockDriftPercent()}.
     */
    public boolean readIndex(long requestId, boolean lease) {
        if (requestId <= 0) {
            throw new IllegalArgumentException("requestId must be positive, was " + requestId);
        }
        if (role == Role.LEADER) {
            leader.readIndex(requestId, lease);
            return true;
        }
        if (role == Role.FOLLOWER && leaderId != null) {
            send(readRelay.ask(groupId, id, leaderId, term, requestId, lease, ticks));
            return true;
        }
        return false;
    }

    int heartbeatIntervalTicks() {
        return settings.heartbeatIntervalTicks();
    }

    private static long tickMicros(Duration tick) {
        Objects.requireNonNull(tick, "tick");
        if (tick.compareTo(Duration.ofNanos(1000)) < 0 || tick.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("tick must be between 1 µs and a day, was " + tick);
        }
        return tick.toNanos() / 1000;
    }

    VoteRefusal voteRefusal() {
        return voteRefusal;
    }

    /** Logical time: the number of {@link #tick()}s so far. */
    long ticks() {
        return ticks;
    }

    /**
     * Tells the core how many ticks' worth of time the node's own monotonic clock has seen pass since
     * it began ticking this core. Ticks a stalled node did not deliver (a long GC pause, a stopped
     * process, an overloaded loop) never fire its timers late in a burst, but a leader's read lease
     * must count that time: a leader paused past its lease would otherwise serve lease reads once it
     * runs again, although in real time the lease ran out and the others may have elected a new
     * leader and committed writes those reads miss. Call it on every tick and right before every
     * {@link #ready()}, which hands out a lease read only if the lease still runs by the clock read
     * then (after the read's index was taken); a value behind the ticks delivered changes nothing.
     */
    public void observeTime(long elapsedTicks) {
        observedTicks = Math.max(observedTicks, elapsedTicks);
    }

    /**
     * The time leases count: the ticks delivered, or the ticks the node's clock saw pass
     * ({@link #observeTime}) if that is more, and never more than the larger of the two. A tick is
     * not added on top of a reading: after a stall the ticks are behind the clock, and a tick that
     * came before the clock reached its next whole tick put a sum a tick ahead of real time, so a
     * round started then was dated a tick late and its lease outlived its real time by as much.
     */
    long leaseClock() {
        return Math.max(ticks, observedTicks);
    }

    /**
     * The write of a {@link Ready}'s entries ending at ({@code index}, {@code term}) is durable, as
     * is every earlier write. A report for entries since replaced is ignored.
     */
    public void persisted(long index, long term) {
        if (log.stableTo(index, term) && leader != null) {
            leader.maybeCommit();
        }
    }

    /** The transport cannot reach {@code peerId}: stop pipelining to it until it answers again. */
    public void reportUnreachable(String peerId) {
        if (leader != null) {
            Progress pr = leader.progress(peerId);
            if (pr != null && pr.state() == ReplicationState.REPLICATE) {
                pr.becomeProbe();
            }
        }
    }

    /**
     * Handles a message from another member. Term rules run once here, for every message (Raft
     * Figure 2, "Rules for Servers"), before the role-specific handling.
     */
    public void step(RaftMessage m) {
        if (!groupId.equals(m.groupId()) || !id.equals(m.to())) {
            LOG.warn("{}: dropping message for {}/{}", id, m.groupId(), m.to());
            return;
        }
        String problem = MessageCheck.problemWith(m);
        if (problem != null) {
            dropMalformed(m, problem);
            return;
        }
        if (!bootstrap.admits(m)) {
            return;
        }
        if (m.term() > term) {
            if (!election.acceptsHigherTerm(m)) {
                return;
            }
        } else if (m.term() < term) {
            answerStaleTerm(m);
            return;
        }
        // A node that joined learns its group's bootstrap from its leader: from an append or snapshot
        // chunk of its term, which a leader of that term ignores (another leader of its term).
        if ((m instanceof AppendEntries || m instanceof InstallSnapshot) && role != Role.LEADER
                && bootstrap.learn(BootstrapFingerprint.carriedBy(m))) {
            hardStateDirty = true;
        }
        dispatch(m);
    }

    /**
     * Drops a message no correct member sends (see {@link MessageCheck}), changing nothing. A broken
     * peer may send such messages in a stream, so only the first and then every time the count
     * doubles are warnings; the rest are logged at debug level.
     */
    private void dropMalformed(RaftMessage m, String problem) {
        malformedMessagesDropped++;
        boolean warn = (malformedMessagesDropped & (malformedMessagesDropped - 1)) == 0;
        if (warn || LOG.isDebugEnabled()) {
            String line = "{}: dropping a {} from {} of term {} that no correct member sends: {}"
                    + " ({} such messages dropped so far); check that member's software and transport";
            Object[] args = {id, m.getClass().getSimpleName(), m.from(), m.term(), problem, malformedMessagesDropped};
            if (warn) {
                LOG.warn(line, args);
            } else {
                LOG.debug(line, args);
            }
        }
    }

    private void answerStaleTerm(RaftMessage m) {
        if (m instanceof AppendEntries ae) {
            // A deposed leader (e.g. back from a partition) learns the new term from this answer
            // and steps down; without it, with PreVote and CheckQuorum it might never find out.
            send(new AppendEntriesResponse(groupId, id, m.from(), term, false, ae.prevLogIndex(), 0, 0, ae.round(), 0));
        } else if (m instanceof InstallSnapshot is) {
            send(new InstallSnapshotResponse(groupId, id, m.from(), term, is.meta().lastIndex(), 0, false, true));
        } else if (m instanceof RequestVote rv && rv.preVote()) {
            send(new RequestVoteResponse(groupId, id, m.from(), term, false, true));
        } else if (m instanceof ReadIndexRequest r) {
            // The asker learns the newer term from the refusal and gives its reads up at once.
            send(ReadIndexResponse.refusal(groupId, id, m.from(), term, r.requestId()));
        }
    }

    private void dispatch(RaftMessage m) {
        if (m instanceof RequestVote rv) {
            election.onVoteRequest(rv);
        } else if (m instanceof RequestVoteResponse r) {
            election.onVoteResponse(r);
        } else if (m instanceof AppendEntries ae) {
            replication.onAppendEntries(ae);
        } else if (m instanceof AppendEntriesResponse r) {
            if (leader != null) {
                leader.onAppendResponse(r);
            }
        } else if (m instanceof TimeoutNow) {
            election.onTimeoutNow(m.from());
        } else if (m instanceof InstallSnapshot is) {
            replication.onInstallSnapshot(is);
        } else if (m instanceof InstallSnapshotResponse r) {
            if (leader != null) {
                leader.onSnapshotResponse(r);
            }
        } else if (m instanceof ReadIndexRequest r) {
            if (leader != null) {
                leader.readIndex(readRelay.relay(r), r.lease());
            } else {
                send(ReadIndexResponse.refusal(groupId, id, m.from(), term, r.requestId()));
            }
        } else if (m instanceof ReadIndexResponse r) {
            readRelay.onAnswer(r, log.committed(), ticks);
        }
    }

    // ---- snapshots ---------------------------------------------------------------------------

    /**
     * The driver stored the last chunk of a received snapshot: {@code published} says whether its
     * checksum matched and it is now the latest durable snapshot. If so, and it is still ahead of this
     * node's log, it is installed (Figure 13): the next {@link Ready} carries it in
     * {@code snapshotToInstall} and the matching log change in {@code compaction}.
     */
    public void snapshotReceived(SnapshotMeta meta, boolean published) {
        installer.onReceived(meta, published);
        membership.noteCurrentConfig();
    }

    /**
     * The driver published a local snapshot covering the log up to {@code meta.lastIndex()}: compact
     * the log behind it, keeping {@link RaftConfig#snapshotTrailingEntries()} entries for followers
     * that are only slightly behind.
     */
    public void snapshotTaken(SnapshotMeta meta) {
        installer.onTaken(meta);
    }

    /** How far the log may be compacted, for the snapshots this node is streaming to followers. */
    long compactionFloor() {
        return leader == null ? Long.MAX_VALUE : leader.snapshotTransfersFloor();
    }

    SnapshotStore.SnapshotInfo latestSnapshot() {
        return snapshots == null ? null : snapshots.latest().orElse(null);
    }

    Bytes readSnapshot(long lastIndex, long offset, int length) {
        return snapshots.read(lastIndex, offset, length);
    }

    // ---- role transitions --------------------------------------------------------------------

    private void becomeFollower(long newTerm, String newLeader) {
        endLeadership(); // first: what it hands out for its reads is of the term it led in
        boolean newTermStarted = newTerm > term;
        if (newTermStarted) {
            term = newTerm;
            votedFor = null;
            hardStateDirty = true;
            readRelay.abandonAsked();
        }
        if (newTermStarted || role != Role.FOLLOWER || !Objects.equals(leaderId, newLeader)) {
            roleChanged = true;
        }
        role = Role.FOLLOWER;
        leaderId = newLeader;
        election.reset();
    }

    private void becomePreCandidate() {
        endLeadership();
        role = Role.PRE_CANDIDATE;
        leaderId = null;
        roleChanged = true;
        election.reset();
        LOG.debug("{}: pre-vote for term {}", id, term + 1);
    }

    private void becomeCandidate() {
        endLeadership();
        electionsStarted++;
        term++;
        readRelay.abandonAsked();
        votedFor = id;
        hardStateDirty = true;
        role = Role.CANDIDATE;
        leaderId = null;
        roleChanged = true;
        election.reset();
        LOG.debug("{}: campaigning in term {}", id, term);
    }

    private void becomeLeader() {
        termsLed++;
        role = Role.LEADER;
        leaderId = id;
        roleChanged = true;
        heartbeatElapsed = 0;
        election.restartTimer();
        leader = new LeaderState(this, log, settings);
        for (String voter : election.grantedVoters()) {
            leader.answered(voter); // they answered within this election timeout
        }
        LOG.info("{}: became leader of group {} in term {}", id, groupId, term);
        // Raft §8: a new leader commits a no-op of its own term, which also commits every earlier
        // entry it holds and lets it serve read-index reads.
        appendAsLeader(EntryType.NOOP, Bytes.EMPTY);
    }

    private void endLeadership() {
        if (leader != null) {
            // Confirmed while this node led, so still linearizable: answered, not lost.
            confirmedReads.addAll(answerFollowers(leader.reads().takeConfirmed()));
            giveUpReads(leader.reads().unconfirmed());
            leader = null;
        }
    }

    /** Answers the followers' reads among those this leader confirmed; returns its own callers'. */
    private List<ReadState> answerFollowers(List<ReadState> confirmed) {
        return confirmed.isEmpty() || !readRelay.relaysAny() ? confirmed
                : readRelay.answerRelayed(confirmed, groupId, id, term, this::send);
    }

    /** Reads this leader will not confirm: its callers' are abandoned, followers' refused so they retry. */
    private void giveUpReads(List<Long> reads) {
        for (long read : reads) {
            if (ReadRelay.isRelayed(read)) {
                readRelay.refuseRelayed(read, groupId, id, term, this::send);
            } else {
                abandonedReads.add(read);
            }
        }
    }

    private void setLeader(String newLeader) {
        if (!newLeader.equals(leaderId)) {
            leaderId = newLeader;
            roleChanged = true;
        }
    }

    void send(RaftMessage m) {
        outbox.send(m);
    }

    /**
     * What the parts of the protocol ({@link Election}, {@link FollowerReplication}, {@link Membership})
     * see of this node, and the changes of role and state they decide; one view, as they share most.
     */
    private final class PartsView implements Election.Node, FollowerReplication.Node, Membership.Node {
        @Override
        public long term() {
            return term;
        }

        @Override
        public long bootstrapFingerprint() {
            return bootstrap.value();
        }

        @Override
        public Role role() {
            return role;
        }

        @Override
        public String leaderId() {
            return leaderId;
        }

        @Override
        public String votedFor() {
            return votedFor;
        }

        @Override
        public void voteFor(String candidate) {
            votedFor = candidate;
            hardStateDirty = true;
        }

        @Override
        public void becomePreCandidate() {
            RaftCore.this.becomePreCandidate();
        }

        @Override
        public void becomeCandidate() {
            RaftCore.this.becomeCandidate();
        }

        @Override
        public void becomeLeader() {
            RaftCore.this.becomeLeader();
        }

        @Override
        public void becomeFollower(long newTerm, String newLeader) {
            RaftCore.this.becomeFollower(newTerm, newLeader);
        }

        @Override
        public void answered(String voter) {
            leader.answered(voter);
        }

        @Override
        public void send(RaftMessage m) {
            RaftCore.this.send(m);
        }

        @Override
        public void follow(String newLeader) {
            if (role != Role.FOLLOWER) {
                becomeFollower(term, newLeader);
            }
            setLeader(newLeader);
            election.restartTimer();
        }

        @Override
        public void noteListed(boolean listed) {
            membership.noteListed(listed);
        }

        @Override
        public boolean hasCommittedInTerm() {
            return RaftCore.this.hasCommittedInTerm();
        }

        @Override
        public String transferTarget() {
            return leader.transferTarget();
        }

        @Override
        public boolean quorumAnswersIn(ClusterConfig target) {
            return RaftCore.this.quorumAnswersIn(target);
        }

        @Override
        public String whyNoQuorumIn(ClusterConfig target) {
            return leader.whyNoQuorumIn(target);
        }

        @Override
        public long appendConfig(Bytes config) {
            return appendAsLeader(EntryType.CONFIG, config);
        }

        @Override
        public void stepDown() {
            becomeFollower(term, null);
        }
    }

    // ---- output ------------------------------------------------------------------------------

    /**
     * Holds committed entries back from {@link #ready()} while {@code paused} (the caller's apply
     * backlog is full); they stay in the log and are handed out, in order, once it is cleared.
     * Everything else (messages, writes, commits) goes on.
     */
    public void pauseApplies(boolean paused) {
        appliesPaused = paused;
    }

    /** Whether {@link #ready()} has anything to hand out. */
    public boolean hasReady() {
        return hardStateDirty || roleChanged || !outbox.isEmpty() || log.hasEntriesToPersist()
                || (!appliesPaused && log.hasCommittedToApply()) || (leader != null && leader.hasWork())
                || !abandonedReads.isEmpty() || !confirmedReads.isEmpty() || readRelay.hasOutput(log.committed())
                || installer.hasEffects();
    }

    /**
     * Hands out the pending effects and forgets them: the caller now owns carrying them out (see
     * {@link Ready}). Entries handed out to persist are kept in memory until {@link #persisted}
     * reports them durable.
     */
    public Ready ready() {
        membership.noteCurrentConfig();
        if (leader != null) {
            leader.reads().confirmLeaseReads(leaseClock());
            leader.replicateToAll();
        }
        HardState hs = hardStateDirty
                ? new HardState(term, votedFor, restartRefusal.durableMicros(), bootstrap.value()) : null;
        hardStateDirty = false;
        List<LogEntry> toPersist = log.takeEntriesToPersist();
        List<ReadState> reads = leader != null ? answerFollowers(leader.reads().takeConfirmed()) : List.of();
        if (!confirmedReads.isEmpty()) {
            reads = concat(confirmedReads, reads);
            confirmedReads.clear();
        }
        List<ReadState> followerReads = readRelay.takeAnswered(log.committed());
        if (!followerReads.isEmpty()) {
            reads = reads.isEmpty() ? followerReads : concat(reads, followerReads);
        }
        SnapshotMeta install = installer.takeSnapshotToInstall();
        installer.onTerm(term);
        boolean abandonReceiving = installer.takeReceptionAbandoned();
        List<LogEntry> toApply = appliesPaused ? List.of() : log.takeCommittedToApply(settings.maxApplyBatchBytes());
        if (leader != null) {
            leader.uncommitted().handedToApplyThrough(log.handedOut());
        }
        Ready ready = new Ready(hs, toPersist, outbox.takeNow(), outbox.takeAfterPersist(),
                toApply, reads, takeAbandonedReads(), roleChanged,
                abandonReceiving, installer.takeChunksToStore(), install, installer.takeCompaction());
        roleChanged = false;
        return ready;
    }

    private List<Long> takeAbandonedReads() {
        List<Long> relayed = readRelay.takeAbandoned();
        if (abandonedReads.isEmpty()) {
            return relayed;
        }
        List<Long> taken = concat(abandonedReads, relayed);
        abandonedReads.clear();
        return taken;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a.size() + b.size());
        all.addAll(a);
        all.addAll(b);
        return all;
    }
}

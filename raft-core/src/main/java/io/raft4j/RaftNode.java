package io.raft4j;

import io.raft4j.core.FollowerProgress;
import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.ReadState;
import io.raft4j.core.Ready;
import io.raft4j.core.Role;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.EventLoop;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StateMachine;
import io.raft4j.spi.StorageException;
import io.raft4j.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * A running Raft node: owns one {@link RaftCore} on one event-loop thread, maps ticks to real time,
 * sends through a {@link Transport}, persists through a {@link LogStorage} on a writer thread, and
 * applies through a {@link StateMachine} on an apply thread.
 *
 * <pre>{@code
 * RaftNode<String> node = RaftNode.builder(RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").build(),
 *                                          myStateMachine)
 *         .transport(transport).storage(storage).build();
 * node.start();
 * String result = node.propose(Bytes.ofUtf8("SET x 1")).get();
 * }</pre>
 *
 * <p>All public methods are thread-safe and never block on the protocol; results arrive through
 * futures. They complete on the node's own threads (results of commands and queries on the apply
 * thread, refusals and most other answers on the event loop, which may be the transport's I/O
 * thread), so what is chained to them with {@code thenApply} and the like runs there and holds the
 * node up: hand long work to an executor ({@code thenApplyAsync}). Never wait for a future of this
 * node ({@code get}, {@code join}) on one of its threads, that is from a state machine, a
 * {@link LeadershipListener} or a stage chained to one of its futures: the thread that would
 * complete it may be the one waiting, and the node stalls until {@link #close()} fails the call.
 * Chain a stage instead. A call made before
 * {@link #start()} or after the node stopped fails at once with {@link RaftStoppedException}. A
 * storage or state-machine failure stops the node: every pending and later future fails with
 * {@link RaftStoppedException}.
 *
 * @param <R> the state machine's result type
 */
public final class RaftNode<R> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);
    /** Room for a message's envelope beyond the entries or chunk it carries (entries count their own overhead). */
    private static final long ENVELOPE_ALLOWANCE_BYTES = 64 << 10;
    /**
     * How many admin calls ({@link #whenLeaderKnown}, {@link #followers}, {@link #takeSnapshot},
     * {@link #changeMembership}, {@link #addLearner}, {@link #addVoter}, {@link #promote},
     * {@link #removeMember}, {@link #transferLeadership(String)}, {@link #transferLeadership()}), all
     * together, may wait for the node's event loop to take them up; beyond that they fail at once
     * with {@link OverloadedException}. Far above what operators and tools issue; it only stops a
     * caller that fires them without waiting, while the loop is held up, from queueing them without end.
     */
    public static final int MAX_QUEUED_ADMIN_CALLS = 4096;

    private final RaftConfig config;
    private final RaftCore core;
    private final Transport transport;
    private final LogStorage storage;
    private final SnapshotStore snapshots;
    private final LogWriter writer;
    /** Storage that never blocks: every write runs on the event loop, and there is no writer thread. */
    private final boolean inlineWrites;
    /** {@link Builder#persistOnLoop}: a follower's writes run on the event loop, a leader's on the writer thread. */
    private final boolean followerWritesOnLoop;
    /**
     * With {@link #followerWritesOnLoop}: writes handed to the writer thread whose completion the
     * loop has not handled yet (loop only).
     */
    private int writesOnWriter;
    private final Applier<R> applier;
    private final ApplyBacklog applyBacklog;
    private final NodeLoop loop;
    /** Holds a leader's proposals while more are coming ({@link Builder#proposalBatchWindow}); loop only. */
    private final ProposalBatcher batcher;
    private volatile boolean running;
    /**
     * Set once by {@link #stop}: a node runs at most once. Written under this; volatile because the
     * loop reads it too, to keep the stopped status when a callback it ran stopped the node.
     */
    private volatile boolean stopped;
    /**
     * Set by the one {@link #stop} that stops the node, as it begins, before it takes the node's
     * monitor: the others wait for it to complete, or return at once on a thread it waits for.
     */
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private volatile Throwable failure;
    /**
     * Guards the first setting of {@link #failure} in {@link #fail}; not {@code this}, which
     * {@link #stop} holds while it waits for the threads that fail.
     */
    private final Object failureLock = new Object();
    /** Completed once the node has stopped, whoever stopped it (close, a failure, its removal). */
    private final CompletableFuture<Void> stoppedFuture = new CompletableFuture<>();
    private volatile NodeStatus status;
    private final NodeCounters counters = new NodeCounters();

    private final Map<Long, Applier.PendingQuery<R>> pendingReads = new HashMap<>();
    private final LoopWatch watches = new LoopWatch();
    /** Room for the messages delivered and not yet stepped by the loop. */
    private final InboundAllowance inboundAllowance;
    /** Room for the proposals and reads made and not yet stepped by the loop. */
    private final CallAllowance callAllowance;
    /** When drops on arrival were last warned of ({@link #droppedOnArrival}). */
    private final AtomicLong lastInboundDropWarning = new AtomicLong();
    private static final long INBOUND_DROP_WARNING_NANOS = TimeUnit.SECONDS.toNanos(10);
    private final MembershipCalls membership;
    private final LeadershipHandover handover;
    private final DiskStallHandover diskStall;
    private final RemovalStop removal;
    /** Ticks of the loop so far (loop thread only). */
    private long loopTicks;
    /** Real time in ticks, which leases count (see {@link RaftCore#observeTime}). */
    private final MonotonicTicks clock;
    private final LeadershipTracker leadership = new LeadershipTracker();
    /**
     * The last read-index request id used. Starts at a random point, not 0: a follower restarted in
     * the same term numbered its reads from 1 again, and a late answer to a read of its former run
     * (its read index taken before the restart) was taken for the answer to the new read of that id,
     * which then missed writes acknowledged before it began. Ids stay positive (below 2^62 + reads).
     */
    private long nextReadId = ThreadLocalRandom.current().nextLong(1L << 62);
    private Map<String, String> announcedAddresses;

    private RaftNode(Builder<R> b) {
        this.config = b.config;
        this.transport = Objects.requireNonNull(b.transport, "transport");
        requireTransportCarries(config, transport);
        AddressCheck.problemWithAddresses(transport, config.initialMembers()).ifPresent(problem -> {
            throw new IllegalArgumentException("initialMembers: " + problem);
        });
        this.storage = Objects.requireNonNull(b.storage, "storage");
        LogOwner self = new LogOwner(config.groupId(), config.nodeId());
        boolean unowned = StorageOwnership.check(storage, self);
        this.snapshots = b.snapshots != null ? b.snapshots : new InMemorySnapshotStore();
        // Not refused (a test may want exactly this), but a trap in production: the first
        // compaction leaves a log that no longer starts at 1 and no snapshot to start from. Said
        // when the first snapshot is taken: a state machine without snapshots never compacts.
        boolean snapshotsLostOnRestart = b.snapshots == null && !(storage instanceof InMemoryLogStorage);
        this.core = new RaftCore(b.config, storage, snapshots, b.random, Duration.ofMillis(b.tickMillis));
        this.inboundAllowance = new InboundAllowance(InboundAllowance.bulkBytesFor(config));
        this.callAllowance = new CallAllowance(config);
        if (unowned) {
            // Only now, so that a store the core refused stays unowned.
            StorageOwnership.record(storage, self);
        }
        String name = config.groupId() + "-" + config.nodeId();
        this.inlineWrites = storage.writesWithoutBlocking();
        this.followerWritesOnLoop = b.persistOnLoop && !inlineWrites;
        this.writer = new LogWriter("raft-log-" + name, storage, snapshots, this::onWritten, this::fail, counters);
        this.applyBacklog = ApplyBacklog.ofBatches(config.maxApplyBatchBytes(), this::wakeLoop);
        this.applier = new Applier<>("raft-apply-" + name, b.stateMachine, snapshots, config,
                meta -> {
                    if (counters.snapshotsTaken.incrementAndGet() == 1 && snapshotsLostOnRestart) {
                        LOG.warn("{}: no snapshot store given: snapshots are kept in memory, so now that the log"
                                + " is compacted this node cannot restart from its own storage; give it a"
                                + " FileSnapshotStore", config.nodeId());
                    }
                    execute(() -> core.snapshotTaken(meta));
                }, this::fail,
                new LeadershipNotifier(config.nodeId(), b.leadershipListener), b.applyOnLoop, counters, applyBacklog,
                this::executeIfRunning);
        this.membership = new MembershipCalls(config, core, watches, () -> loopTicks, transport,
                applier::expectConfig, this::executeAdmin, this::execute, counters.membershipChangesRefused);
        this.handover = new LeadershipHandover(config, core, watches, () -> loopTicks, this::executeAdmin,
                counters.leadershipTransfersRefused);
        this.diskStall = new DiskStallHandover(config.nodeId(), core, writer::writeUnderWayNanos,
                config.electionTimeoutTicks() * b.tickMillis * 1_000_000L);
        this.removal = new RemovalStop(config, core, watches, () -> loopTicks, applier::appliedIndex,
                () -> stopOffTheLoop(this::close));
        // Recover the state machine from the latest snapshot before any entry after it is applied.
        snapshots.latest().ifPresent(latest -> applier.submitRestore(latest.meta()));
        long tickNanos = b.tickMillis * 1_000_000L;
        this.clock = new MonotonicTicks(tickNanos);
        EventLoop lent = b.runOnTransportLoop ? transport.eventLoopFor(config.groupId(), config.nodeId()) : null;
        NodeLoop.Body body = new LoopBody();
        this.loop = lent != null ? NodeLoop.shared(lent, body, tickNanos)
                : NodeLoop.ownThread("raft-loop-" + name, body, tickNanos);
        this.batcher = new ProposalBatcher(b.proposalBatchWindowNanos, loop::executeAfter, counters);
        updateStatus();
    }

    /**
     * A node whose entries or snapshot chunks the transport cannot carry would stop replicating at
     * the first one: refuse the configuration at once instead.
     */
    private static void requireTransportCarries(RaftConfig config, Transport transport) {
        long limit = transport.maxMessageBytes();
        long payload = config.largestMessagePayload();
        // Saturating: with maxEntryBytes near Long.MAX_VALUE the sum wrapped negative and the check
        // passed, and the first entry larger than the transport's frames stopped replication.
        long needed = payload > Long.MAX_VALUE - ENVELOPE_ALLOWANCE_BYTES ? Long.MAX_VALUE
                : payload + ENVELOPE_ALLOWANCE_BYTES;
        if (needed > limit) {
            throw new IllegalArgumentException("the transport carries messages of at most " + limit
                    + " bytes, but maxEntryBytes (" + config.maxEntryBytes() + "), maxMessageBytes ("
                    + config.maxMessageBytes() + ") and snapshotChunkBytes (" + config.snapshotChunkBytes()
                    + ") need " + needed + " with the envelope: lower them or raise the transport's limit");
        }
    }

    /** Starts building a node with the given protocol settings and state machine. */
    public static <R> Builder<R> builder(RaftConfig config, StateMachine<R> stateMachine) {
        return new Builder<>(config, stateMachine);
    }

    /**
     * Registers with the transport and starts the node's threads.
     *
     * @throws IllegalStateException if the node was started or stopped before, or if the transport
     *         refuses the registration (it has a node of this id in this group already, or it is closed): the node is
     *         then stopped, as {@link #failure()} says, and the other node is left as it was
     */
    public synchronized void start() {
        if (running || stopped) {
            throw new IllegalStateException("node " + config.nodeId() + " was already "
                    + (running ? "started" : "stopped") + "; a stopped node is not restarted: build a new one");
        }
        running = true;
        try {
            transport.register(config.groupId(), config.nodeId(), new Transport.Inbound() {
                @Override
                public void receive(RaftMessage message) {
                    if (!inboundAllowance.tryTake(message)) {
                        droppedOnArrival(message);
                        return;
                    }
                    execute(() -> {
                        inboundAllowance.giveBack(message);
                        core.step(message);
                    });
                }

                @Override
                public void peerUnreachable(String peerId) {
                    execute(() -> core.reportUnreachable(peerId));
                }

                @Override
                public void transportClosed() {
                    // Without this a node on a lent loop stood still with no one told: no tick, no
                    // failure(), whenStopped() never completing, isLeader() stuck where it was.
                    fail(new IllegalStateException("the transport was closed while node " + config.nodeId()
                            + " of group " + config.groupId() + " ran; close the nodes before their transport"));
                }
            });
        } catch (RuntimeException e) {
            // Refused (the id is registered already: another node of this group in this process).
            // Stopped, not half-started: calls fail at once instead of waiting for a loop that never
            // runs, and close() leaves alone the registration, which is the other node's.
            running = false;
            stopped = true;
            failure = e;
            // A call made meanwhile found the node running and queued its task for the loop, which
            // now never starts: fail it (one queued after this drain fails itself, seeing running false).
            failNeverRun(loop.drainUnrun(), new RaftStoppedException("node " + config.nodeId()
                    + " was refused by the transport", e));
            stoppedFuture.complete(null);
            throw e;
        }
        if (!inlineWrites) {
            writer.start();
        }
        applier.start();
        clock.start();
        loop.start();
    }

    /**
     * Proposes a command. The future completes with the state machine's result once the command is
     * committed and applied here; fails with {@link NotLeaderException} at once if this node is not
     * the leader (or is handing leadership over: it then names the node taking over), with
     * {@link OverloadedException} at once if the leader's commands not yet committed and applied,
     * with the proposals made here and still waiting for its event loop, are at
     * {@link RaftConfig#maxUncommittedBytes()} (back off and retry: so a caller that fires proposals
     * without waiting for them, while the loop is held up, is refused instead of queueing without
     * end), with
     * {@link IndeterminateException} if leadership is lost before the outcome is known, with
     * {@link RaftStoppedException}, or with {@link IllegalArgumentException} at once if the command
     * is larger than {@link RaftConfig#maxEntryBytes()} (nothing was proposed).
     */
    public CompletableFuture<R> propose(Bytes command) {
        Objects.requireNonNull(command, "command");
        CompletableFuture<R> future = new CompletableFuture<>();
        try {
            config.checkCommandSize(command);
        } catch (IllegalArgumentException e) {
            future.completeExceptionally(e);
            return future;
        }
        long refusedHolding = callAllowance.tryTakeProposal(command.length());
        if (refusedHolding >= 0) {
            if (!running) {
                // A stopped node never takes up what was queued: say that it stopped, not that it is busy.
                future.completeExceptionally(notRunning());
                return future;
            }
            counters.proposalsRefusedOverloaded.incrementAndGet();
            future.completeExceptionally(OverloadedException.proposalsQueued(config.nodeId(), refusedHolding,
                    callAllowance.maxProposalBytes()));
            return future;
        }
        Runnable step = () -> {
            long index = core.propose(command);
            callAllowance.proposalStepped(command.length(), core.uncommittedBytes());
            if (index == RaftCore.OVERLOADED) {
                counters.proposalsRefusedOverloaded.incrementAndGet();
                future.completeExceptionally(new OverloadedException(config.nodeId(), core.uncommittedBytes(),
                        config.maxUncommittedBytes()));
            } else if (index == 0) {
                // During a leadership transfer the best hint is the node about to lead.
                String hint = core.transferTarget() != null ? core.transferTarget() : core.leaderId();
                future.completeExceptionally(new NotLeaderException(config.nodeId(), hint));
            } else {
                counters.proposalsAccepted.incrementAndGet();
                applier.expect(index, core.term(), future);
            }
        };
        if (!execute(() -> batcher.offer(step, future, core.role() == Role.LEADER), future)) {
            // Not queued (the node is not running): room held by no call refused later ones for ever.
            callAllowance.proposalRefunded(command.length());
        }
        return future;
    }

    /**
     * No room for {@code message} among those waiting for the loop ({@link InboundAllowance}):
     * dropped, counted, and warned of at most once per {@link #INBOUND_DROP_WARNING_NANOS}.
     */
    private void droppedOnArrival(RaftMessage message) {
        long dropped = counters.inboundMessagesDropped.incrementAndGet();
        long now = System.nanoTime();
        long last = lastInboundDropWarning.get();
        if ((dropped == 1 || now - last >= INBOUND_DROP_WARNING_NANOS)
                && lastInboundDropWarning.compareAndSet(last, now)) {
            LOG.warn("{}: dropping messages from other members ({} so far; this one {} from {}): {} wait for the event"
                            + " loop already, the most allowed. A member floods this node, or its loop is held up",
                    config.nodeId(), dropped, message.getClass().getSimpleName(), message.from(),
                    inboundAllowance.messages());
        }
    }

    /** Conditions the loop re-checks on behalf of calls (for tests; loop thread, or racy). */
    int watchedConditions() {
        return watches.size();
    }

    /** Tasks waiting for the event loop (for tests). */
    long queuedLoopTasks() {
        return loop.inbox.size();
    }

    /** Bytes of the proposals waiting for the event loop (for tests). */
    long queuedProposalBytes() {
        return callAllowance.queuedProposalBytes();
    }

    /** Proposals this leader holds now for its batch window ({@link Builder#proposalBatchWindow}). */
    int heldProposals() {
        return batcher.held();
    }

    /** Reads waiting for the event loop (for tests). */
    int queuedReads() {
        return callAllowance.queuedReads();
    }

    /** Admin calls waiting for the event loop (for tests). */
    int queuedAdminCalls() {
        return callAllowance.queuedAdminCalls();
    }

    /** Bytes of committed entries waiting for the apply thread (for tests). */
    long applyBacklogBytes() {
        return applyBacklog.bytes();
    }

    /**
     * Runs a read-only query linearizably (Raft thesis §6.4, ReadIndex): the leader confirms it still
     * leads with a heartbeat round, waits until its state machine has applied everything committed
     * when the query arrived, then runs {@link StateMachine#query}. On a follower, see
     * {@link #query(Bytes, ReadConsistency)}.
     */
    public CompletableFuture<R> query(Bytes query) {
        return query(query, ReadConsistency.LINEARIZABLE);
    }

    /**
     * Runs a read-only query with the given consistency (see {@link ReadConsistency}), on the leader
     * or on a follower. A follower asks its leader for the read index (one round trip, plus the
     * leader's confirmation), waits until it has applied that far, and answers from its own state,
     * which takes read load off the leader. Fails with {@link NotLeaderException} on a node that
     * knows of no leader (an election is on), or when the read cannot be confirmed (leadership
     * changed, the leader could not confirm it within an election timeout, or a follower's commit
     * index stood still for an election timeout short of the read index it was given): retry it.
     * {@link ReadConsistency#STALE} answers at once on any node. Fails at once with
     * {@link OverloadedException} if {@link RaftConfig#maxQueuedReads()} reads wait for this node's
     * event loop already (it is held up, or reads come faster than it takes them up): back off and
     * retry.
     */
    public CompletableFuture<R> query(Bytes query, ReadConsistency consistency) {
        // Thrown here, as propose(null) does, not handed to the state machine's query for it to fail.
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(consistency, "consistency");
        CompletableFuture<R> future = new CompletableFuture<>();
        if (!callAllowance.tryTakeRead()) {
            if (!running) {
                future.completeExceptionally(notRunning()); // see propose
                return future;
            }
            counters.readsRefusedOverloaded.incrementAndGet();
            future.completeExceptionally(OverloadedException.readsQueued(config.nodeId(), callAllowance.maxReads()));
            return future;
        }
        boolean queued;
        if (consistency == ReadConsistency.STALE) {
            queued = execute(() -> {
                callAllowance.readStepped();
                applier.submit(List.of(), List.of(new Applier.PendingQuery<>(0, query, future)));
            }, future);
        } else {
            queued = executeLinearizableRead(query, consistency == ReadConsistency.LEASE, future);
        }
        if (!queued) {
            callAllowance.readStepped(); // not queued: see propose
        }
        return future;
    }

    private boolean executeLinearizableRead(Bytes query, boolean lease, CompletableFuture<R> future) {
        return execute(() -> {
            callAllowance.readStepped();
            long id = ++nextReadId;
            if (!core.readIndex(id, lease)) {
                future.completeExceptionally(new NotLeaderException(config.nodeId(), core.leaderId()));
                return;
            }
            pendingReads.put(id, new Applier.PendingQuery<>(0, query, future));
        }, future);
    }

    /**
     * Changes the membership to {@code target}: its voters, learners and their addresses (see
     * {@link RaftCore#changeMembership}). Completes with the new configuration once it is committed
     * and applied here; fails with {@link MembershipChangeException} if refused,
     * {@link NotLeaderException} on a follower, {@link IndeterminateException} if leadership is lost
     * before the outcome is known, {@link IllegalArgumentException} if it gives a member an address
     * the transport could not dial (see {@link Transport#problemWithAddress}).
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<ClusterConfig> changeMembership(ClusterConfig target) {
        return membership.change(target);
    }

    /**
     * Adds {@code id} as a learner: it receives the log but does not vote. Fails with
     * {@link IllegalArgumentException} for an id or address no member can have, or an address the
     * transport could not dial ({@code ""}: none, the transport knows where {@code id} is).
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<ClusterConfig> addLearner(String id, String address) {
        return membership.addLearner(id, address);
    }

    /**
     * Adds {@code id} as a voter the safe way: first as a learner, then, once its log is within
     * {@link RaftConfig#promoteWithinEntries()} of the leader's, promoted to voter. A node that is
     * far behind therefore never weakens the quorum while it catches up, and one that never
     * answers is never promoted: the call then waits (bound it with {@code orTimeout}, or cancel
     * it: once its future is complete it no longer waits, and the learner stays, without a vote,
     * until removed or added again; a {@code get} that times out leaves the call waiting).
     *
     * <p>Safe to retry: a call cut off half way (the leader changed after the learner was added)
     * leaves {@code id} a learner, and a new call for the same id and address goes on from there;
     * for a node that is already a voter at that address it completes once the configuration is
     * committed. A member of that id at another address is refused.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<ClusterConfig> addVoter(String id, String address) {
        return membership.addVoter(id, address);
    }

    /**
     * Promotes the learner {@code id} to voter. Fails with {@link IllegalArgumentException} at once
     * for an id no member can have (see {@link ClusterConfig#problemWithId}).
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<ClusterConfig> promote(String id) {
        return membership.promote(id);
    }

    /**
     * Removes {@code id} (voter or learner). A leader that removes itself steps down once that
     * commits. Fails with {@link IllegalArgumentException} at once for an id no member can have.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<ClusterConfig> removeMember(String id) {
        return membership.remove(id);
    }

    /**
     * Hands leadership to the voter {@code target} (thesis §3.10). Completes when this node sees
     * {@code target} lead; fails with {@link NotLeaderException} if this node is not the leader, with
     * {@link MembershipChangeException} if refused, if the transfer timed out after an election
     * timeout (this node then leads on and takes proposals again) or if another node was elected
     * instead, with {@link IndeterminateException} if this node lost its leadership meanwhile and has
     * known no leader for a few election timeouts since (cut off from the others, say), with
     * {@link IllegalArgumentException} at once for an id no member can have.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<Void> transferLeadership(String target) {
        return handover.to(target);
    }

    /**
     * Hands leadership to the voter best placed to take it at once (the one answering whose log
     * matches furthest; during a joint membership change, one of the voters that stay), for instance before stopping a leader for maintenance, so the group does
     * not wait an election timeout for a new one. Completes with the new leader's id; fails as
     * {@link #transferLeadership(String)} does, or with {@link MembershipChangeException} if no other
     * voter answers.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<String> transferLeadership() {
        return handover.toMostCaughtUp();
    }

    /**
     * Takes a snapshot of the state machine now (besides the automatic ones of
     * {@link RaftConfig#snapshotEveryEntries()}), then compacts the log behind it. Completes once the
     * snapshot is stored, with what it covers: at least every entry applied before the call. The log
     * is compacted after that, on the event loop, so its first index may still be the old one when
     * the future completes. If a snapshot is being
     * written, waits for it, and takes another if entries were applied after its view. Fails if the
     * state machine does not support snapshots, nothing is applied yet, or writing fails.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<SnapshotMeta> takeSnapshot() {
        CompletableFuture<SnapshotMeta> future = new CompletableFuture<>();
        // Only the call is counted: the snapshot's own task on the loop comes once per call taken up.
        executeAdmin(() -> applier.requestSnapshot(future, task -> execute(task, future)), future);
        return future;
    }

    /**
     * On the leader, its view of every follower: match index (so each one's lag), replication state
     * and whether it answers; an empty list on any other node. Computed on the event loop when asked,
     * so it costs nothing in between.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<List<FollowerProgress>> followers() {
        CompletableFuture<List<FollowerProgress>> future = new CompletableFuture<>();
        executeAdmin(() -> future.complete(core.followers()), future);
        return future;
    }

    /**
     * What this node has done since it started (elections, writes and their time, applies, reads,
     * snapshots), for monitoring: cheap enough to poll every second. See {@link NodeStats}.
     */
    public NodeStats stats() {
        return counters.snapshot();
    }

    /**
     * The latest known state of this node; once it failed or began to stop (when it refuses every
     * call), a follower that knows no leader, with the term, indexes and configuration it last had.
     */
    public NodeStatus status() {
        NodeStatus s = publishedStatus();
        // The applier publishes its index entry by entry, the loop the rest at the end of its batch:
        // an entry applied was committed and is in the log, though the loop's figures may not say so yet.
        long applied = applier.appliedIndex();
        long commit = Math.max(s.commitIndex(), applied);
        return new NodeStatus(s.nodeId(), s.role(), s.term(), s.leaderId(), commit, applied,
                Math.max(s.lastIndex(), commit), s.config(), s.bootstrapFingerprint());
    }

    /**
     * Completes with the id of the leader once this node knows one (at once if it does): after
     * {@link #start()}, or after losing a leader, an election takes an election timeout or more.
     * Only the leader takes proposals; on any other node they fail with
     * {@link NotLeaderException}, which names the leader. Fails if the node stops first. To give up
     * waiting, complete the future ({@code orTimeout}, {@code cancel}): the node then forgets the
     * call, whereas a {@code get} that times out leaves it waiting until a leader is known.
     * Fails at once with {@link OverloadedException} if {@link #MAX_QUEUED_ADMIN_CALLS} admin calls
     * wait for the event loop already.
     */
    public CompletableFuture<String> whenLeaderKnown() {
        CompletableFuture<String> future = new CompletableFuture<>();
        executeAdmin(() -> {
            if (core.leaderId() != null) {
                future.complete(core.leaderId());
            } else {
                watches.add(() -> core.leaderId() != null, () -> future.complete(core.leaderId()), future);
            }
        }, future);
        return future;
    }

    /** Whether this node currently believes it leads (never once it failed or began to stop). */
    public boolean isLeader() {
        return publishedStatus().role() == Role.LEADER;
    }

    /** The node's id. */
    public String id() {
        return config.nodeId();
    }

    /**
     * Why the node stopped, or {@code null} while it runs (or after a clean close). A failure while
     * it closes (an apply handed over before the close that throws) is reported here too.
     */
    public Throwable failure() {
        return failure;
    }

    /**
     * Completes once the node has stopped: after {@link #close()}, after a failure ({@link #failure()}
     * says which) or after it learned it was removed from the group. A process that hosts one node
     * waits on it to exit (and let a supervisor restart or alert) instead of running on without Raft.
     */
    public CompletableFuture<Void> whenStopped() {
        return stoppedFuture.copy();
    }

    /**
     * Stops the node: unregisters from the transport, stops its threads, closes nothing it was given.
     * Blocks while its threads finish the work already handed to them (log writes, applies, a
     * snapshot being written), each for some seconds at most: a thread still busy then is left to
     * end on its own (the storage thread, held in a write by a hung disk, writes nothing more once
     * that write returns: the writes queued behind it, never acknowledged, are dropped, so that
     * the storage is the caller's again when this returns). Calls still pending fail with
     * {@link RaftStoppedException}. Closing again does nothing; called while another thread closes
     * the node, it returns once that close completes; called from a callback on one of the node's
     * threads while another thread closes the node, it returns at once (that close waits for this
     * thread), as it does called from a listener that the close itself tells that leadership ended.
     */
    @Override
    public void close() {
        stop(new RaftStoppedException("node " + config.nodeId() + " closed", null));
    }

    // ---- the event loop ----------------------------------------------------------------------

    private void execute(Runnable task) {
        loop.execute(task);
    }

    /** Makes the loop look at its ready output again (from another thread). */
    private void wakeLoop() {
        executeIfRunning(() -> { });
    }

    /** Runs {@code task} on the loop, unless the node is stopping: then there is nothing left for it to do. */
    private void executeIfRunning(Runnable task) {
        if (!running) {
            return;
        }
        try {
            execute(task);
        } catch (RuntimeException e) {
            // The loop (or the transport lending it) is shutting down.
        }
    }

    /**
     * Runs {@code task} on the loop for a caller, or fails {@code future} at once if the node is not
     * running; returns whether the task was queued (a caller's room in {@link #callAllowance} is
     * then given back when it runs, else at once).
     */
    private boolean execute(Runnable task, CompletableFuture<?> future) {
        if (!running) {
            future.completeExceptionally(notRunning());
            return false;
        }
        execute(new Call(task, future));
        if (!running) {
            // stop() may have taken the loop's queue before this call got into it: then nothing
            // would ever run or fail it. Whatever is queued now never runs; fail it here (a task
            // taken by stop() is failed there, and failing a future twice does nothing).
            failNeverRun(loop.drainUnrun(), new RaftStoppedException("node " + config.nodeId() + " stopped", failure));
        }
        return true;
    }

    /**
     * Runs an admin call's task on the loop as {@link #execute(Runnable, CompletableFuture)} does, or
     * fails the call at once if {@link #MAX_QUEUED_ADMIN_CALLS} wait for the loop already.
     */
    private void executeAdmin(Runnable task, CompletableFuture<?> future) {
        if (!callAllowance.tryTakeAdminCall()) {
            // A stopped node never takes up what was queued: say that it stopped, not that it is busy.
            if (running) {
                counters.adminCallsRefusedOverloaded.incrementAndGet();
                future.completeExceptionally(OverloadedException.adminCallsQueued(config.nodeId(),
                        MAX_QUEUED_ADMIN_CALLS));
            } else {
                future.completeExceptionally(notRunning());
            }
            return;
        }
        if (!execute(() -> {
            callAllowance.adminCallStepped();
            task.run();
        }, future)) {
            callAllowance.adminCallStepped(); // not queued: see propose
        }
    }

    private RaftStoppedException notRunning() {
        return new RaftStoppedException("node " + config.nodeId() + " is not running", failure);
    }

    private static void failNeverRun(List<Runnable> tasks, RaftStoppedException reason) {
        for (Runnable task : tasks) {
            if (task instanceof Call call) {
                call.future().completeExceptionally(reason);
            }
        }
    }

    /** A task on behalf of a caller whose future must fail if the task never runs. */
    private record Call(Runnable body, CompletableFuture<?> future) implements Runnable {
        @Override
        public void run() {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                // An Error too (a plug-in's class that failed to initialise...): it stops the node,
                // and this task is off the queue, so the stop would not fail its future either.
                future.completeExceptionally(e);
                throw e;
            }
        }
    }

    /** What the loop drives: the core's clock, and the handling of its output. */
    private final class LoopBody implements NodeLoop.Body {
        @Override
        public void tick() {
            loopTicks++;
            core.tick();
            core.observeTime(clock.elapsed());
            diskStall.check();
            watches.check();
        }

        @Override
        public boolean handleReady() {
            if (!running) {
                return false; // stopped by a callback of this very loop: nothing more to hand out
            }
            core.pauseApplies(applyBacklog.full());
            if (!core.hasReady()) {
                return false;
            }
            core.observeTime(clock.elapsed()); // lease reads are confirmed against this reading
            handle(core.ready());
            return true;
        }

        @Override
        public void failed(Throwable t) {
            fail(t);
        }
    }

    private void handle(Ready ready) {
        // Taking the ready released the commands it hands out for apply (and a lost leadership all of
        // them): said before any of their futures completes, or a caller that waits for each before
        // proposing the next was refused, against room that is free already.
        callAllowance.uncommittedNow(core.uncommittedBytes());
        if (ready.roleChanged()) {
            onRoleChange();
        }
        failAbandonedReads(ready.abandonedReads());
        for (RaftMessage m : ready.messages()) {
            transport.send(m);
        }
        if (ready.mustPersist() || !ready.messagesAfterPersist().isEmpty()) {
            LogWriter.Job job = new LogWriter.Job(ready.entriesToPersist(), ready.hardState(),
                    ready.messagesAfterPersist(), ready.abandonSnapshotReceiving(), ready.snapshotChunks(), ready.compaction());
            if (writesOnLoopNow()) {
                writeNow(job);
            } else if (!ready.mustPersist() && writer.idle() && !addressesItself(ready.messagesAfterPersist())) {
                // Nothing to write, and every earlier write is durable with what it released sent: a
                // follower's answer to a heartbeat, as a rule. Handed to the storage thread, each cost
                // two wake-ups (that thread's, then the transport's), most of the idle CPU of a
                // process hosting hundreds of groups. A message to itself waits for the storage
                // thread as before: it must be stepped after what an earlier write handed back.
                for (RaftMessage m : ready.messagesAfterPersist()) {
                    transport.send(m);
                }
            } else {
                if (followerWritesOnLoop) {
                    writesOnWriter++; // counted only where writesOnLoopNow reads it; onWritten takes it back
                }
                writer.submit(job);
            }
        }
        if (ready.snapshotToInstall() != null) {
            counters.snapshotsInstalled.incrementAndGet();
            applier.submitRestore(ready.snapshotToInstall());
        }
        List<Applier.PendingQuery<R>> queries = List.of();
        if (!ready.readStates().isEmpty()) {
            queries = new ArrayList<>(ready.readStates().size());
            for (ReadState rs : ready.readStates()) {
                Applier.PendingQuery<R> q = pendingReads.remove(rs.requestId());
                if (q != null) {
                    queries.add(new Applier.PendingQuery<>(rs.readIndex(), q.query(), q.future()));
                }
            }
        }
        if (core.role() == Role.LEADER) {
            batcher.committed(ready.committedEntries().size());
        }
        if (!ready.committedEntries().isEmpty() || !queries.isEmpty()) {
            applier.submit(ready.committedEntries(), queries);
        }
        if (!running) {
            return; // an apply or a notice on this loop closed the node: the transport is gone
        }
        announceConfigIfChanged();
        updateStatus();
        watches.check();
        removal.checkRemoved();
    }

    private void onRoleChange() {
        if (batcher.held() > 0 && core.role() != Role.LEADER) {
            // Stepped now they are refused with the new leader's name, as those that come later are.
            execute(batcher::flush);
        }
        // First: the callbacks below (the listener, with applyOnLoop at once; the callers' futures)
        // must find status() and isLeader() saying what they are told. Updated only at the end of the
        // batch, a leaderStopped found isLeader() still true, a leaderChanged the leader before.
        updateStatus();
        if (core.role() != Role.LEADER) {
            applier.failUndecided(new IndeterminateException(
                    "node " + config.nodeId() + " lost leadership before the outcome was known"),
                    core.commitIndex(), core::committedOutcomeOfChangeFrom);
        }
        LOG.debug("{}: role {} term {} leader {}", config.nodeId(), core.role(), core.term(), core.leaderId());
        applier.submitNotice(leadership.observe(core.role(), core.term(), core.leaderId()));
    }

    /** Reads that will never be confirmed (leadership ended, no answer from the leader): try elsewhere. */
    private void failAbandonedReads(List<Long> abandoned) {
        for (long id : abandoned) {
            Applier.PendingQuery<R> q = pendingReads.remove(id);
            if (q != null) {
                counters.readsGivenUp.incrementAndGet();
                q.future().completeExceptionally(new NotLeaderException(config.nodeId(), core.leaderId()));
            }
        }
    }

    /**
     * Tells the transport whom this node may send to when that changes: its configuration's members
     * and, while it leads, members being removed that it has not told yet (without their address a
     * removed node that joined later would never learn of its removal, and never stop).
     */
    private void announceConfigIfChanged() {
        Map<String, String> addresses = core.peerAddresses();
        // The core hands back the same map until the configuration or the members being removed
        // change: the identity check keeps a deep comparison off the per-batch path.
        if (addresses != announcedAddresses && !addresses.equals(announcedAddresses)) {
            announcedAddresses = addresses;
            transport.updatePeers(config.groupId(), addresses);
        }
    }

    private void updateStatus() {
        if (stopped) {
            return; // stopped, possibly from within this batch (a callback on the loop): keep the stopped status
        }
        counters.electionsStarted.lazySet(core.electionsStarted()); // the loop alone writes these five
        counters.termsLed.lazySet(core.termsLed());
        counters.followerLogLosses.lazySet(core.followerLogLosses());
        counters.leaseReadsFromLease.lazySet(core.leaseReadsFromLease());
        counters.leaseReadsByRound.lazySet(core.leaseReadsByRound());
        status = new NodeStatus(config.nodeId(), core.role(), core.term(), core.leaderId(), core.commitIndex(),
                0, core.lastIndex(), core.clusterConfig(), core.bootstrapFingerprint());
    }

    private boolean addressesItself(List<RaftMessage> messages) {
        for (RaftMessage m : messages) {
            if (m.to().equals(config.nodeId())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether this write runs on the loop. A leader hands its writes to the writer thread even with
     * {@link Builder#persistOnLoop}, so that its loop steps the followers' acknowledgements while its
     * own write syncs (a majority of followers commits without it); a write goes to the loop only
     * once the writer has finished every write handed to it before, so writes stay in order.
     */
    private boolean writesOnLoopNow() {
        return inlineWrites || (followerWritesOnLoop && writesOnWriter == 0 && core.role() != Role.LEADER);
    }

    private void writeNow(LogWriter.Job job) {
        LogWriter.Done done;
        try {
            done = writer.writeNow(job);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        afterWrite(done, sendReleased(done));
    }

    /** Called on the writer thread once a group of writes is durable. */
    private void onWritten(LogWriter.Done done) {
        List<RaftMessage> toSelf = sendReleased(done);
        if (followerWritesOnLoop) {
            // Always back to the loop: it may write there itself once the writer is done.
            execute(() -> {
                writesOnWriter -= done.jobs();
                afterWrite(done, toSelf);
            });
        } else if (done.lastIndex() >= 0 || !toSelf.isEmpty() || !done.snapshots().isEmpty()) {
            execute(() -> afterWrite(done, toSelf));
        }
    }

    /**
     * Sends the messages a durable write released to other members, from whichever thread did the
     * write; returns those addressed to this node, which the core must step.
     */
    private List<RaftMessage> sendReleased(LogWriter.Done done) {
        List<RaftMessage> toSelf = new ArrayList<>(0);
        for (RaftMessage m : done.released()) {
            if (m.to().equals(config.nodeId())) {
                toSelf.add(m);
            } else {
                transport.send(m);
            }
        }
        return toSelf;
    }

    /** On the event loop: tells the core what became durable and steps the messages to itself. */
    private void afterWrite(LogWriter.Done done, List<RaftMessage> toSelf) {
        if (done.lastIndex() >= 0) {
            core.persisted(done.lastIndex(), done.lastTerm());
        }
        for (RaftMessage m : toSelf) {
            core.step(m);
        }
        for (LogWriter.ReceivedSnapshot r : done.snapshots()) {
            core.snapshotReceived(r.meta(), r.published());
        }
    }

    /**
     * Stops the node for {@code t}, unless it failed already (or is stopping: then only records and
     * logs {@code t}, the first failure, for the stop under way ends the node). Called from the loop,
     * the storage thread and the apply thread, which can fail together: a full disk fails the
     * storage thread's append and, a moment later, the loop's read of the storage that append
     * poisoned. The first failure is recorded before it is logged, atomically, so that the second
     * is neither logged (a second stack trace) nor reported as the reason the node stopped.
     */
    private void fail(Throwable t) {
        boolean stopping;
        synchronized (failureLock) {
            if (failure != null) {
                return;
            }
            failure = t;
            stopping = !running;
        }
        if (stopping) {
            // A close is under way, and its threads finish what was handed to them: an apply among
            // those that threw was dropped without a word, and failure() called the close clean.
            LOG.error("{}: failed while stopping", config.nodeId(), t);
            return;
        }
        LOG.error("{}: stopping after failure", config.nodeId(), t);
        stopOffTheLoop(() -> stop(new RaftStoppedException("node " + config.nodeId() + " failed", t)));
    }

    /** Runs {@code stop} on a thread of its own: stopping waits for the loop, so the loop cannot run it. */
    private void stopOffTheLoop(Runnable stop) {
        Thread stopper = new Thread(stop, "raft-stop-" + config.nodeId());
        stopper.setDaemon(true);
        stopper.start();
    }

    /**
     * Stops the node, once. A thread of the node's own (its loop, apply, snapshot or storage thread:
     * a future's callback there) that finds another thread stopping it returns at once: that stop
     * holds the node while it waits for this very thread to finish its work, so waiting for the
     * node here held both up until the stop's wait for this thread ran out (10 seconds), and the
     * stop then returned with this thread still busy (applying, telling the listener of the
     * leadership's end after close() had returned). This thread goes on and ends as the stop asks.
     * Which stop that is is decided by one compare-and-set: decided by reading the flag and setting
     * it after, a node's thread could read it unset, set it after a stop on another thread, and then
     * wait for the node that stop held, while that stop waited the 10 seconds for this thread.
     */
    private void stop(RaftStoppedException reason) {
        if (Thread.holdsLock(this)) {
            // Called back by this very stop, through a plug-in it runs on this thread (with applyOnLoop,
            // the leadership listener's last leaderStopped). The monitor is re-entrant: stopOnce found
            // the node stopped and completed whenStopped() before the stop it was part of had ended.
            return;
        }
        if (stopRequested.compareAndSet(false, true)) {
            stopOnce(reason);
        } else if (!onOwnThread()) {
            stoppedFuture.join(); // the stop under way completes it, even if releasing something threw
        }
    }

    /** Whether the calling thread is one {@link #stopOnce} waits for. */
    private boolean onOwnThread() {
        return loop.onLoopThread() || applier.onItsThreads() || writer.onItsThread();
    }

    private synchronized void stopOnce(RaftStoppedException reason) {
        boolean wasRunning = running;
        running = false;
        stopped = true;
        if (!wasRunning && !loop.running) {
            stoppedFuture.complete(null);
            return;
        }
        try {
            release(reason);
        } finally {
            setStoppedStatus();
            // Even if releasing something threw: a process waiting to exit must hear of the stop.
            stoppedFuture.complete(null);
        }
    }

    /** Whatever it last saw, a stopped node leads nothing and follows no one. */
    private void setStoppedStatus() {
        status = stoppedView(status);
    }

    private static NodeStatus stoppedView(NodeStatus last) {
        return new NodeStatus(last.nodeId(), Role.FOLLOWER, last.term(), null, last.commitIndex(), 0,
                last.lastIndex(), last.config(), last.bootstrapFingerprint());
    }

    /**
     * The status the loop last published, or its stopped view once the node failed or a stop began.
     * A stopping node refuses every call at once, but its loop's status stood until its stop had
     * unregistered it and stopped its loop and writer (milliseconds, longer on a busy machine): a
     * caller picking the leader by {@link #isLeader()} was drawn back to it, refused, again and again.
     */
    private NodeStatus publishedStatus() {
        NodeStatus s = status;
        boolean stopping = stopRequested.get() || failure != null || stopped;
        return stopping && (s.role() != Role.FOLLOWER || s.leaderId() != null) ? stoppedView(s) : s;
    }

    /** Stops the loop, the writer and the applier, and fails everything still waiting. */
    private void release(RaftStoppedException reason) {
        try {
            transport.unregister(config.groupId(), config.nodeId());
        } catch (RuntimeException e) {
            // The transport's bug must not leave this node half stopped: its loop and apply threads
            // used to run on, and the futures waiting on them were never failed.
            LOG.error("{}: the transport failed to unregister it; stopping the node regardless", config.nodeId(), e);
        }
        List<Runnable> neverRan = loop.stop();
        // What waits for the loop fails now, before the waits for the other threads below: a callback
        // on the apply or snapshot thread blocked on such a call (whenLeaderKnown().get()) held that
        // thread until the call failed, and the wait for the thread came first (10 s, 30 s).
        failLoopWaiters(neverRan, reason);
        if (!inlineWrites) {
            writer.stop();
        }
        // These two run plug-ins on this thread (a snapshot store's sink; with applyOnLoop, the
        // leadership listener): an Error from a listener's leaderStopped used to cut the stop short,
        // the applier never stopped and no call still waiting ever failed.
        releaseStep("abandoning the snapshot being received", writer::abandonReceiving);
        // Before the listener hears that leadership ended: it must not find isLeader() still true.
        // The loop, which sets the status, has stopped.
        setStoppedStatus();
        // The loop has stopped, so the tracker is this thread's now; the notice runs before the applier stops.
        releaseStep("telling the leadership listener that leadership ended",
                () -> applier.submitNotice(leadership.stopping()));
        applier.stop(reason);
    }

    /** Fails the calls waiting on the loop, which has stopped: its tasks that never ran, its watches, its reads. */
    private void failLoopWaiters(List<Runnable> neverRan, RaftStoppedException reason) {
        failNeverRun(neverRan, reason);
        for (CompletableFuture<?> held : batcher.dropAll()) {
            held.completeExceptionally(reason);
        }
        watches.failAll(reason);
        List<Applier.PendingQuery<R>> reads = new ArrayList<>(pendingReads.values());
        pendingReads.clear();
        for (Applier.PendingQuery<R> q : reads) {
            q.future().completeExceptionally(reason);
        }
    }

    /** Runs a step of {@link #release} that calls a plug-in: one that throws is said, and the stop goes on. */
    private void releaseStep(String step, Runnable run) {
        try {
            run.run();
        } catch (RuntimeException | Error e) {
            LOG.error("{}: {} failed; stopping the node regardless", config.nodeId(), step, e);
        }
    }

    /** Builds a {@link RaftNode}. */
    public static final class Builder<R> {
        /**
         * The longest tick: one minute (a heartbeat a minute, elections after ten). Longer is no
         * useful setting, and the loop's arithmetic in nanoseconds must not overflow.
         */
        public static final long MAX_TICK_MILLIS = 60_000;

        private final RaftConfig config;
        private final StateMachine<R> stateMachine;
        private Transport transport;
        private LogStorage storage;
        private SnapshotStore snapshots;
        private long tickMillis = 100;
        private RandomGenerator random = new SplittableRandom();
        private boolean runOnTransportLoop = true;
        private boolean persistOnLoop;
        private boolean applyOnLoop;
        private long proposalBatchWindowNanos;
        private LeadershipListener leadershipListener = new LeadershipListener() {
        };

        private Builder(RaftConfig config, StateMachine<R> stateMachine) {
            this.config = Objects.requireNonNull(config, "config");
            this.stateMachine = Objects.requireNonNull(stateMachine, "stateMachine");
        }

        /** The transport to send and receive through (required). */
        public Builder<R> transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        /** The durable log (required); the node reads its state from it at build time. */
        public Builder<R> storage(LogStorage storage) {
            this.storage = storage;
            return this;
        }

        /**
         * Where snapshots are kept (for a durable node, a {@link io.raft4j.snapshot.FileSnapshotStore}
         * in its data directory); default in memory. A durable log needs a durable store: after its
         * first compaction the log no longer starts at index 1, and a node whose snapshots were lost
         * cannot restart (it refuses to, with an error). A node with a log other than the in-memory
         * one and no store set logs a warning when it takes its first snapshot.
         */
        public Builder<R> snapshots(SnapshotStore snapshots) {
            this.snapshots = snapshots;
            return this;
        }

        /**
         * Milliseconds per tick; default 100, so the default 10-tick election timeout is 1–2 s and
         * heartbeats go every 100 ms. Positive and at most {@link #MAX_TICK_MILLIS}.
         */
        public Builder<R> tickMillis(long tickMillis) {
            if (tickMillis <= 0 || tickMillis > MAX_TICK_MILLIS) {
                // The loop counts ticks in nanoseconds: Long.MAX_VALUE ms wrapped, and ticked at random.
                throw new IllegalArgumentException("tickMillis must be within 1.." + MAX_TICK_MILLIS + ", was "
                        + tickMillis);
            }
            this.tickMillis = tickMillis;
            return this;
        }

        /** The random source for election timeouts; default a fresh {@link SplittableRandom}. */
        public Builder<R> random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * Whether the node runs its protocol logic on an event loop the transport lends
         * ({@link Transport#eventLoopFor}), saving a thread hand-off for every message sent and
         * received; default {@code true}. With {@code false}, or a transport that lends none, the
         * node runs a thread of its own.
         */
        public Builder<R> runOnTransportLoop(boolean runOnTransportLoop) {
            this.runOnTransportLoop = runOnTransportLoop;
            return this;
        }

        /**
         * Whether the event loop makes a follower's writes durable itself, between sending a
         * batch's messages and handling the next, instead of handing them to a storage thread;
         * default {@code false}. It saves two thread hand-offs per write, which on a machine with
         * few cores shortens every commit and costs less CPU (measured: same throughput, a third
         * lower p99); appends that arrive during a sync are written after it, in one batch. A
         * leader's writes still go to the storage thread, so that its loop steps the followers'
         * acknowledgements while its own write syncs: a majority of followers commits without it
         * (measured with one append in flight per follower, {@link RaftConfig#maxInflightMessages()}
         * 1: a fifth more commits per second at 64 clients). The loop waits for each follower
         * sync, and so does everything else on it: use it when the node has its transport's event
         * loop to itself (one group per process, as in the key-value example), not when many groups
         * share one transport. Storage that {@linkplain LogStorage#writesWithoutBlocking() never
         * blocks} is always written on the loop.
         */
        public Builder<R> persistOnLoop(boolean persistOnLoop) {
            this.persistOnLoop = persistOnLoop;
            return this;
        }

        /**
         * Whether the event loop applies committed entries and serves reads itself instead of
         * handing them to an apply thread; default {@code false}. Saves a thread hand-off per batch
         * of commits; only for a state machine whose {@link StateMachine#apply}, {@link
         * StateMachine#query} and {@link StateMachine#snapshot} return within microseconds, since
         * the loop waits for them (restoring a received snapshot then also runs on the loop, and
         * the latest local snapshot is restored by {@link #build()} itself, on the thread calling it,
         * which throws if that fails). Proposal and query futures then complete on the loop: what is
         * chained to them must not block either.
         */
        public Builder<R> applyOnLoop(boolean applyOnLoop) {
            this.applyOnLoop = applyOnLoop;
            return this;
        }

        /**
         * How long a leader may hold proposals to step them together; default zero (never held).
         * Callers that wait for each command before sending the next come back together when a
         * commit completes theirs, one by one, microseconds apart: stepped as they come, the first
         * starts the next write and append nearly alone and the rest wait for its sync, so each
         * command waits about two syncs. A leader with a window holds the proposals that come while
         * fewer have come than its last commit completed, until that many have or the window ends,
         * so that they share one append and one sync. A single caller is never held (each commit
         * completes one); the most a proposal waits is the window. Worth trying, at about a tenth of
         * a sync, when many threads each wait for their own commands and the log syncs, and worth
         * measuring: it gains where the leader's writer would otherwise start nearly empty, and
         * costs a little where commands already come in batches (pipelined on a connection);
         * {@code docs/performance.md} has figures. Of no use where the log is in memory.
         * Timed by the loop's timer: on the Netty transport's epoll loop to microseconds.
         *
         * @throws IllegalArgumentException if {@code window} is negative or longer than a second
         */
        public Builder<R> proposalBatchWindow(Duration window) {
            if (window.isNegative() || window.compareTo(Duration.ofSeconds(1)) > 0) {
                throw new IllegalArgumentException("proposalBatchWindow must be within 0..1 s, was " + window);
            }
            this.proposalBatchWindowNanos = window.toNanos();
            return this;
        }

        /**
         * Who to tell when this node starts or stops leading, and when the leader it knows of
         * changes; default nobody. See {@link LeadershipListener} for the thread and the order.
         */
        public Builder<R> leadershipListener(LeadershipListener listener) {
            this.leadershipListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Builds the node; {@link RaftNode#start()} starts it. A storage that records no owner yet
         * is recorded as this node's (see {@link LogStorage#owner()}).
         *
         * @throws StorageException if the storage belongs to another node or group, or cannot be read
         * @throws IllegalArgumentException if the transport cannot carry the configured entries or
         *         chunks, or refuses an address of {@code initialMembers} (see
         *         {@link Transport#problemWithAddress})
         * @throws IllegalStateException if the state machine was given to a node before: each node,
         *         also one restarted in the same process, needs a new instance (its state is rebuilt
         *         from the snapshot and the log; an old instance's would see commands twice); or if
         *         the log is compacted beyond the latest snapshot in the snapshot store (its snapshots
         *         were lost, or it is not the store the node wrote them to)
         */
        public RaftNode<R> build() {
            // Claimed before the node is made, not after: with applyOnLoop making it restores the
            // latest snapshot into the state machine, and a claim checked last let a refused build
            // replace the state of the node that owned it, under its feet, while it ran.
            StateMachineClaims.claim(stateMachine, config.groupId() + "/" + config.nodeId());
            try {
                return new RaftNode<>(this);
            } catch (RuntimeException | Error e) {
                // A build that failed leaves the state machine free for the next try.
                StateMachineClaims.release(stateMachine);
                throw e;
            }
        }
    }
}

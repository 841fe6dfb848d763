package io.raft4j;

import io.raft4j.core.MembershipChange;
import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.Role;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * Carries out a node's membership calls ({@link RaftNode#changeMembership}, {@link RaftNode#addLearner},
 * {@link RaftNode#addVoter}, {@link RaftNode#promote}, {@link RaftNode#removeMember}) from the caller's
 * arguments to the applied configuration. A change is rarely proposed the moment it is asked for: it
 * waits on the loop for the leader's first commit of its term, for the new voters to answer, for a
 * learner to catch up before its promotion. That waiting is kept here, apart from the node's own
 * loop and write path. Arguments are checked on the caller's thread (a task failing on the loop stops
 * the node); everything else runs on the node's event loop.
 */
final class MembershipCalls {
    /** As before this class was split out of the node: log settings for {@link RaftNode} still cover it. */
    private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

    /** Completes a proposed change's future once the configuration is applied here (see {@link Applier#expectConfig}). */
    @FunctionalInterface
    interface AppliedConfigs {
        void expect(long fromIndex, ClusterConfig target, CompletableFuture<ClusterConfig> future);
    }

    private final RaftConfig config;
    private final RaftCore core;
    private final LoopWatch watches;
    /** The loop's tick count (read on the loop only). */
    private final LongSupplier loopTicks;
    private final Transport transport;
    private final AppliedConfigs appliedConfigs;
    /** Queues a call as made, counted against {@link RaftNode#MAX_QUEUED_ADMIN_CALLS}. */
    private final LoopTasks calls;
    /** Queues what a call goes on with later (an addVoter's wait and promotion): not counted again. */
    private final LoopTasks loop;
    /** Changes refused because of the group's state ({@link NodeStats#membershipChangesRefused()}). */
    private final AtomicLong refused;

    MembershipCalls(RaftConfig config, RaftCore core, LoopWatch watches, LongSupplier loopTicks,
                    Transport transport, AppliedConfigs appliedConfigs, LoopTasks calls, LoopTasks loop,
                    AtomicLong refused) {
        this.config = config;
        this.core = core;
        this.watches = watches;
        this.loopTicks = loopTicks;
        this.transport = transport;
        this.appliedConfigs = appliedConfigs;
        this.calls = calls;
        this.loop = loop;
        this.refused = refused;
    }

    /** See {@link RaftNode#changeMembership}. */
    CompletableFuture<ClusterConfig> change(ClusterConfig target) {
        // Checked here, on the caller's thread: a task failing on the loop stops the node.
        Objects.requireNonNull(target, "target");
        return editMembership(current -> target, calls);
    }

    /** See {@link RaftNode#addLearner}. */
    CompletableFuture<ClusterConfig> addLearner(String id, String address) {
        requireIdAndAddress(id, address);
        return editMembership(c -> MembershipEdits.addLearner(c, id, address), calls);
    }

    /**
     * See {@link RaftNode#addVoter}: a learner first, promoted once it has caught up. A caller that
     * gives up on the call (cancels it, or bounds it with {@code orTimeout}) gives up the wait for the
     * learner too: it is not promoted on behalf of no one, and the wait is not kept for ever.
     */
    CompletableFuture<ClusterConfig> addVoter(String id, String address) {
        requireIdAndAddress(id, address);
        AtomicReference<CompletableFuture<Void>> waiting = new AtomicReference<>();
        AtomicReference<CompletableFuture<ClusterConfig>> caller = new AtomicReference<>();
        CompletableFuture<ClusterConfig> call = CallFutures.unwrapped(
                editMembership(c -> MembershipEdits.addLearnerUnlessAdded(c, id, address), calls)
                        .thenCompose(c -> {
                            if (c.voters().contains(id)) {
                                return CompletableFuture.completedFuture(c);
                            }
                            CompletableFuture<Void> caughtUp = awaitCaughtUp(id);
                            waiting.set(caughtUp);
                            if (isDone(caller.get())) {
                                caughtUp.cancel(false); // given up on before the wait began
                            }
                            // Not refused as overloaded half way: the caller's call was taken up already.
                            return caughtUp.thenCompose(v -> editMembership(c2 -> MembershipEdits.promote(c2, id), loop));
                        }));
        caller.set(call);
        // The wait is set before the call is looked at, and the call before this looks at the wait:
        // whichever comes second cancels it.
        call.whenComplete((config, error) -> cancel(waiting.get()));
        return call;
    }

    private static boolean isDone(CompletableFuture<?> future) {
        return future != null && future.isDone();
    }

    private static void cancel(CompletableFuture<?> future) {
        if (future != null) {
            future.cancel(false);
        }
    }

    /** See {@link RaftNode#promote}. */
    CompletableFuture<ClusterConfig> promote(String id) {
        Objects.requireNonNull(id, "id");
        CompletableFuture<ClusterConfig> refused = refusedIfNoMembersId(id);
        return refused != null ? refused : editMembership(c -> MembershipEdits.promote(c, id), calls);
    }

    /** See {@link RaftNode#removeMember}. */
    CompletableFuture<ClusterConfig> remove(String id) {
        Objects.requireNonNull(id, "id");
        CompletableFuture<ClusterConfig> refused = refusedIfNoMembersId(id);
        return refused != null ? refused : editMembership(c -> MembershipEdits.remove(c, id), calls);
    }

    /**
     * A failed future if {@code id} breaks the rules of ids, so is no member's; else {@code null}.
     * Refused as addVoter refuses it: the "not a member" answer it got instead repeated the id,
     * 70,000 characters of a client's input in the error and the log.
     */
    static <T> CompletableFuture<T> refusedIfNoMembersId(String id) {
        return ClusterConfig.problemWithId(id)
                .<CompletableFuture<T>>map(problem -> CompletableFuture.failedFuture(
                        new IllegalArgumentException("member id: " + problem)))
                .orElse(null);
    }

    private static void requireIdAndAddress(String id, String address) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address (\"\" for none)");
    }

    private CompletableFuture<ClusterConfig> editMembership(UnaryOperator<ClusterConfig> edit, LoopTasks via) {
        CompletableFuture<ClusterConfig> future = new CompletableFuture<>();
        via.execute(() -> changeOnLoop(edit, future, -1), future);
        return future;
    }

    /**
     * @param edit           the target, from the configuration now: applied again on every attempt,
     *                       so an edit that waited (for the leader's first commit, for answers) is
     *                       made on the configuration it is proposed on. Computed once, at the call,
     *                       it dropped a change committed meanwhile: a removal that waited for its
     *                       new voters to answer undid a learner added in the while.
     * @param strictDeadline with strict membership checks, the tick until which the change waits for
     *                       its new voters to answer before it is refused (-1: not waited yet). A
     *                       voter alive but not heard from yet (a leader elected a moment ago, an
     *                       answer in flight) gets an election timeout to answer.
     */
    private void changeOnLoop(UnaryOperator<ClusterConfig> edit, CompletableFuture<ClusterConfig> future,
                              long strictDeadline) {
        ClusterConfig target;
        try {
            target = edit.apply(core.clusterConfig());
        } catch (RuntimeException e) {
            // A pure function of the configuration and the caller's arguments (a null id, an id
            // already there...): it fails this call only, never the node.
            future.completeExceptionally(e);
            return;
        }
        if (!core.role().equals(Role.LEADER)) {
            refused.incrementAndGet();
            future.completeExceptionally(new NotLeaderException(config.nodeId(), core.leaderId()));
            return;
        }
        Optional<String> badAddress =
                AddressCheck.problemWithNewAddresses(transport, core.clusterConfig(), target);
        if (badAddress.isPresent()) {
            future.completeExceptionally(new IllegalArgumentException(badAddress.get()));
            return;
        }
        if (!core.hasCommittedInTerm()) {
            // Just elected: the change waits for the leader's no-op to commit (a round trip), rather
            // than fail a caller who could not have known better.
            watches.add(() -> core.role() != Role.LEADER || core.hasCommittedInTerm(),
                    () -> changeOnLoop(edit, future, -1), future);
            return;
        }
        if (!core.quorumAnswersIn(target) && !core.quorumImpossibleIn(target)
                && (strictDeadline < 0 || loopTicks.getAsLong() < strictDeadline)) {
            long deadline = strictDeadline < 0 ? loopTicks.getAsLong() + config.electionTimeoutTicks() : strictDeadline;
            watches.add(() -> core.role() != Role.LEADER || core.quorumAnswersIn(target)
                            || loopTicks.getAsLong() >= deadline,
                    () -> changeOnLoop(edit, future, deadline), future);
            return;
        }
        MembershipChange change = core.changeMembership(target);
        if (!change.accepted()) {
            refused.incrementAndGet();
            future.completeExceptionally(new MembershipChangeException(change.rejection()));
            return;
        }
        appliedConfigs.expect(change.index(), target, future);
    }

    private CompletableFuture<Void> awaitCaughtUp(String id) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        loop.execute(() -> {
            // The learner must hold the log as it was once it was added (so it answered at all, and
            // has the configuration naming it), not only be "close" to the end: in a short log a
            // node that never answered (match 0) would otherwise count as within reach.
            long addedBy = core.lastIndex();
            long since = loopTicks.getAsLong();
            boolean[] warned = {false};
            watches.add(
                () -> {
                    if (!warned[0] && core.matchIndexOf(id) <= 0
                            && loopTicks.getAsLong() - since >= 10L * config.electionTimeoutTicks()) {
                        // The usual causes are outside this node, and the caller only sees a timeout.
                        warned[0] = true;
                        String address = core.clusterConfig().addresses().getOrDefault(id, "");
                        LOG.warn("{}: learner {} has not answered for 10 election timeouts since it was added: is"
                                + " it running, at {}, in this cluster (same cluster id), with this leader among its"
                                + " peers? It is promoted to voter once it catches up", config.nodeId(), id,
                                address.isEmpty() ? "(no address given)" : address);
                    }
                    return core.role() != Role.LEADER || !core.clusterConfig().isMember(id)
                            || (core.matchIndexOf(id) >= addedBy
                                && core.matchIndexOf(id) >= core.lastIndex() - config.promoteWithinEntries());
                },
                () -> {
                    if (core.role() != Role.LEADER) {
                        future.completeExceptionally(new IndeterminateException("lost leadership while " + id + " caught up"));
                    } else if (!core.clusterConfig().isMember(id)) {
                        future.completeExceptionally(new MembershipChangeException(id
                                + " was removed while it caught up as a learner: not promoted"));
                    } else {
                        future.complete(null);
                    }
                }, future);
        }, future);
        return future;
    }
}

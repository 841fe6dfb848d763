package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.Role;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Carries out a node's leadership transfers ({@link RaftNode#transferLeadership(String)} and
 * {@link RaftNode#transferLeadership()}). The core only starts a transfer; whether it worked shows
 * later, on the loop, as a new leader, a new term or a transfer that timed out, and this class waits
 * for that to answer the caller. Arguments are checked on the caller's thread; the transfer and the
 * waiting run on the node's event loop.
 */
final class LeadershipHandover {
    /**
     * Election timeouts from its start after which a transfer whose leader lost its leadership and
     * knows of no leader since fails as indeterminate. The leader gives the transfer up after one; a
     * leader elected instead is known here within about two more (an election timeout is randomised
     * up to twice the setting), unless this node is cut off from it. Without a bound, a leader deposed
     * by CheckQuorum while cut off (its term then stays put, with PreVote) kept its caller waiting
     * for as long as the partition lasted.
     */
    static final int OUTCOME_WAIT_ELECTION_TIMEOUTS = 4;

    private final RaftConfig config;
    private final RaftCore core;
    private final LoopWatch watches;
    /** The loop's tick count (read on the loop only). */
    private final LongSupplier loopTicks;
    private final LoopTasks loop;
    /** Transfers refused because of the group's state ({@link NodeStats#leadershipTransfersRefused()}). */
    private final AtomicLong refused;

    LeadershipHandover(RaftConfig config, RaftCore core, LoopWatch watches, LongSupplier loopTicks, LoopTasks loop,
                       AtomicLong refused) {
        this.config = config;
        this.core = core;
        this.watches = watches;
        this.loopTicks = loopTicks;
        this.loop = loop;
        this.refused = refused;
    }

    /** See {@link RaftNode#transferLeadership(String)}. */
    CompletableFuture<Void> to(String target) {
        Objects.requireNonNull(target, "target");
        CompletableFuture<Void> refused = MembershipCalls.refusedIfNoMembersId(target);
        return refused != null ? refused : CallFutures.unwrapped(handOver(() -> target).thenApply(t -> (Void) null));
    }

    /** See {@link RaftNode#transferLeadership()}. */
    CompletableFuture<String> toMostCaughtUp() {
        return handOver(core::mostCaughtUpVoter);
    }

    /** On the loop: transfers to the voter {@code pick} names, and completes once it leads. */
    private CompletableFuture<String> handOver(Supplier<String> pick) {
        CompletableFuture<String> future = new CompletableFuture<>();
        loop.execute(() -> {
            String target = core.role() == Role.LEADER ? pick.get() : null;
            String refusal = target == null ? "no other voter has answered lately" : core.transferLeadership(target);
            if (refusal != null) {
                refused.incrementAndGet();
                future.completeExceptionally(core.role() == Role.LEADER ? new MembershipChangeException(refusal)
                        : new NotLeaderException(config.nodeId(), core.leaderId()));
                return;
            }
            long startTerm = core.term();
            long deadline = loopTicks.getAsLong() + OUTCOME_WAIT_ELECTION_TIMEOUTS * config.electionTimeoutTicks();
            watches.add(() -> target.equals(core.leaderId())
                            || (core.role() == Role.LEADER && core.term() == startTerm && core.transferTarget() == null)
                            || (core.term() > startTerm && core.leaderId() != null)
                            || loopTicks.getAsLong() >= deadline,
                    () -> {
                        if (target.equals(core.leaderId())) {
                            future.complete(target);
                        } else if (core.role() == Role.LEADER && core.term() == startTerm) {
                            future.completeExceptionally(new MembershipChangeException(
                                    "leadership transfer to " + target + " timed out; " + config.nodeId() + " still leads"));
                        } else if (core.leaderId() != null) {
                            future.completeExceptionally(new MembershipChangeException(
                                    "leadership went to " + core.leaderId() + " instead of " + target));
                        } else {
                            future.completeExceptionally(new IndeterminateException(config.nodeId()
                                    + " lost its leadership during the transfer to " + target + " and has known no leader"
                                    + " since: whether " + target + " leads is not known here"));
                        }
                    }, future);
        }, future);
        return future;
    }
}

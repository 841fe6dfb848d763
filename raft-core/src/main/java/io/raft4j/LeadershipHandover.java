package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.core.RaftCore;
import io.raft4j.core.Role;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Carries out a node's leadership transfers ({@link RaftNode#transferLeadership(String)} and
 * {@link RaftNode#transferLeadership()}). The core only starts a transfer; whether it worked shows
 * later, on the loop, as a new leader, a new term or a transfer that timed out, and this class waits
 * for that to answer the caller. Arguments are checked on the caller's thread; the transfer and the
 * waiting run on the node's event loop.
 */
final class LeadershipHandover {
    private final RaftConfig config;
    private final RaftCore core;
    private final LoopWatch watches;
    private final LoopTasks loop;

    LeadershipHandover(RaftConfig config, RaftCore core, LoopWatch watches, LoopTasks loop) {
        this.config = config;
        this.core = core;
        this.watches = watches;
        this.loop = loop;
    }

    /** See {@link RaftNode#transferLeadership(String)}. */
    CompletableFuture<Void> to(String target) {
        Objects.requireNonNull(target, "target");
        CompletableFuture<Void> refused = MembershipCalls.refusedIfNoMembersId(target);
        return refused != null ? refused : handOver(() -> target).thenApply(t -> null);
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
                future.completeExceptionally(core.role() == Role.LEADER ? new MembershipChangeException(refusal)
                        : new NotLeaderException(config.nodeId(), core.leaderId()));
                return;
            }
            long startTerm = core.term();
            watches.add(() -> target.equals(core.leaderId()) || core.term() > startTerm
                            || (core.role() == Role.LEADER && core.transferTarget() == null),
                    () -> {
                        if (target.equals(core.leaderId())) {
                            future.complete(target);
                        } else if (core.role() == Role.LEADER) {
                            future.completeExceptionally(new MembershipChangeException(
                                    "leadership transfer to " + target + " timed out; " + config.nodeId() + " still leads"));
                        } else {
                            watches.add(() -> core.leaderId() != null, () -> {
                                if (target.equals(core.leaderId())) {
                                    future.complete(target);
                                } else {
                                    future.completeExceptionally(new MembershipChangeException(
                                            "leadership went to " + core.leaderId() + " instead of " + target));
                                }
                            }, future);
                        }
                    }, future);
        }, future);
        return future;
    }
}

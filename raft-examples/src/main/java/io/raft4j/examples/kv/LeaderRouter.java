package io.raft4j.examples.kv;

import io.raft4j.IndeterminateException;
import io.raft4j.MembershipChangeException;
import io.raft4j.NodeStatus;
import io.raft4j.NotLeaderException;
import io.raft4j.OverloadedException;
import io.raft4j.RaftNode;
import io.raft4j.RaftStoppedException;
import io.raft4j.core.Role;
import io.raft4j.examples.kv.resp.Reply;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Runs the commands that need the leader: on this node if it leads, else forwarded to the leader's
 * client port (or answered {@code -NOTLEADER <address>} in redirect mode), tried again with back-off
 * while no leader is known, until each has an outcome or its deadline passes. The replies this
 * gives (-TRYAGAIN, -TIMEOUT, -UNCERTAIN) are described on {@link CommandProcessor}.
 */
final class LeaderRouter {
    private static final long FIRST_BACKOFF_MS = 5;
    private static final long MAX_BACKOFF_MS = 100;
    /** How a leader at its bound of uncommitted writes answers one (nothing was done): passed on by followers. */
    static final String OVERLOADED = "TRYAGAIN overloaded: ";
    private static final String WRITE_UNKNOWN = "the write may or may not have been applied";

    private final String nodeId;
    private final String clientAddress;
    private final RaftNode<Reply> raft;
    private final KvStateMachine sm;
    private final LeaderForwarder forwarder;
    /** Where this node reaches some nodes' client ports, instead of their registered addresses. */
    private final Map<String, String> forwardTo;

    LeaderRouter(String nodeId, String clientAddress, RaftNode<Reply> raft, KvStateMachine sm, LeaderForwarder forwarder,
                 Map<String, String> forwardTo) {
        this.nodeId = nodeId;
        this.clientAddress = clientAddress;
        this.raft = raft;
        this.sm = sm;
        this.forwarder = forwarder;
        this.forwardTo = Map.copyOf(forwardTo);
    }

    /** A command that runs {@code onLeader} on the leader, with {@code timeoutMs} to reach an outcome. */
    Command routed(Command.Kind kind, List<byte[]> args, long timeoutMs,
                   Function<RaftNode<Reply>, CompletableFuture<Reply>> onLeader) {
        return new Routed(kind, args, timeoutMs, onLeader, WRITE_UNKNOWN);
    }

    /**
     * An admin write (a membership change, a leadership transfer): as {@link #routed}, but an unknown
     * outcome is told with {@code unknownOutcome}, which says where to look, rather than as a write.
     */
    Command routedAdmin(List<byte[]> args, long timeoutMs, Function<RaftNode<Reply>, CompletableFuture<Reply>> onLeader,
                        String unknownOutcome) {
        return new Routed(Command.Kind.WRITE, args, timeoutMs, onLeader, unknownOutcome);
    }

    /** A command that must run on the leader: locally if this node leads, else forwarded. */
    private final class Routed implements Command {
        private final Kind kind;
        private final List<byte[]> args;
        private final long timeoutMs;
        private final Function<RaftNode<Reply>, CompletableFuture<Reply>> onLeader;
        /** What may or may not have happened when a write's outcome is unknown, ending its -TIMEOUT or -UNCERTAIN. */
        private final String unknownOutcome;

        Routed(Kind kind, List<byte[]> args, long timeoutMs, Function<RaftNode<Reply>, CompletableFuture<Reply>> onLeader,
               String unknownOutcome) {
            this.kind = kind;
            this.args = args;
            this.timeoutMs = timeoutMs;
            this.onLeader = onLeader;
            this.unknownOutcome = unknownOutcome;
        }

        @Override
        public Kind kind() {
            return kind;
        }

        @Override
        public CompletableFuture<Reply> run(Session session) {
            Attempt attempt = new Attempt(session, this);
            attempt.start();
            return attempt.result;
        }
    }

    /** One routed command on its way: retried until it has an outcome or its deadline passes. */
    private final class Attempt {
        final Session session;
        final Routed cmd;
        final CompletableFuture<Reply> result = new CompletableFuture<>();
        final long deadlineNanos;
        long backoffMs = FIRST_BACKOFF_MS;
        /**
         * Whether the attempt in progress may have reached a leader (its outcome is then unknown on
         * timeout). Cleared when a retry is scheduled: only an attempt that did nothing is retried.
         */
        boolean handedOver;
        String lastReason = "no leader is known";

        Attempt(Session session, Routed cmd) {
            this.session = session;
            this.cmd = cmd;
            this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(cmd.timeoutMs);
        }

        void start() {
            attempt();
            if (!result.isDone()) {
                ScheduledFuture<?> timer =
                        session.executor.schedule(this::onDeadline, cmd.timeoutMs, TimeUnit.MILLISECONDS);
                result.whenComplete((r, e) -> timer.cancel(false));
            }
        }

        private void onDeadline() {
            if (result.isDone()) {
                return;
            }
            if (cmd.kind == Command.Kind.WRITE && handedOver) {
                result.complete(Reply.error("TIMEOUT no outcome within " + cmd.timeoutMs
                        + " ms: " + cmd.unknownOutcome));
            } else {
                result.complete(tryAgain());
            }
        }

        private Reply tryAgain() {
            return Reply.error("TRYAGAIN " + lastReason + " (waited " + cmd.timeoutMs + " ms); nothing was done, retry");
        }

        void attempt() {
            if (result.isDone()) {
                return;
            }
            NodeStatus status = raft.status();
            if (status.role() == Role.LEADER || servesReadHere(status)) {
                runHere();
                return;
            }
            String leader = status.leaderId();
            boolean forwarded = session.followerMode == Session.FollowerMode.FORWARDED;
            if (leader == null || leader.equals(nodeId)) {
                lastReason = noLeaderReason(status.role());
                if (forwarded) {
                    result.complete(tryAgain());
                    return;
                }
                retryLater();
                return;
            }
            String address = sm.clientAddressOf(leader);
            if (address == null || address.equals(clientAddress)) {
                lastReason = "the client address of leader " + leader + " is not known yet";
                if (forwarded) {
                    result.complete(tryAgain());
                    return;
                }
                retryLater();
                return;
            }
            if (session.followerMode != Session.FollowerMode.FORWARD) {
                result.complete(Reply.error("NOTLEADER " + address));
                return;
            }
            handedOver |= cmd.kind == Command.Kind.WRITE; // counted as sent until proven otherwise
            // Clients are told the registered address; this node may reach it another way.
            String route = forwardTo.getOrDefault(leader, address);
            forwarder.send(route, session.id, cmd.args, cmd.timeoutMs).whenComplete((reply, error) ->
                    session.executor.execute(() -> onForwarded(leader, reply, error)));
        }

        /**
         * Why no leader is known, as far as this node can tell. A pre-candidate has not won a pre-vote:
         * it may have just asked, or be cut off from a majority (partitioned, or the majority down),
         * which it cannot tell apart, so the reason says both. A candidate won one (a KV node always
         * runs pre-votes): a majority answered it just now, and the election can be won.
         */
        private static String noLeaderReason(Role role) {
            return switch (role) {
                case CANDIDATE -> "an election is in progress";
                case PRE_CANDIDATE -> "no leader is known and this node has not won a pre-vote of a majority of its"
                        + " group: an election may be starting, or this node is cut off from the majority (or the"
                        + " majority is down); if this lasts, retry on another node";
                default -> "no leader is known to this node: one may be being elected, or this node may be cut off"
                        + " from it; if this lasts, retry on another node";
            };
        }

        /**
         * Whether this follower answers the read itself: it asks the leader for the read index (a
         * small message) and reads its own state once it applied that far, instead of forwarding the
         * command and its answer. Not in redirect mode, where the client asked to be sent to the leader.
         */
        private boolean servesReadHere(NodeStatus status) {
            return cmd.kind == Command.Kind.READ && session.followerMode == Session.FollowerMode.FORWARD
                    && status.role() == Role.FOLLOWER && status.leaderId() != null;
        }

        private void onForwarded(String leader, Reply reply, Throwable error) {
            if (result.isDone()) {
                return;
            }
            if (error == null) {
                if (reply instanceof Reply.Error refusal && refusal.text().startsWith(OVERLOADED)) {
                    result.complete(reply);
                } else if (reply.isError("NOTLEADER") || reply.isError("TRYAGAIN")) {
                    // The receiver did nothing with it: safe to retry.
                    lastReason = "leader " + leader + " answered " + ((Reply.Error) reply).text();
                    retryLater();
                } else {
                    result.complete(reply);
                }
                return;
            }
            Throwable cause = Failures.unwrap(error);
            boolean sent = !(cause instanceof LeaderForwarder.ForwardException fe) || fe.sent;
            if (cmd.kind == Command.Kind.WRITE && sent) {
                result.complete(Reply.error("UNCERTAIN the connection to leader " + leader
                        + " was lost before its answer: " + cmd.unknownOutcome));
            } else {
                lastReason = "cannot reach leader " + leader + ": " + cause.getMessage();
                retryLater();
            }
        }

        private void runHere() {
            CompletableFuture<Reply> f;
            try {
                f = cmd.onLeader.apply(raft);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            handedOver |= cmd.kind == Command.Kind.WRITE;
            f.whenComplete((reply, error) -> {
                if (error == null) {
                    result.complete(reply);
                } else {
                    session.executor.execute(() -> onLocalFailure(Failures.unwrap(error)));
                }
            });
        }

        private void onLocalFailure(Throwable cause) {
            if (result.isDone()) {
                return;
            }
            if (cause instanceof NotLeaderException) {
                lastReason = "leadership moved";
                if (session.followerMode == Session.FollowerMode.FORWARDED) {
                    result.complete(tryAgain());
                } else {
                    retryLater();
                }
            } else if (cause instanceof IndeterminateException) {
                if (cmd.kind == Command.Kind.WRITE) {
                    result.complete(Reply.error("UNCERTAIN " + Failures.oneLine(cause.getMessage())
                            + ": " + cmd.unknownOutcome));
                } else {
                    lastReason = "leadership moved";
                    retryLater();
                }
            } else if (cause instanceof OverloadedException) {
                // Refused before anything was appended; answered at once, and passed on as it is by a
                // follower that forwarded it, so that the client backs off (retrying here would only
                // add load to a leader that cannot keep up).
                result.complete(Reply.error(OVERLOADED + Failures.oneLine(cause.getMessage())));
            } else if (cause instanceof RaftStoppedException) {
                result.complete(Reply.error(cmd.kind == Command.Kind.WRITE && handedOver
                        ? "UNCERTAIN node " + nodeId + " stopped: " + cmd.unknownOutcome
                        : "TRYAGAIN node " + nodeId + " is stopping; nothing was done"));
            } else if (cause instanceof MembershipChangeException) {
                // Refused as asked (a change not allowed now): nothing was done.
                result.complete(Reply.error("ERR " + Failures.membershipRefusal(cause.getMessage())));
            } else if (cause instanceof IllegalArgumentException) {
                // Refused as asked (a bad address, a command too large): nothing was done.
                result.complete(Reply.error("ERR " + Failures.oneLine(cause.getMessage())));
            } else {
                result.complete(Reply.error("ERR " + cause.getClass().getSimpleName() + ": " + Failures.oneLine(cause.getMessage())));
            }
        }

        private void retryLater() {
            handedOver = false; // every caller saw the attempt do nothing (or it was a read)
            long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (remainingMs <= 0) {
                onDeadline();
                return;
            }
            long delay = Math.min(backoffMs, remainingMs);
            backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
            session.executor.schedule(this::attempt, delay, TimeUnit.MILLISECONDS);
        }
    }
}

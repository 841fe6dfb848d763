package io.raft4j;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The apply thread's half of leadership notices: tells the {@link LeadershipListener}, in order with
 * the applies. A leadership starts only when the leader's no-op of its term is applied, which is
 * what makes the state machine current for the new leader; a leadership that ends first never
 * starts, so started and stopped always pair up.
 */
final class LeadershipNotifier {
    private static final Logger LOG = LoggerFactory.getLogger(LeadershipNotifier.class);

    private final String nodeId;
    private final LeadershipListener listener;
    /** The term whose no-op, once applied, starts this node's leadership; 0 if none. */
    private long awaitedTerm;
    /** The term whose leadership was started and not yet stopped; 0 if none. */
    private long startedTerm;

    LeadershipNotifier(String nodeId, LeadershipListener listener) {
        this.nodeId = nodeId;
        this.listener = listener;
    }

    void handle(LeadershipEvent event) {
        if (event instanceof LeadershipEvent.LeaderKnown known) {
            call("leaderChanged", () -> listener.leaderChanged(known.leaderId(), known.term()));
        } else if (event instanceof LeadershipEvent.LeadingBegan began) {
            awaitedTerm = began.term();
        } else if (event instanceof LeadershipEvent.LeadingEnded ended) {
            awaitedTerm = 0;
            if (startedTerm == ended.term()) {
                startedTerm = 0;
                call("leaderStopped", () -> listener.leaderStopped(ended.term()));
            }
        }
    }

    /** A no-op entry of {@code term} was just applied. */
    void noopApplied(long term) {
        if (term == awaitedTerm) {
            awaitedTerm = 0;
            startedTerm = term;
            call("leaderStarted", () -> listener.leaderStarted(term));
        }
    }

    private void call(String method, Runnable notice) {
        try {
            notice.run();
        } catch (RuntimeException e) {
            // An observer's bug: the replicated state is untouched, so the node goes on.
            LOG.error("{}: the leadership listener's {} failed", nodeId, method, e);
        }
    }
}

package io.raft4j;

/**
 * Told when the leadership of the node's group changes: to start work only the leader should do
 * (a scheduler, a lease on an outside resource, serving reads from the local state) and to stop it,
 * or to route requests to the leader without polling {@link RaftNode#status()}. Every method has an
 * empty default: implement the ones you need and register with
 * {@link RaftNode.Builder#leadershipListener}.
 *
 * <h2>Threading and order</h2>
 * Called on the thread that applies committed entries (the apply thread, or the event loop with
 * {@link RaftNode.Builder#applyOnLoop}; the last {@code leaderStopped} of a node stopping with
 * {@code applyOnLoop}, or whose apply thread ended on a failure, comes on the thread stopping it),
 * one call at a time and in order with {@link io.raft4j.spi.StateMachine#apply}: a call comes after
 * every entry the node had handed to its state machine when it noticed the change, and before any
 * handed later. That is usually every entry it had committed by then, but not always: entries
 * committed while the apply backlog was full (a state machine slower than the commits), or in the
 * same step as a step-down, may still be applied after the call. ({@link #leaderStarted} always comes
 * after the term's first entry was applied.) A call must return quickly (applies wait for it): hand long work to an
 * executor of your own. An exception thrown from a call is logged and otherwise ignored; the node
 * goes on.
 *
 * <h2>Pairs</h2>
 * {@link #leaderStarted} and {@link #leaderStopped} come in pairs for the same term, never nested:
 * every started term is stopped once, when the node steps down (a higher term, a lost quorum with
 * CheckQuorum, a leadership transfer, its removal from the group) or when it stops. A node that was
 * elected but stepped down before its first entry of the term was applied gets neither. Leadership
 * is a belief, not a lock: another node may already lead a later term when
 * {@code leaderStarted} is called or before {@code leaderStopped} is; writes that must not overlap
 * go through the log, and reads that must be current use {@link RaftNode#query}.
 */
public interface LeadershipListener {

    /**
     * This node leads {@code term}, and its state machine has applied everything committed before
     * the term began: the leader's first entry of the term (a no-op) is committed and was just
     * applied. From here on proposals through this node commit until {@link #leaderStopped}.
     */
    default void leaderStarted(long term) {
    }

    /** This node no longer leads {@code term}, for which {@link #leaderStarted} was called. */
    default void leaderStopped(long term) {
    }

    /**
     * The leader this node knows of changed: {@code leaderId} leads {@code term} (this node's own id
     * when it was elected), or is {@code null} when this node no longer knows of a leader (an
     * election is on, or it stepped down as leader; {@code term} is then its current term). Called on
     * every node, the leader too, when it learns of the change; a node that misses a term
     * (partitioned, stopped) hears of the next leader it learns of.
     */
    default void leaderChanged(String leaderId, long term) {
    }
}

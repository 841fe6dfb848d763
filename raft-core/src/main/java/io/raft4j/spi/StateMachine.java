package io.raft4j.spi;

import io.raft4j.message.Bytes;

/**
 * The user's replicated state: every node applies the same committed commands in the same order.
 *
 * <h2>Threading</h2>
 * All methods are called from the node's single apply thread, never concurrently, and never from
 * the Raft event loop, so a slow {@code apply} delays only later applies, not elections or
 * replication.
 *
 * <h2>Determinism</h2>
 * {@link #apply} must be deterministic: the same command applied to the same state gives the same
 * new state and result on every node. It must not read clocks, random sources or local files.
 *
 * @param <R> the result of a command or query, handed to the caller's future
 */
public interface StateMachine<R> {

    /**
     * Applies the committed command at {@code index}. Called exactly once per index, in increasing
     * index order, since the node started (or since the state was last restored). An exception is
     * a bug in the state machine: the node stops applying and fails.
     *
     * @return the result for the proposer's future (only the leader's result is handed out)
     */
    R apply(long index, Bytes command);

    /**
     * Answers a read-only query against the current state. For linearizable reads the runtime
     * calls this only once the state reflects every command committed before the read began.
     *
     * @throws UnsupportedOperationException if this state machine has no queries
     */
    default R query(Bytes query) {
        throw new UnsupportedOperationException("this state machine does not answer queries");
    }
}

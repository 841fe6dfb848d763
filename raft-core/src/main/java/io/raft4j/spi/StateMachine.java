package io.raft4j.spi;

import io.raft4j.message.Bytes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The user's replicated state: every node applies the same committed commands in the same order.
 *
 * <h2>Threading</h2>
 * All methods are called from the node's single apply thread, never concurrently, and never from
 * the Raft event loop, so a slow {@code apply} delays only later applies, not elections or
 * replication. (A node built with {@code RaftNode.Builder#applyOnLoop} calls them on its event loop
 * instead, still one at a time: only for a state machine whose calls return within microseconds;
 * it restores its latest local snapshot already while it is built, on the thread building it.)
 * A method here may call the node (propose, query, ...) but must not wait for the result: the
 * apply thread would wait for itself, and the node stalls until it is closed.
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
     * a bug in the state machine: the node stops applying and fails. A command that is invalid for
     * the state (a key that does not exist, a bad argument) is not such a bug: answer it with a
     * result that says so, the same on every node, so every replica stays identical.
     *
     * @return the result for the proposer's future (only the leader's result is handed out)
     */
    R apply(long index, Bytes command);

    /**
     * Answers a read-only query against the current state. For linearizable reads the runtime
     * calls this only once the state reflects every command committed before the read began. An
     * exception fails that query's future only: queries change nothing, so the node goes on.
     *
     * @throws UnsupportedOperationException if this state machine has no queries
     */
    default R query(Bytes query) {
        throw new UnsupportedOperationException("this state machine does not answer queries");
    }

    /**
     * Fixes a point-in-time view of the state as of the last applied index, for a snapshot. Called on
     * the apply thread, so it must return quickly: capture an immutable view (a persistent or
     * copy-on-write structure, a RocksDB checkpoint or snapshot handle, or, for a small state, a
     * serialized copy). The returned {@link Snapshot} is then written on a background thread while
     * applies continue.
     *
     * @return the view, or {@code null} if this state machine does not support snapshots (the log is
     *         then never compacted)
     */
    default Snapshot snapshot() {
        return null;
    }

    /**
     * Replaces the whole state with the one in {@code in}, written earlier by
     * {@link Snapshot#writeTo}. Called on the apply thread, at start-up from the latest local snapshot
     * and when the leader sends one. Afterwards the next {@link #apply} is for the index after the
     * snapshot's.
     *
     * @throws IOException if the snapshot cannot be read; the node then stops
     */
    default void restore(InputStream in) throws IOException {
        throw new UnsupportedOperationException("this state machine does not support snapshots");
    }

    /** A point-in-time view of the state, written out off the apply thread. */
    interface Snapshot {
        /** Writes the view to {@code out}; called once, on a background thread. Need not fit in memory. */
        void writeTo(OutputStream out) throws IOException;

        /** Releases what the view holds (e.g. a RocksDB snapshot); called after writing, or on failure. */
        default void release() {
        }
    }
}

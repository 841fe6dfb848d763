package io.raft4j.spi;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;

import java.util.List;
import java.util.Optional;

/**
 * The durable Raft log and hard state of one node of one group.
 *
 * <h2>Layout</h2>
 * The log holds the entries {@code firstIndex()..lastIndex()}. Entries before {@code firstIndex()}
 * were compacted into a snapshot; the term of the entry at {@code firstIndex() - 1} (the
 * compaction point) is still known through {@link #term(long)}. A new log is empty with
 * {@code firstIndex() == 1}, {@code lastIndex() == 0} and {@code term(0) == 0}.
 *
 * <h2>Threading</h2>
 * The runtime calls the write methods one call at a time, never concurrently: from its writer
 * thread, or from its event loop (always if {@link #writesWithoutBlocking()}, and for a follower's
 * writes with {@code RaftNode.Builder#persistOnLoop}). It calls the read methods from the node's
 * event-loop thread, possibly while a write is in progress on the writer thread; while a node is
 * built, the thread building it reads the store and calls {@link #owner()} and
 * {@link #recordOwner}, before any other thread uses it. Reads must see either the state before or
 * after each write, never a torn one. Reads are never made for entries that an in-progress write
 * replaces: the runtime serves those from memory.
 *
 * <h2>Durability</h2>
 * When a write method returns, its effect must survive a crash of the process and of the machine
 * (for example, fsync). The runtime acknowledges votes and appended entries to other nodes only
 * after the write that stored them returned. A write that cannot be made durable must throw
 * {@link StorageException}; the runtime then stops the node. It must never return normally
 * without the data being durable.
 *
 * <h2>Errors</h2>
 * Reads of indexes outside the stored range throw {@link IndexOutOfBoundsException}; a corrupt or
 * unreadable store throws {@link StorageException}.
 */
public interface LogStorage extends AutoCloseable {

    /**
     * The last durable hard state, {@link HardState#INITIAL} for a new store. All four of its
     * fields are the node's to get back: a store that drops {@link HardState#voteRefusalMicros()}
     * (returns 0) loses only what keeps read leases safe when a node is restarted with a shorter
     * election timeout than it ran with; one that drops {@link HardState#bootstrapFingerprint()}
     * leaves a node whose log no longer holds its first entry unable to tell a node of another
     * bootstrap of its group from its own until it hears from a leader.
     */
    HardState hardState();

    /** Index of the first entry held; {@code lastIndex() + 1} when the log holds none. */
    long firstIndex();

    /** Index of the last entry held; the compaction point's index when the log holds none. */
    long lastIndex();

    /**
     * Term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()};
     * at {@code firstIndex() - 1} this is the term of the compaction point (0 for a new log).
     *
     * @throws IndexOutOfBoundsException if {@code index} is outside that range
     */
    long term(long index);

    /**
     * Entries in {@code [fromIndex, toIndex)}, stopping early once their total
     * {@link LogEntry#sizeBytes()} would exceed {@code maxBytes}; at least one entry is returned
     * for a non-empty range whatever its size.
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code firstIndex()..lastIndex()+1}
     */
    List<LogEntry> entries(long fromIndex, long toIndex, long maxBytes);

    /**
     * Durably stores {@code entries} and, if not {@code null}, {@code hardState}, as one atomic write.
     *
     * <p>{@code entries} are contiguous and their first index is at most {@code lastIndex() + 1}.
     * Any stored entries at or after that index are replaced: they are deleted and the new ones
     * written in the same atomic write. Example: a log holding 1..10 given entries 7..8 afterwards
     * holds 1..8. {@code entries} may be empty when only the hard state changes. The list is the
     * caller's, who reuses it once the call returns: keep its entries, not the list.
     *
     * @throws StorageException if the write could not be made durable
     */
    void append(List<LogEntry> entries, HardState hardState);

    /**
     * Discards entries up to and including {@code index}, which a snapshot now covers; afterwards
     * {@code firstIndex() == index + 1} and {@code term(index) == term}. Entries after
     * {@code index} are kept. If {@code index >= lastIndex()}, the log becomes empty and
     * {@code lastIndex() == index}. Compacting to an index at or below the current compaction
     * point does nothing.
     *
     * @throws IllegalArgumentException if {@code index} is {@code Long.MAX_VALUE} (no first index
     *                                  would follow it) or {@code term} is negative; nothing changes
     * @throws StorageException if the change could not be made durable
     */
    void compact(long index, long term);

    /**
     * Discards the whole log and restarts it after ({@code index}, {@code term}): afterwards
     * {@code firstIndex() == index + 1}, {@code lastIndex() == index} and {@code term(index) == term}.
     * Used when an installed snapshot does not match the log (Raft Figure 13, rule 7). Must be
     * atomic: a crash leaves either the old log or the reset one.
     *
     * @throws IllegalArgumentException if {@code index} is negative or {@code Long.MAX_VALUE}, or
     *                                  {@code term} is negative; nothing changes
     * @throws StorageException if the change could not be made durable
     */
    void reset(long index, long term);

    /**
     * Whether {@link #append}, {@link #compact} and {@link #reset} return promptly without waiting
     * for a device (an in-memory log). The runtime then performs them on its event loop, saving
     * two thread hand-offs per write; storage that syncs to disk must keep the default
     * {@code false}, so that a sync never stalls elections and replication.
     */
    default boolean writesWithoutBlocking() {
        return false;
    }

    /**
     * The node this store belongs to, as {@link #recordOwner} recorded it; empty for a store that
     * has recorded none (a new one). The runtime compares it with the node it starts and refuses a
     * store of another node. Every implementation should record it (the contract test in raft-core's
     * test-jar checks that it does); with both defaults nothing is recorded, and the runtime then
     * cannot tell when it is given another node's log.
     *
     * @throws StorageException if the recorded owner is unreadable
     */
    default Optional<LogOwner> owner() {
        return Optional.empty();
    }

    /**
     * Durably records the node this store belongs to. The runtime calls it once, when a node has
     * been built on a store without an owner (a new one, or one written before owners were
     * recorded), before the node starts.
     *
     * @throws StorageException if the owner could not be made durable
     */
    default void recordOwner(LogOwner owner) {
    }

    /** Releases resources. Further calls fail. */
    @Override
    void close();
}

package io.raft4j.core;

/**
 * A change to the start of the stored log for the driver to make, after the writes handed out
 * before it: compact up to ({@code index}, {@code term}) ({@code LogStorage#compact}), or, if
 * {@code discardAll}, discard the whole log and restart it after that point ({@code LogStorage#reset}).
 *
 * @param index      the new compaction point
 * @param term       its term
 * @param discardAll reset rather than compact (an installed snapshot did not match the log)
 */
public record LogCompaction(long index, long term, boolean discardAll) {
}

package io.raft4j.message;

import java.util.Objects;

/**
 * One entry of the replicated log.
 *
 * @param index position in the log, starting at 1
 * @param term  term of the leader that created the entry
 * @param type  what the entry carries
 * @param data  the command ({@link EntryType#COMMAND}), the encoded configuration
 *              ({@link EntryType#CONFIG}), or empty ({@link EntryType#NOOP})
 */
public record LogEntry(long index, long term, EntryType type, Bytes data) {
    /** Bytes an entry costs beyond its payload, for size limits; an estimate of its encoding. */
    public static final int OVERHEAD_BYTES = 24;

    /** Checks the fields: an index from 1, a term from 0, a type and a payload. */
    public LogEntry {
        if (index < 1) {
            throw new IllegalArgumentException("index must be >= 1: " + index);
        }
        if (term < 0) {
            throw new IllegalArgumentException("term must be >= 0: " + term);
        }
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
    }

    /** A command entry. */
    public static LogEntry command(long index, long term, Bytes data) {
        return new LogEntry(index, term, EntryType.COMMAND, data);
    }

    /** Approximate size in bytes, used for batching and flow-control limits. */
    public long sizeBytes() {
        return (long) data.length() + OVERHEAD_BYTES;
    }
}

package io.raft4j.message;

/** What a log entry carries. */
public enum EntryType {
    /** A command for the user's state machine. */
    COMMAND,
    /** The empty entry a new leader appends to commit entries of earlier terms (Raft §5.4.2, §8). */
    NOOP,
    /** A cluster configuration (membership); takes effect as soon as it is appended (§6). */
    CONFIG
}

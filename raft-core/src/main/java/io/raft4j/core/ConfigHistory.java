package io.raft4j.core;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.LogEntry;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * The configurations found in the log, so that the one in force is always the latest appended
 * (Raft §6: a server uses the latest configuration in its log, committed or not) and a truncated
 * configuration entry reverts to the one before it.
 */
final class ConfigHistory {
    private record Entry(long index, ClusterConfig config) {
    }

    private ClusterConfig base;
    private long baseIndex;
    private final Deque<Entry> entries = new ArrayDeque<>();

    ConfigHistory(ClusterConfig base, long baseIndex) {
        this.base = base;
        this.baseIndex = baseIndex;
    }

    ClusterConfig current() {
        return entries.isEmpty() ? base : entries.peekLast().config();
    }

    /** Index of the entry that carried the current configuration (the base index if none). */
    long currentIndex() {
        return entries.isEmpty() ? baseIndex : entries.peekLast().index();
    }

    /** The configuration in force at {@code index} (the latest configuration entry at or before it). */
    ClusterConfig configAt(long index) {
        ClusterConfig result = base;
        for (Entry e : entries) {
            if (e.index() > index) {
                break;
            }
            result = e.config();
        }
        return result;
    }

    /**
     * The first simple (not joint) configuration entry in [{@code from}, {@code upTo}], or
     * {@code null} if there is none, or if {@code from} precedes this history (compacted away).
     */
    ClusterConfig firstSimpleBetween(long from, long upTo) {
        if (from <= baseIndex) {
            return null;
        }
        for (Entry e : entries) {
            if (e.index() > upTo) {
                break;
            }
            if (e.index() >= from && !e.config().isJoint()) {
                return e.config();
            }
        }
        return null;
    }

    /** Whether the configuration in force at {@code index}, or one appended after it, lists {@code id} as a voter. */
    boolean votesSince(long index, String id) {
        for (Iterator<Entry> it = entries.descendingIterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.config().isVoter(id)) {
                return true;
            }
            if (e.index() <= index) {
                return false; // the one in force at index
            }
        }
        return base.isVoter(id);
    }

    /** Whether a configuration entry at or after {@code index} lists {@code id} as a member. */
    boolean listsSince(long index, String id) {
        for (Iterator<Entry> it = entries.descendingIterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.index() < index) {
                return false;
            }
            if (e.config().isMember(id)) {
                return true;
            }
        }
        return false;
    }

    /** Records configuration entries among {@code appended}, first dropping those at or after their start. */
    void onAppended(List<LogEntry> appended) {
        if (appended.isEmpty()) {
            return;
        }
        truncateFrom(appended.get(0).index());
        for (LogEntry e : appended) {
            if (e.type() == EntryType.CONFIG) {
                entries.addLast(new Entry(e.index(), ClusterConfig.decode(e.data())));
            }
        }
    }

    /** Records configuration entries read back from storage at start-up. */
    void onAppendedKeepingHistory(List<LogEntry> stored) {
        for (LogEntry e : stored) {
            if (e.type() == EntryType.CONFIG) {
                entries.addLast(new Entry(e.index(), ClusterConfig.decode(e.data())));
            }
        }
    }

    private void truncateFrom(long index) {
        while (!entries.isEmpty() && entries.peekLast().index() >= index) {
            entries.removeLast();
        }
    }

    /**
     * A snapshot replaced the whole log (Raft Figure 13, rule 7): the configurations of the discarded
     * entries go with them, and the snapshot's is the one in force.
     */
    void resetTo(long index, ClusterConfig snapshotConfig) {
        entries.clear();
        base = snapshotConfig;
        baseIndex = index;
    }

    /** Forgets entries a snapshot covers; the configuration at {@code index} becomes the base. */
    void compactTo(long index, ClusterConfig configAtIndex) {
        Iterator<Entry> it = entries.iterator();
        while (it.hasNext()) {
            if (it.next().index() <= index) {
                it.remove();
            }
        }
        base = configAtIndex;
        baseIndex = index;
    }
}

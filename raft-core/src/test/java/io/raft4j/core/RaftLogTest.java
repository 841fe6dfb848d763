package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link RaftLog#appendFollowing} (Figure 2, AppendEntries rules 3 and 4) on its own: RaftCore trims
 * a batch before calling it, so the simulation cannot see these rules broken here.
 */
class RaftLogTest {

    private static List<LogEntry> entries(long from, long... terms) {
        List<LogEntry> list = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            list.add(LogEntry.command(from + i, terms[i], Bytes.ofUtf8("e" + (from + i))));
        }
        return list;
    }

    private static RaftLog logOf(long... terms) {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        storage.append(entries(1, terms), new HardState(terms[terms.length - 1], null));
        return new RaftLog(storage);
    }

    @Test
    void aStaleOrDuplicateBatchNeverShortensTheLog() {
        RaftLog log = logOf(1, 1, 2, 2, 3);
        // Entries 2..3, already present with the same terms (a late, duplicated append).
        assertEquals(3, log.appendFollowing(entries(2, 1, 2)));
        assertEquals(5, log.lastIndex(), "entries after a matching batch were truncated");
        assertEquals(3, log.term(5));
    }

    @Test
    void aConflictReplacesTheSuffixFromTheFirstConflictingEntry() {
        RaftLog log = logOf(1, 1, 2, 2, 3);
        assertEquals(4, log.appendFollowing(entries(3, 2, 4)));
        assertEquals(4, log.lastIndex(), "the suffix after the conflict is gone");
        assertEquals(2, log.term(3), "the matching entry before the conflict stays");
        assertEquals(4, log.term(4));
    }
}

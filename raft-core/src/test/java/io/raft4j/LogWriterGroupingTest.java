package io.raft4j;

import io.raft4j.core.LogCompaction;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The storage thread groups every write queued while it was busy into one append: a follower's log
 * overwritten by a new leader in the same group, and a compaction between writes, must leave the
 * log the writes one by one would have left, report the last entry written, and release the
 * acknowledgements only with the group.
 */
class LogWriterGroupingTest {

    /** Records each append's first and last index. */
    static final class RecordingStorage extends ForwardingStorage {
        final List<String> appends = new CopyOnWriteArrayList<>();

        RecordingStorage(InMemoryLogStorage delegate) {
            super(delegate);
        }

        @Override
        public void append(List<LogEntry> entries, HardState hs) {
            appends.add(entries.isEmpty() ? "hs " + hs : entries.get(0).index() + ".." + entries.get(entries.size() - 1).index()
                    + (hs != null ? " +hs" : ""));
            super.append(entries, hs);
        }

        @Override
        public void compact(long index, long term) {
            appends.add("compact " + index);
            super.compact(index, term);
        }
    }

    @Test
    void anOverwriteAndACompactionQueuedTogetherLeaveTheLogTheyWouldOneByOne() throws Exception {
        InMemoryLogStorage stored = new InMemoryLogStorage();
        stored.append(entries(1, 4, 1), new HardState(1, "n2"));
        RecordingStorage storage = new RecordingStorage(stored);
        CompletableFuture<LogWriter.Done> done = new CompletableFuture<>();
        LogWriter writer = new LogWriter("test-writer", storage, new InMemorySnapshotStore(), done::complete,
                done::completeExceptionally, new NodeCounters());
        RaftMessage ackOfTerm2 = ack(2, 10);
        RaftMessage ackOfTerm3 = ack(3, 9);
        // Queued before the thread starts: taken as one group.
        writer.submit(job(entries(5, 6, 2), new HardState(2, "n2"), ackOfTerm2, null));
        writer.submit(job(entries(8, 2, 3), new HardState(3, "n3"), ackOfTerm3, null)); // n3 overwrites 8..10
        writer.submit(job(List.of(), null, null, new LogCompaction(3, 1, false)));
        writer.submit(job(entries(10, 1, 3), null, null, null));
        writer.start();
        try {
            LogWriter.Done written = done.get(10, TimeUnit.SECONDS);
            assertEquals(List.of("5..9 +hs", "compact 3", "10..10"), storage.appends);
            assertEquals(10, written.lastIndex());
            assertEquals(3, written.lastTerm());
            assertEquals(List.of(ackOfTerm2, ackOfTerm3), written.released());
            assertEquals(4, written.jobs());
            List<LogEntry> expected = new ArrayList<>(entries(4, 4, 1).subList(0, 1));
            expected.addAll(entries(5, 3, 2));
            expected.addAll(entries(8, 3, 3));
            assertEquals(expected, stored.entries(4, 11, Long.MAX_VALUE));
            assertEquals(new HardState(3, "n3"), stored.hardState());
        } finally {
            writer.stop();
        }
    }

    private static LogWriter.Job job(List<LogEntry> entries, HardState hs, RaftMessage ack, LogCompaction compaction) {
        return new LogWriter.Job(entries, hs, ack == null ? List.of() : List.of(ack), false, List.of(), compaction);
    }

    private static RaftMessage ack(long term, long index) {
        return new AppendEntriesResponse("default", "n1", term == 2 ? "n2" : "n3", term, true, index, 0, 0, 0, 0);
    }

    private static List<LogEntry> entries(long first, int count, long term) {
        List<LogEntry> entries = new ArrayList<>();
        for (long i = first; i < first + count; i++) {
            entries.add(LogEntry.command(i, term, Bytes.ofUtf8("t" + term + "@" + i)));
        }
        return entries;
    }
}

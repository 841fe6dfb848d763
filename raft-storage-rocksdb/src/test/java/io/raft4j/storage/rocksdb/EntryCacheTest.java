package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-memory tail: eviction by bytes, suffix replacement, compaction, and the term runs. */
class EntryCacheTest {
    private static final long EACH = EntryCache.heapBytes(entry(1, 1));

    @Test
    void keepsTheNewestEntriesWithinItsBudgetAndFollowsReplacementsAndCompaction() {
        EntryCache cache = new EntryCache(10 * EACH, 1);
        cache.append(entries(1, 100, 1));
        assertEquals(91, cache.firstIndex());
        assertEquals(101, cache.nextIndex());
        assertEquals(10 * EACH, cache.bytes());

        cache.append(entries(95, 96, 2));
        assertEquals(entries(91, 94, 1), cache.toList().subList(0, 4));
        assertEquals(97, cache.nextIndex());
        assertEquals(6 * EACH, cache.bytes());

        cache.dropThrough(92);
        assertEquals(93, cache.firstIndex());
        cache.dropThrough(200);
        assertEquals(0, cache.size());
        assertEquals(201, cache.nextIndex());

        cache.append(entries(201, 203, 3));
        List<LogEntry> out = new ArrayList<>();
        cache.copyTo(out, 202, 204, 0, entry(1, 1).sizeBytes());
        assertEquals(entries(202, 202, 3), out);

        // Appending before the held range (a reset to an earlier point) restarts the cache.
        cache.append(entries(50, 50, 4));
        assertEquals(entries(50, 50, 4), cache.toList());
    }

    @Test
    void agreesWithASimpleListUnderRandomAppendsReplacementsAndCompactions() {
        Random random = new Random(7);
        long budget = 40 * EACH;
        EntryCache cache = new EntryCache(budget, 1);
        List<LogEntry> model = new ArrayList<>();
        long next = 1;
        for (int step = 0; step < 20_000; step++) {
            int op = random.nextInt(10);
            if (op < 7) {
                // Append, sometimes replacing the newest few entries first.
                long from = Math.max(model.isEmpty() ? next : model.get(0).index(), next - random.nextInt(4));
                List<LogEntry> batch = new ArrayList<>();
                for (int i = 0; i < 1 + random.nextInt(30); i++) {
                    batch.add(LogEntry.command(from + i, step, Bytes.wrap(new byte[random.nextInt(3 * (int) EACH)])));
                }
                cache.append(batch);
                model.removeIf(e -> e.index() >= from);
                model.addAll(batch);
                next = from + batch.size();
                long bytes = model.stream().mapToLong(EntryCache::heapBytes).sum();
                while (bytes > budget) {
                    bytes -= EntryCache.heapBytes(model.remove(0));
                }
            } else if (!model.isEmpty()) {
                long through = model.get(0).index() + random.nextInt(model.size() + 2) - 1;
                cache.dropThrough(through);
                model.removeIf(e -> e.index() <= through);
                next = Math.max(next, through + 1);
            }
            assertEquals(model, cache.toList(), "step " + step);
            assertEquals(model.stream().mapToLong(EntryCache::heapBytes).sum(), cache.bytes(), "step " + step);
            assertEquals(next, cache.nextIndex(), "step " + step);
        }
    }

    /**
     * The budget is memory: what the held entries take on the heap stays within it. Counted by
     * {@link LogEntry#sizeBytes()} (the payload and 24 bytes, an estimate of an entry's encoding),
     * a 4 MiB cache of 32-byte commands held 74,898 entries, 10.4 MiB measured on the heap: 500
     * groups sized at 2 GiB took 5. An entry held takes at least its {@code LogEntry} (a header and
     * two longs and two references: 36 bytes), its {@code Bytes} (16), its array (16 and the payload)
     * and its two ring slots (a reference and a long: 12).
     */
    @Test
    void itsBudgetBoundsTheHeapItsEntriesTake() {
        long budget = 4L << 20;
        int payload = 32;
        long leastHeapEach = 36 + 16 + (16 + payload) + 12;
        EntryCache cache = new EntryCache(budget, 1);
        for (long i = 1; i <= 200_000; i++) {
            cache.append(List.of(LogEntry.command(i, 1, Bytes.wrap(new byte[payload]))));
        }
        assertTrue(cache.size() * leastHeapEach <= budget, cache.size() + " entries of " + payload
                + " bytes take at least " + cache.size() * leastHeapEach + " bytes of heap, over the budget " + budget);
    }

    @Test
    void termIndexAnswersFromRunsAndFollowsTruncationAndCompaction() {
        TermIndex terms = new TermIndex();
        for (long i = 1; i <= 30; i++) {
            terms.add(i, i <= 10 ? 1 : i <= 20 ? 2 : 5);
        }
        assertEquals(3, terms.runs());
        assertEquals(1, terms.termAt(10));
        assertEquals(2, terms.termAt(11));
        assertEquals(5, terms.termAt(30));

        terms.truncateFrom(15);
        terms.add(15, 7);
        assertEquals(2, terms.termAt(14));
        assertEquals(7, terms.termAt(15));

        terms.dropThrough(12);
        assertEquals(2, terms.runs());
        assertEquals(2, terms.termAt(13));
    }

    private static LogEntry entry(long index, long term) {
        return LogEntry.command(index, term, Bytes.wrap(new byte[10]));
    }

    private static List<LogEntry> entries(long from, long to, long term) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(entry(i, term));
        }
        return out;
    }
}

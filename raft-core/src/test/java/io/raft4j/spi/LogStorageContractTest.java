package io.raft4j.spi;

import io.raft4j.message.Bytes;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link LogStorage} contract, written once and run against every implementation: extend it,
 * implement {@link #open()} and {@link #reopen(LogStorage)}, and every test here runs on yours.
 * Shipped in raft-core's test-jar for adapters.
 *
 * <p>Each test is init / act / check against the Javadoc of {@link LogStorage}; the last one
 * replays seeded random operations against a plain model, reopening now and then.
 */
public abstract class LogStorageContractTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;

    /** The storage under test; tests replace it when they reopen. */
    protected LogStorage storage;

    /** A new, empty storage. Called once before each test. */
    protected abstract LogStorage open();

    /**
     * Closes {@code storage} as a stopping node would and opens the same durable state again, as a
     * restarted process would (for a file-backed store: reopen the files).
     */
    protected abstract LogStorage reopen(LogStorage storage);

    /** Releases what {@link #open()} acquired beyond the storage itself; runs after it is closed. */
    protected void cleanUp() {
    }

    @BeforeEach
    final void openStorage() {
        storage = open();
    }

    @AfterEach
    final void closeStorage() {
        try {
            if (storage != null) {
                storage.close();
            }
        } finally {
            cleanUp();
        }
    }

    // ---- a new log -----------------------------------------------------------------------------

    @Test
    void newStorageIsEmptyWithInitialHardState() {
        assertLog(storage, 1, 0);
        assertEquals(0, storage.term(0));
        assertEquals(HardState.INITIAL, storage.hardState());
        assertEquals(List.of(), storage.entries(1, 1, NO_LIMIT));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.term(1));
    }

    // ---- append --------------------------------------------------------------------------------

    @Test
    void appendedEntriesCanBeReadBack() {
        List<LogEntry> written = entries(1, 5, 1);
        storage.append(written, null);

        assertLog(storage, 1, 5);
        assertEquals(written, storage.entries(1, 6, NO_LIMIT));
        assertEquals(written.subList(1, 3), storage.entries(2, 4, NO_LIMIT));
        for (long i = 1; i <= 5; i++) {
            assertEquals(1, storage.term(i));
        }
    }

    @Test
    void consecutiveAppendsExtendTheLog() {
        storage.append(entries(1, 3, 1), null);
        storage.append(entries(4, 6, 2), null);
        storage.append(entries(7, 7, 2), null);

        assertLog(storage, 1, 7);
        assertEquals(concat(entries(1, 3, 1), entries(4, 7, 2)), storage.entries(1, 8, NO_LIMIT));
        assertEquals(1, storage.term(3));
        assertEquals(2, storage.term(4));
    }

    @Test
    void appendReplacesTheSuffixFromItsFirstIndex() {
        storage.append(entries(1, 10, 1), null);

        // The Javadoc's example: 1..10 given 7..8 afterwards holds 1..8.
        storage.append(entries(7, 8, 2), null);

        assertLog(storage, 1, 8);
        assertEquals(concat(entries(1, 6, 1), entries(7, 8, 2)), storage.entries(1, 9, NO_LIMIT));
        assertEquals(2, storage.term(8));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.term(9));
    }

    @Test
    void appendCanReplaceTheWholeLogOrGrowItWhileReplacing() {
        storage.append(entries(1, 5, 1), null);
        storage.append(entries(1, 2, 2), null);
        assertEquals(entries(1, 2, 2), storage.entries(1, 3, NO_LIMIT));

        storage.append(entries(2, 9, 3), null);
        assertLog(storage, 1, 9);
        assertEquals(concat(entries(1, 1, 2), entries(2, 9, 3)), storage.entries(1, 10, NO_LIMIT));
    }

    /**
     * The runtime hands its write buffer to append() and clears it for the next batch once the call
     * returns: a store that kept the list, not its entries, lost what it had been given.
     */
    @Test
    void appendKeepsTheEntriesNotTheCallersList() {
        List<LogEntry> buffer = new ArrayList<>(entries(1, 3, 1));
        storage.append(buffer, null);
        buffer.clear();
        buffer.addAll(entries(7, 9, 5));

        assertLog(storage, 1, 3);
        assertEquals(entries(1, 3, 1), storage.entries(1, 4, NO_LIMIT));
    }

    @Test
    void appendThatLeavesAGapOrIsNotContiguousIsRejectedAndChangesNothing() {
        storage.append(entries(1, 3, 1), null);

        // Both implementations reject a broken precondition with IllegalArgumentException.
        assertThrows(IllegalArgumentException.class, () -> storage.append(entries(5, 6, 1), null));
        assertThrows(IllegalArgumentException.class,
                () -> storage.append(List.of(entry(4, 1), entry(6, 1)), null));

        assertLog(storage, 1, 3);
        assertEquals(entries(1, 3, 1), storage.entries(1, 4, NO_LIMIT));
    }

    @Test
    void entriesOfEveryTypeAndSizeRoundTrip() {
        byte[] big = new byte[1 << 20];
        new SplittableRandom(7).nextBytes(big);
        List<LogEntry> written = List.of(
                new LogEntry(1, 1, EntryType.NOOP, Bytes.EMPTY),
                new LogEntry(2, 1, EntryType.CONFIG, Bytes.ofUtf8("n1,n2,n3")),
                LogEntry.command(3, 1, Bytes.wrap(big)),
                LogEntry.command(4, 2, Bytes.wrap(new byte[]{0, -1, 127, -128})));
        storage.append(written, null);
        assertEquals(written, storage.entries(1, 5, NO_LIMIT));

        storage = reopen(storage);
        assertEquals(written, storage.entries(1, 5, NO_LIMIT));
    }

    // ---- hard state ----------------------------------------------------------------------------

    @Test
    void hardStateIsStoredAloneOrWithEntriesAndKeptWhenNull() {
        storage.append(List.of(), new HardState(1, "n1"));
        assertEquals(new HardState(1, "n1"), storage.hardState());
        assertLog(storage, 1, 0);

        storage.append(entries(1, 2, 2), new HardState(2, null));
        assertEquals(new HardState(2, null), storage.hardState());
        assertLog(storage, 1, 2);

        storage.append(entries(3, 3, 2), null);
        assertEquals(new HardState(2, null), storage.hardState());

        storage.append(List.of(), new HardState(3, "n-\u00e9\u4e2d"));
        storage = reopen(storage);
        assertEquals(new HardState(3, "n-\u00e9\u4e2d"), storage.hardState());
        assertLog(storage, 1, 3);
    }

    /**
     * The vote-refusal window and the bootstrap fingerprint are part of the hard state, kept across
     * a reopen as term and vote are.
     */
    @Test
    void hardStateKeepsItsVoteRefusalWindowAndBootstrapFingerprint() {
        storage.append(entries(1, 2, 1), new HardState(1, "n1", 2_900_000, 0));
        storage = reopen(storage);
        assertEquals(new HardState(1, "n1", 2_900_000, 0), storage.hardState());

        storage.append(List.of(), new HardState(1, "n1", Long.MAX_VALUE / 100, 0));
        storage = reopen(storage);
        assertEquals(new HardState(1, "n1", Long.MAX_VALUE / 100, 0), storage.hardState());

        storage.append(List.of(), new HardState(2, null, 0, 0x8123_4567_89AB_CDEFL));
        storage = reopen(storage);
        assertEquals(new HardState(2, null, 0, 0x8123_4567_89AB_CDEFL), storage.hardState());

        storage.append(List.of(), new HardState(2, null, 0, 0));
        storage = reopen(storage);
        assertEquals(new HardState(2, null, 0, 0), storage.hardState());
        assertLog(storage, 1, 2);
    }

    // ---- reads with a byte limit ---------------------------------------------------------------

    @Test
    void entriesStopAtTheByteLimitButReturnAtLeastOne() {
        List<LogEntry> written = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            written.add(LogEntry.command(i, 1, Bytes.wrap(new byte[100])));
        }
        storage.append(written, null);
        long each = written.get(0).sizeBytes();

        assertEquals(written.subList(0, 3), storage.entries(1, 11, 3 * each));
        assertEquals(written.subList(0, 3), storage.entries(1, 11, 4 * each - 1));
        assertEquals(written.subList(0, 1), storage.entries(1, 11, 0));
        assertEquals(written.subList(4, 5), storage.entries(5, 11, each - 1));
        assertEquals(written.subList(4, 10), storage.entries(5, 11, NO_LIMIT));
        assertEquals(written.subList(8, 10), storage.entries(9, 11, 100 * each));
    }

    @Test
    void entriesReturnsNothingForAnEmptyRangeAndRejectsRangesOutsideTheLog() {
        storage.append(entries(1, 5, 1), null);
        storage.compact(2, 1);

        assertEquals(List.of(), storage.entries(3, 3, NO_LIMIT));
        assertEquals(List.of(), storage.entries(6, 6, NO_LIMIT));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.entries(2, 4, NO_LIMIT));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.entries(3, 7, NO_LIMIT));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.entries(5, 4, NO_LIMIT));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.entries(7, 7, NO_LIMIT));
    }

    // ---- terms at the boundaries ---------------------------------------------------------------

    @Test
    void termIsKnownFromTheCompactionPointToTheLastIndexOnly() {
        storage.append(concat(entries(1, 4, 1), entries(5, 8, 3)), null);
        storage.compact(3, 1);

        assertEquals(1, storage.term(3));
        assertEquals(1, storage.term(4));
        assertEquals(3, storage.term(5));
        assertEquals(3, storage.term(8));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.term(2));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.term(9));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.term(-1));
    }

    // ---- compaction and reset ------------------------------------------------------------------

    @Test
    void compactDiscardsThePrefixAndKeepsTheRest() {
        storage.append(concat(entries(1, 5, 1), entries(6, 10, 2)), null);

        storage.compact(6, 2);

        assertLog(storage, 7, 10);
        assertEquals(2, storage.term(6));
        assertEquals(entries(7, 10, 2), storage.entries(7, 11, NO_LIMIT));
        assertThrows(IndexOutOfBoundsException.class, () -> storage.entries(6, 11, NO_LIMIT));

        storage.append(entries(11, 12, 3), null);
        storage = reopen(storage);
        assertLog(storage, 7, 12);
        assertEquals(2, storage.term(6));
        assertEquals(concat(entries(7, 10, 2), entries(11, 12, 3)), storage.entries(7, 13, NO_LIMIT));
    }

    @Test
    void compactAtOrBelowTheCompactionPointDoesNothing() {
        storage.append(entries(1, 5, 1), null);
        storage.compact(3, 1);

        storage.compact(3, 9);
        storage.compact(1, 9);

        assertLog(storage, 4, 5);
        assertEquals(1, storage.term(3));
    }

    @Test
    void compactAtOrBeyondTheLastIndexEmptiesTheLog() {
        storage.append(entries(1, 5, 1), null);
        storage.compact(5, 1);
        assertLog(storage, 6, 5);
        assertEquals(1, storage.term(5));

        storage.compact(9, 2);
        assertLog(storage, 10, 9);
        assertEquals(2, storage.term(9));
        assertEquals(List.of(), storage.entries(10, 10, NO_LIMIT));
        assertThrows(IllegalArgumentException.class, () -> storage.append(entries(9, 9, 2), null));

        storage.append(entries(10, 11, 2), null);
        storage = reopen(storage);
        assertLog(storage, 10, 11);
        assertEquals(2, storage.term(9));
        assertEquals(entries(10, 11, 2), storage.entries(10, 12, NO_LIMIT));
    }

    @Test
    void appendMayReplaceFromTheFirstIndexAfterCompaction() {
        storage.append(entries(1, 8, 1), null);
        storage.compact(4, 1);

        storage.append(entries(5, 6, 2), null);

        assertLog(storage, 5, 6);
        assertEquals(1, storage.term(4));
        assertEquals(entries(5, 6, 2), storage.entries(5, 7, NO_LIMIT));
        assertThrows(IllegalArgumentException.class, () -> storage.append(entries(4, 4, 2), null));
    }

    @Test
    void resetDiscardsTheWholeLogAndRestartsAfterThePoint() {
        storage.append(entries(1, 10, 1), new HardState(1, "n1"));

        storage.reset(4, 7);
        assertLog(storage, 5, 4);
        assertEquals(7, storage.term(4));
        assertEquals(new HardState(1, "n1"), storage.hardState());

        storage.append(entries(5, 5, 7), null);
        storage = reopen(storage);
        assertLog(storage, 5, 5);
        assertEquals(7, storage.term(4));
        assertEquals(entries(5, 5, 7), storage.entries(5, 6, NO_LIMIT));

        storage.reset(50, 8);
        storage = reopen(storage);
        assertLog(storage, 51, 50);
        assertEquals(8, storage.term(50));
    }

    /** Long.MAX_VALUE would make firstIndex() wrap to Long.MIN_VALUE (found probing with extreme values). */
    @Test
    void compactionPointsOutOfRangeAreRefusedAndChangeNothing() {
        storage.append(entries(1, 10, 1), null);
        assertThrows(IllegalArgumentException.class, () -> storage.compact(Long.MAX_VALUE, 1));
        assertThrows(IllegalArgumentException.class, () -> storage.compact(5, -1));
        assertThrows(IllegalArgumentException.class, () -> storage.reset(Long.MAX_VALUE, 1));
        assertThrows(IllegalArgumentException.class, () -> storage.reset(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> storage.reset(5, -1));
        assertLog(storage, 1, 10);
        storage = reopen(storage);
        assertLog(storage, 1, 10);
    }

    // ---- reopen --------------------------------------------------------------------------------

    @Test
    void reopenRestoresEntriesTermsHardStateAndCompactionPoint() {
        storage.append(entries(1, 20, 1), new HardState(1, "a"));
        storage.append(entries(15, 30, 2), new HardState(2, "b"));
        storage.compact(10, 1);

        storage = reopen(storage);

        assertLog(storage, 11, 30);
        assertEquals(new HardState(2, "b"), storage.hardState());
        assertEquals(1, storage.term(10));
        assertEquals(1, storage.term(14));
        assertEquals(2, storage.term(15));
        assertEquals(concat(entries(11, 14, 1), entries(15, 30, 2)), storage.entries(11, 31, NO_LIMIT));
        long each = storage.entries(11, 12, NO_LIMIT).get(0).sizeBytes();
        assertEquals(entries(11, 12, 1), storage.entries(11, 31, 2 * each));
    }

    // ---- owner ---------------------------------------------------------------------------------

    @Test
    void aRecordedOwnerSurvivesWritesAndReopen() {
        assertEquals(Optional.empty(), storage.owner());

        storage.recordOwner(new LogOwner("group-1", "n1"));
        storage.append(entries(1, 10, 1), new HardState(1, "n1"));
        storage.compact(5, 1);
        storage.reset(20, 2);
        storage = reopen(storage);

        assertEquals(Optional.of(new LogOwner("group-1", "n1")), storage.owner());
        assertEquals(new HardState(1, "n1"), storage.hardState());
        assertLog(storage, 21, 20);
    }

    @Test
    void closedStorageRefusesCalls() {
        storage.append(entries(1, 1, 1), null);
        LogStorage closed = storage;
        closed.close();

        assertThrows(RuntimeException.class, closed::lastIndex);
        assertThrows(RuntimeException.class, () -> closed.append(entries(2, 2, 1), null));

        storage = reopen(closed);
        assertLog(storage, 1, 1);
    }

    // ---- everything at once against a model ----------------------------------------------------

    @Test
    void randomOperationsMatchAModel() {
        for (long seed = 1; seed <= 3; seed++) {
            runAgainstModel(seed, 250);
        }
    }

    private void runAgainstModel(long seed, int steps) {
        SplittableRandom random = new SplittableRandom(seed);
        Model model = new Model(storage);
        long term = model.lastTerm();
        for (int step = 0; step < steps; step++) {
            String context = "seed " + seed + " step " + step;
            int op = random.nextInt(100);
            if (op < 55) {
                long first = model.last + 1 - (random.nextInt(4) == 0 ? random.nextLong(model.last - model.compactIndex + 1) : 0);
                term += random.nextInt(3) == 0 ? 1 : 0;
                List<LogEntry> batch = new ArrayList<>();
                for (long i = first, n = random.nextInt(1, 20); i < first + n; i++) {
                    batch.add(LogEntry.command(i, term, Bytes.wrap(randomBytes(random, 300))));
                }
                HardState hard = random.nextInt(4) == 0 ? new HardState(term, "n" + random.nextInt(3)) : null;
                storage.append(batch, hard);
                model.append(batch, hard);
            } else if (op < 65) {
                term++;
                HardState hard = new HardState(term, random.nextBoolean() ? null : "n" + random.nextInt(3));
                storage.append(List.of(), hard);
                model.append(List.of(), hard);
            } else if (op < 80) {
                long index = model.compactIndex + random.nextLong(model.last - model.compactIndex + 3);
                long compactTerm = index <= model.last ? model.term(index) : term;
                storage.compact(index, compactTerm);
                model.compact(index, compactTerm);
            } else if (op < 83) {
                long index = Math.max(0, model.last + random.nextInt(-5, 5));
                storage.reset(index, term);
                model.reset(index, term);
            } else if (op < 86) {
                storage = reopen(storage);
            } else {
                long from = model.compactIndex + 1 + random.nextLong(model.last - model.compactIndex + 1);
                long to = from + random.nextLong(model.last + 2 - from);
                long maxBytes = random.nextInt(2) == 0 ? NO_LIMIT : random.nextLong(2000);
                assertEquals(model.entries(from, to, maxBytes), storage.entries(from, to, maxBytes), context);
            }
            model.check(storage, context);
        }
    }

    /** What a correct log holds: a list of entries after a compaction point, and a hard state. */
    private static final class Model {
        final List<LogEntry> log = new ArrayList<>();
        long compactIndex;
        long compactTerm;
        long last;
        HardState hard;

        Model(LogStorage initial) {
            compactIndex = initial.firstIndex() - 1;
            compactTerm = initial.term(compactIndex);
            last = initial.lastIndex();
            log.addAll(initial.entries(compactIndex + 1, last + 1, NO_LIMIT));
            hard = initial.hardState();
        }

        long lastTerm() {
            return term(last);
        }

        long term(long index) {
            return index == compactIndex ? compactTerm : log.get((int) (index - compactIndex - 1)).term();
        }

        void append(List<LogEntry> batch, HardState newHard) {
            if (!batch.isEmpty()) {
                long first = batch.get(0).index();
                log.subList((int) (first - compactIndex - 1), log.size()).clear();
                log.addAll(batch);
                last = batch.get(batch.size() - 1).index();
            }
            if (newHard != null) {
                hard = newHard;
            }
        }

        void compact(long index, long term) {
            if (index <= compactIndex) {
                return;
            }
            log.subList(0, (int) Math.min(log.size(), index - compactIndex)).clear();
            last = Math.max(last, index);
            compactIndex = index;
            compactTerm = term;
        }

        void reset(long index, long term) {
            log.clear();
            compactIndex = index;
            compactTerm = term;
            last = index;
        }

        List<LogEntry> entries(long from, long to, long maxBytes) {
            List<LogEntry> out = new ArrayList<>();
            long bytes = 0;
            for (long i = from; i < to; i++) {
                LogEntry e = log.get((int) (i - compactIndex - 1));
                bytes += e.sizeBytes();
                if (!out.isEmpty() && bytes > maxBytes) {
                    break;
                }
                out.add(e);
            }
            return out;
        }

        void check(LogStorage storage, String context) {
            assertEquals(compactIndex + 1, storage.firstIndex(), context);
            assertEquals(last, storage.lastIndex(), context);
            assertEquals(compactTerm, storage.term(compactIndex), context);
            assertEquals(hard, storage.hardState(), context);
            if (last > compactIndex) {
                assertEquals(lastTerm(), storage.term(last), context);
                long mid = compactIndex + 1 + (last - compactIndex) / 2;
                assertEquals(term(mid), storage.term(mid), context);
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** A command entry whose payload names its index and term. */
    protected static LogEntry entry(long index, long term) {
        return LogEntry.command(index, term, Bytes.ofUtf8("entry " + index + " of term " + term));
    }

    /** Entries {@code from..to} inclusive, all of {@code term}. */
    protected static List<LogEntry> entries(long from, long to, long term) {
        List<LogEntry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(entry(i, term));
        }
        return out;
    }

    private static List<LogEntry> concat(List<LogEntry> a, List<LogEntry> b) {
        List<LogEntry> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static byte[] randomBytes(SplittableRandom random, int maxLength) {
        byte[] bytes = new byte[random.nextInt(maxLength + 1)];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Checks both bounds and that the reported range is consistent with {@code term()}. */
    protected static void assertLog(LogStorage storage, long firstIndex, long lastIndex) {
        assertEquals(firstIndex, storage.firstIndex(), "firstIndex");
        assertEquals(lastIndex, storage.lastIndex(), "lastIndex");
        assertTrue(lastIndex >= firstIndex - 1, "lastIndex >= firstIndex - 1");
        storage.term(firstIndex - 1);
        storage.term(lastIndex);
    }
}

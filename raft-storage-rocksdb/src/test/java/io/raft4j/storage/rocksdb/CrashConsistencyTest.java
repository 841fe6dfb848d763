package io.raft4j.storage.rocksdb;

import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;
import org.rocksdb.util.Environment;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Crash consistency under {@code kill -9}: a child JVM ({@link CrashChild}) writes two groups
 * concurrently and reports each write before it starts and once it returned; the parent kills it
 * with SIGKILL after a random number of acknowledgements (seeded), reopens the store and checks,
 * for every group, that the log is contiguous, every entry has the payload its index and term call
 * for, and that the state is exactly the one after the last acknowledged write, or after the one
 * write that was in flight. Now and then a group is deleted from the store and started again
 * empty, so kills also land in deletions, which opening must finish. Rounds accumulate on the
 * same directory.
 *
 * <p>{@code -Draft.crash.iterations=N} sets the rounds (20 by default), {@code -Draft.crash.seed}
 * the seed. Runs in about a second per round. A second run has payloads of up to 5 MiB now and
 * then ({@link CrashChild}'s {@code large}), so kills land inside payloads written and read in
 * pieces; {@code -Draft.crash.large.iterations=N} sets its rounds (4 by default).
 */
class CrashConsistencyTest {
    private static final long SEED = Long.getLong("raft.crash.seed", 20261122L);
    private static final int ROUNDS = Integer.getInteger("raft.crash.iterations", 20);
    private static final int LARGE_ROUNDS = Integer.getInteger("raft.crash.large.iterations", 4);
    private static final long TIMEOUT_SECONDS = 120;
    private static final String EOF = "\u0000eof";

    @TempDir
    Path work;
    /** The current round's lines from the child, for failure messages. */
    private final List<String> transcript = new ArrayList<>();
    /** Kills that found a group's deletion under way. */
    private int deletionsInFlight;
    /** Entries whose references a kill took from RocksDB's memtable, found again in the segment files. */
    private long foundInSegmentsOnly;
    /** Kills that found an append of a payload over the 1 MiB write buffer under way. */
    private int multiPieceWritesInFlight;

    @Test
    void everyAcknowledgedWriteSurvivesKillDashNine() throws Exception {
        run(ROUNDS, false);
    }

    @Test
    void everyAcknowledgedWriteOfLargePayloadsSurvivesKillDashNine() throws Exception {
        run(LARGE_ROUNDS, true);
    }

    private void run(int rounds, boolean large) throws Exception {
        Path dataDir = work.resolve("data");
        Path libDir = extractNativeLibrary();
        Map<String, Model> models = new HashMap<>();
        for (String group : CrashChild.GROUPS) {
            models.put(group, new Model());
        }
        SplittableRandom random = new SplittableRandom(SEED);
        int totalAcks = 0;
        int inFlightDurable = 0;
        for (int round = 0; round < rounds; round++) {
            // 1 in 20 rounds kills the child while it is still starting or opening the store.
            int killAfterAcks = random.nextInt(20) == 0 ? -1 : random.nextInt(301);
            long childSeed = SEED * 1000 + round;
            String context = (large ? "large payloads, " : "") + "round " + round + " (seed " + SEED
                    + ", child seed " + childSeed + ", kill after "
                    + killAfterAcks + " acks)";
            totalAcks += runChild(dataDir, libDir, childSeed, killAfterAcks, large, models, context);
            inFlightDurable += verify(dataDir, models, large, context);
        }
        assertTrue(Files.isDirectory(dataDir.resolve(Database.SEGMENTS_DIR)),
                "the children's larger appends should have put payloads in segment files");
        System.out.println("crash consistency" + (large ? " (large payloads)" : "") + ": " + rounds + " rounds, "
                + totalAcks + " acknowledged writes, all"
                + " recovered; " + inFlightDurable + " unacknowledged in-flight writes were found durable too (seed "
                + SEED + "); " + foundInSegmentsOnly + " entries found again in segment files after the kill took"
                + " their references from RocksDB; " + deletionsInFlight + " kills during a group's deletion"
                + (large ? ", " + multiPieceWritesInFlight + " during an append of a payload over 1 MiB" : ""));
    }

    /** Runs one child until {@code killAfterAcks} acknowledgements, kills it, applies what it said. */
    private int runChild(Path dataDir, Path libDir, long seed, int killAfterAcks, boolean large,
                         Map<String, Model> models, String context) throws Exception {
        Path stderr = work.resolve("child-stderr.txt");
        Path transcriptFile = work.resolve("child-" + seed + ".txt");
        ProcessBuilder builder = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Djava.library.path=" + libDir,
                "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), dataDir.toString(), Long.toString(seed), transcriptFile.toString(),
                large ? "large" : "small")
                .redirectError(stderr.toFile());
        builder.environment().put("ROCKSDB_SHAREDLIB_DIR", libDir.toString());
        Process child = builder.start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> pump(child.getInputStream(), lines), "child-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            boolean ready = false;
            int acksSeen = 0;
            while (killAfterAcks >= 0 && (!ready || acksSeen < killAfterAcks)) {
                String line = lines.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                if (line == null || line.equals(EOF)) {
                    fail(context + ": the child " + (line == null ? "went silent" : "exited by itself") + ":\n"
                            + Files.readString(stderr));
                }
                ready |= line.equals("READY .");
                acksSeen += line.startsWith("A ") ? 1 : 0;
            }
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), context + ": child did not die");
            reader.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        }
        // The dead child's complete record of what it announced and what was acknowledged.
        int acks = 0;
        transcript.clear();
        if (Files.exists(transcriptFile)) {
            for (String line : Files.readAllLines(transcriptFile, StandardCharsets.UTF_8)) {
                acks += apply(line, models, context);
            }
        }
        return acks;
    }

    private static void pump(InputStream in, BlockingQueue<String> lines) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lines.add(line);
            }
        } catch (IOException e) {
            // The pipe broke as the child died: the end of its output.
        } finally {
            lines.add(EOF);
        }
    }

    /** Applies one line of the child's output; returns 1 for an acknowledgement. */
    private int apply(String line, Map<String, Model> models, String context) {
        transcript.add(line);
        if (!line.endsWith(" .")) {
            return 0;
        }
        String[] words = line.substring(0, line.length() - 2).split(" ");
        if (words[0].equals("I")) {
            Model model = models.get(words[1]);
            assertNotNull(model, context + ": unknown group in " + line);
            model.pending = Arrays.copyOfRange(words, 3, words.length);
            return 0;
        }
        if (words[0].equals("A")) {
            Model model = models.get(words[1]);
            assertNotNull(model.pending, context + ": ack without intent: " + line);
            model.state = model.state.apply(model.pending);
            model.pending = null;
            return 1;
        }
        return 0;
    }

    /**
     * Reopens the store and checks every group against its model; returns how many groups had
     * their in-flight (announced, unacknowledged) write durable.
     */
    private int verify(Path dataDir, Map<String, Model> models, boolean large, String context) throws RocksDBException {
        int inFlightDurable = 0;
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir)) {
            for (String group : CrashChild.GROUPS) {
                assertNull(store.database.db.get(store.database.meta, Codec.deletionKey(Codec.groupPrefix(group))),
                        group + " " + context + ": opening the store finishes a deletion the kill interrupted");
                Model model = models.get(group);
                if (model.pending != null && model.pending[0].equals("delete")) {
                    deletionsInFlight++;
                }
                if (model.pending != null && carriesMultiPiecePayload(model.pending, large)) {
                    multiPieceWritesInFlight++;
                }
                State actual;
                try (LogStorage log = store.forGroup(group)) {
                    foundInSegmentsOnly += ((RocksDbLogStorage) log).entriesFoundInSegmentsOnly();
                    actual = State.read(log, large, group + " " + context);
                }
                if (actual.equals(model.state)) {
                    model.pending = null;
                    continue;
                }
                State inFlight = model.pending == null ? null : model.state.apply(model.pending);
                if (actual.equals(inFlight)) {
                    model.state = inFlight;
                    model.pending = null;
                    inFlightDurable++;
                    continue;
                }
                fail(group + " " + context + ": recovered state matches neither the last acknowledged write nor"
                        + " the one in flight (" + String.join(" ", model.pending == null ? new String[0] : model.pending)
                        + ")\n  expected " + model.state + "\n  actual   " + actual
                        + (inFlight == null ? "" : "\n  or       " + inFlight)
                        + "\n  the child's last lines:\n    "
                        + String.join("\n    ", transcript.subList(Math.max(0, transcript.size() - 30), transcript.size())));
            }
        }
        return inFlightDurable;
    }

    /** Whether {@code op} is an append with a payload written through the 1 MiB buffer in several pieces. */
    private static boolean carriesMultiPiecePayload(String[] op, boolean large) {
        if (!large || !op[0].equals("append")) {
            return false;
        }
        long first = Long.parseLong(op[1]);
        long term = Long.parseLong(op[3]);
        for (long i = first; i < first + Integer.parseInt(op[2]); i++) {
            if (CrashChild.payload(i, term, true).length > 1 << 20) {
                return true;
            }
        }
        return false;
    }

    /** Copies RocksDB's native library once, so children load it instead of each extracting a copy. */
    private Path extractNativeLibrary() throws IOException {
        Path libDir = Files.createDirectories(work.resolve("native"));
        String name = Environment.getJniLibraryFileName("rocksdb");
        try (InputStream in = org.rocksdb.RocksDB.class.getClassLoader().getResourceAsStream(name)) {
            assertNotNull(in, "no " + name + " in rocksdbjni");
            Files.copy(in, libDir.resolve(name));
        }
        return libDir;
    }

    private static final class Model {
        State state = State.EMPTY;
        /** The words of the write announced but not yet acknowledged, if any. */
        String[] pending;
    }

    /**
     * What a group's log durably holds: the compaction point, the term of each later entry, the
     * hard state. Payloads are checked against {@link CrashChild#payload} as the log is read.
     */
    record State(long compactIndex, long compactTerm, List<Long> terms, HardState hard) {
        static final State EMPTY = new State(0, 0, List.of(), HardState.INITIAL);

        long last() {
            return compactIndex + terms.size();
        }

        State apply(String[] op) {
            List<Long> next = new ArrayList<>(terms);
            switch (op[0]) {
                case "append" -> {
                    long first = Long.parseLong(op[1]);
                    int count = Integer.parseInt(op[2]);
                    long term = Long.parseLong(op[3]);
                    next.subList((int) (first - compactIndex - 1), next.size()).clear();
                    for (int i = 0; i < count; i++) {
                        next.add(term);
                    }
                    HardState newHard = op[4].equals("-") ? hard
                            : new HardState(Long.parseLong(op[4]), op[5].equals("-") ? null : op[5]);
                    return new State(compactIndex, compactTerm, List.copyOf(next), newHard);
                }
                case "hard" -> {
                    return new State(compactIndex, compactTerm, terms,
                            new HardState(Long.parseLong(op[1]), op[2].equals("-") ? null : op[2]));
                }
                case "compact" -> {
                    long index = Long.parseLong(op[1]);
                    if (index <= compactIndex) {
                        return this;
                    }
                    next.subList(0, (int) Math.min(next.size(), index - compactIndex)).clear();
                    return new State(index, Long.parseLong(op[2]), List.copyOf(next), hard);
                }
                case "reset" -> {
                    return new State(Long.parseLong(op[1]), Long.parseLong(op[2]), List.of(), hard);
                }
                case "delete" -> {
                    return EMPTY;
                }
                default -> throw new IllegalArgumentException("unknown op " + op[0]);
            }
        }

        /** Reads a group's whole log, checking contiguity and every payload. */
        static State read(LogStorage log, boolean large, String context) {
            long first = log.firstIndex();
            long last = log.lastIndex();
            List<Long> terms = new ArrayList<>();
            for (long from = first; from <= last; ) {
                List<LogEntry> chunk = log.entries(from, last + 1, 1 << 20);
                for (LogEntry entry : chunk) {
                    assertEquals(from, entry.index(), context + ": log not contiguous");
                    assertEquals(EntryType.COMMAND, entry.type(), context);
                    assertEquals(entry.term(), log.term(from), context + ": term() disagrees with the entry");
                    assertArrayEquals(CrashChild.payload(entry.index(), entry.term(), large),
                            entry.data().toByteArray(), context + ": payload of entry " + from);
                    terms.add(entry.term());
                    from++;
                }
            }
            return new State(first - 1, log.term(first - 1), List.copyOf(terms), log.hardState());
        }

        @Override
        public String toString() {
            return "[compacted " + compactIndex + "@" + compactTerm + ", entries " + (compactIndex + 1) + ".." + last()
                    + (terms.isEmpty() ? "" : " last term " + terms.get(terms.size() - 1)) + ", " + hard + "]";
        }
    }
}

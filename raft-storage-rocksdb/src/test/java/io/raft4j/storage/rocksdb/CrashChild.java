package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogStorage;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The process {@link CrashConsistencyTest} kills: opens a store and, on one thread per group, writes
 * random appends, suffix overwrites, hard states, compactions and resets, and deletes the group,
 * until it is killed.
 *
 * <p>Protocol, one line per event, each ending in {@code " ."} so a torn line is recognisable,
 * written to stdout (the parent's live view, to decide when to kill) and first to the transcript
 * file named by the third argument (the record the parent checks against once the child is dead:
 * the JDK may drop the last bytes in a pipe when the process at the other end dies, a file keeps
 * every completed write):
 * <pre>
 * READY .                                   the store is open
 * I group seq op args... .                  about to write (printed and flushed before the write)
 * A group seq .                             the write returned: it is durable
 * </pre>
 * Ops: {@code append first count term hardTerm vote} ({@code -} for no hard state / no vote),
 * {@code hard term vote}, {@code compact index term}, {@code reset index term}, {@code delete} (the
 * group deleted from the store and opened again, empty). An entry's payload
 * is {@link #payload(long, long, boolean)}, so the parent can check content from index and term alone.
 *
 * <p>A fourth argument {@code large} makes about one payload in 48 large (a size either side of the
 * 256 KiB pieces payloads are read in and of the 1 MiB buffer they are written through, up to
 * 5 MiB) and segment files 4 MiB, so kills land in the middle of multi-piece payload writes.
 *
 * <p>Exits by itself when its stdin closes (the parent died) or after {@link #MAX_OPS} writes.
 */
public final class CrashChild {
    static final List<String> GROUPS = List.of("g1", "group-two");
    private static final int MAX_OPS = 200_000;
    private static final int KIB = 1 << 10;
    private static final int MIB = 1 << 20;
    /** The sizes of the large payloads of {@code large} runs: at and about the piece boundaries. */
    private static final int[] LARGE_SIZES = {256 * KIB - 1, 256 * KIB, 256 * KIB + 1, 768 * KIB, MIB - 1, MIB,
            MIB + 1, 2 * MIB, 3 * MIB + 7, 5 * MIB + 3};

    private static PrintStream out;
    /** Unbuffered: each line is one write(2), complete in the file even if the process dies next. */
    private static FileOutputStream transcript;

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        transcript = new FileOutputStream(args[2], true);
        boolean large = args.length > 3 && args[3].equals("large");
        out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        Thread watchdog = new Thread(CrashChild::exitWhenParentGoes, "stdin-watch");
        watchdog.setDaemon(true);
        watchdog.start();

        RocksDbLogStore store = RocksDbLogStore.open(dataDir,
                new RocksDbLogStore.Settings(64 << 10, 8 << 20, 4 << 20)
                        // Payloads of 100+ bytes go to 64 KiB segment files when a write has 2 KiB of them:
                        // most appends of the larger kind (a quarter of them), so crashes hit both paths and
                        // roll-overs (4 MiB files with large payloads, which a 5 MiB one fills alone).
                        .withSegments(100, 2048, large ? 4 << 20 : 64 << 10));
        List<Thread> writers = new ArrayList<>();
        for (int g = 0; g < GROUPS.size(); g++) {
            String group = GROUPS.get(g);
            LogStorage log = store.forGroup(group);
            SplittableRandom random = new SplittableRandom(seed * 31 + g);
            writers.add(new Thread(() -> writeUntilKilled(store, group, log, random, large), "writer-" + group));
        }
        emit("READY");
        writers.forEach(Thread::start);
        for (Thread writer : writers) {
            writer.join();
        }
        store.close();
    }

    private static void writeUntilKilled(RocksDbLogStore store, String group, LogStorage opened,
                                         SplittableRandom random, boolean large) {
        LogStorage log = opened;
        long term = Math.max(log.hardState().term(), log.term(log.lastIndex()));
        for (int seq = 0; seq < MAX_OPS; seq++) {
            long first = log.firstIndex();
            long last = log.lastIndex();
            int op = random.nextInt(100);
            if (op < 70) {
                long from = last + 1;
                String hardTerm = "-";
                String vote = "-";
                if (op < 10 && last >= first) {
                    // A follower's log overwritten by a new leader: higher term, suffix replaced.
                    from = Math.max(first, last - random.nextInt(8));
                    term++;
                    hardTerm = Long.toString(term);
                    vote = "n" + random.nextInt(3);
                }
                int count = 1 + random.nextInt(random.nextInt(4) == 0 ? 64 : 8);
                emit("I " + group + " " + seq + " append " + from + " " + count + " " + term + " " + hardTerm + " " + vote);
                List<LogEntry> entries = new ArrayList<>(count);
                for (long i = from; i < from + count; i++) {
                    entries.add(LogEntry.command(i, term, Bytes.wrap(payload(i, term, large))));
                }
                log.append(entries, hardTerm.equals("-") ? null : new HardState(term, vote));
            } else if (op < 80) {
                term++;
                String vote = random.nextBoolean() ? "-" : "n" + random.nextInt(3);
                emit("I " + group + " " + seq + " hard " + term + " " + vote);
                log.append(List.of(), new HardState(term, vote.equals("-") ? null : vote));
            } else if (op < 95) {
                long index = Math.max(first - 1, last - random.nextInt(200));
                long indexTerm = log.term(index);
                emit("I " + group + " " + seq + " compact " + index + " " + indexTerm);
                log.compact(index, indexTerm);
            } else if (op < 97) {
                long index = last + random.nextInt(4);
                emit("I " + group + " " + seq + " reset " + index + " " + term);
                log.reset(index, term);
            } else if (op < 99) {
                // The group deleted for good while the other writes on, and started again empty.
                emit("I " + group + " " + seq + " delete");
                log.close();
                store.deleteGroup(group);
                log = store.forGroup(group);
            } else {
                continue;
            }
            emit("A " + group + " " + seq);
        }
    }

    /**
     * The payload of the entry at {@code index} written in {@code term}: 0..299 bytes, or if
     * {@code large}, one in 48 of the {@link #LARGE_SIZES}.
     */
    static byte[] payload(long index, long term, boolean large) {
        SplittableRandom random = new SplittableRandom(index * 1_000_003L + term);
        int size = random.nextInt(300);
        if (large && random.nextInt(48) == 0) {
            size = LARGE_SIZES[random.nextInt(LARGE_SIZES.length)];
        }
        byte[] data = new byte[size];
        random.nextBytes(data);
        return data;
    }

    /** One line, written with a single flush so lines from the two writers never interleave. */
    private static synchronized void emit(String line) {
        byte[] bytes = (line + " .\n").getBytes(StandardCharsets.UTF_8);
        try {
            transcript.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write(bytes, 0, bytes.length);
        out.flush();
    }

    private static void exitWhenParentGoes() {
        try {
            while (System.in.read() >= 0) {
                // Nothing is sent; only the end of the stream matters.
            }
        } catch (IOException e) {
            // Treated like the end of the stream.
        }
        Runtime.getRuntime().halt(3);
    }
}

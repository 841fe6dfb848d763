package io.raft4j.storage.rocksdb;

import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Groups whose ids are prefixes of one another, hold separator-like or non-ASCII characters, or
 * are as long as a key allows, share one store: every write one group makes (append, replace,
 * compact, reset, owner) leaves every other group exactly as it was, also once reopened. Payloads
 * are large enough in one write to go to segment files, which live per group as well.
 */
class GroupIsolationTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;
    private static final List<String> GROUPS = List.of("g", "g1", "g10", "g\u00001", "g/1", "g:1", "g1/",
            "\u00e9", "\u00e9\u00e9", "g\uD83D\uDE00", "x".repeat(255), "x".repeat(254), "\u00e9".repeat(127),
            "\u00ff".repeat(127) + "x");
    private static final RocksDbLogStore.Settings SEGMENTING =
            new RocksDbLogStore.Settings(1 << 10, 1 << 20, 1 << 20).withSegments(64, 256, 4096);

    @TempDir
    Path dataDir;

    @Test
    void noWriteOfOneGroupTouchesAnother() {
        List<Consumer<LogStorage>> operations = List.of(
                log -> log.append(entries(log, 31, 40, 3), new HardState(3, "n2")),
                log -> log.append(entries(log, 12, 15, 4), null),          // replaces 12.. (inside a chunk)
                log -> log.compact(7, 1),
                log -> log.compact(lastIndexOf(log), termOf(log)),         // the whole log
                log -> log.reset(100, 9),
                log -> log.recordOwner(new LogOwner("other", "n9")));
        Map<String, String> expected = fill();
        for (String target : GROUPS) {
            for (Consumer<LogStorage> operation : operations) {
                try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING);
                     LogStorage log = store.forGroup(target)) {
                    operation.accept(log);
                }
                Map<String, String> now = snapshot();
                expected.put(target, now.get(target));
                assertEquals(expected, now, "writing to group " + printable(target));
            }
        }
    }

    /** Writes entries 1..30 (term 1), a hard state and an owner to every group. */
    private Map<String, String> fill() {
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            for (String group : GROUPS) {
                try (LogStorage log = store.forGroup(group)) {
                    log.append(entries(group, 1, 30, 1), new HardState(1, group));
                    log.recordOwner(new LogOwner(group, "n1"));
                }
            }
        }
        return snapshot();
    }

    /** Every group's whole content, read back from a reopened store. */
    private Map<String, String> snapshot() {
        Map<String, String> content = new LinkedHashMap<>();
        try (RocksDbLogStore store = RocksDbLogStore.open(dataDir, SEGMENTING)) {
            for (String group : GROUPS) {
                try (LogStorage log = store.forGroup(group)) {
                    content.put(group, log.firstIndex() + ".." + log.lastIndex() + " " + log.hardState() + " "
                            + log.owner() + " " + log.entries(log.firstIndex(), log.lastIndex() + 1, NO_LIMIT));
                }
            }
        }
        return content;
    }

    private static Map<String, String> withoutTarget(Map<String, String> content, String target) {
        Map<String, String> rest = new LinkedHashMap<>(content);
        rest.remove(target);
        return rest;
    }

    private static long lastIndexOf(LogStorage log) {
        return log.lastIndex();
    }

    private static long termOf(LogStorage log) {
        return log.term(log.lastIndex());
    }

    private static List<LogEntry> entries(LogStorage log, long from, long to, long term) {
        return entries(((RocksDbLogStorage) log).groupId(), from, to, term);
    }

    /** Entries whose payloads name their group and index, every third one large. */
    private static List<LogEntry> entries(String group, long from, long to, long term) {
        List<LogEntry> list = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            String text = group + "#" + i + (i % 3 == 0 ? "-".repeat(200) : "");
            list.add(LogEntry.command(i, term, Bytes.ofUtf8(text)));
        }
        return list;
    }

    private static String printable(String id) {
        return id.length() > 20 ? id.substring(0, 20) + "...(" + id.length() + ")" : id.replace("\u0000", "\\0");
    }
}

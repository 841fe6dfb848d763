package io.raft4j.core;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** How a membership change ended, read from the configuration history. */
class ConfigHistoryTest {
    private static final ClusterConfig AB = ClusterConfig.ofVoters(Set.of("a", "b"));
    private static final ClusterConfig ABC = ClusterConfig.ofVoters(Set.of("a", "b", "c"));
    private static final ClusterConfig ABCD = ClusterConfig.ofVoters(Set.of("a", "b", "c", "d"));

    @Test
    void theOutcomeOfAChangeIsTheFirstSimpleConfigurationFromItsStart() {
        ConfigHistory history = new ConfigHistory(AB, 0);
        ClusterConfig joint = new ClusterConfig(Set.of("a", "b", "c"), Set.of(), Set.of("a", "b"), java.util.Map.of());
        history.onAppended(List.of(config(5, joint), config(6, ABC), config(9, ABCD)));
        assertEquals(ABC, history.firstSimpleBetween(5, 9), "the joint step is skipped, the next change ignored");
        assertEquals(ABCD, history.firstSimpleBetween(7, 9));
        assertNull(history.firstSimpleBetween(5, 5), "only the joint step is committed");
        assertNull(history.firstSimpleBetween(10, 12));
        history.compactTo(6, ABC);
        assertNull(history.firstSimpleBetween(5, 9), "a change older than the compaction point is not known");
    }

    private static LogEntry config(long index, ClusterConfig c) {
        return new LogEntry(index, 2, EntryType.CONFIG, c.encode());
    }
}

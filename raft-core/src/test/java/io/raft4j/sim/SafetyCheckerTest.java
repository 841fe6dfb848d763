package io.raft4j.sim;

import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checker's own rules, on hand-built logs: what it must flag, and the legal histories it must
 * let through (a checker that cries wolf hides real failures among false ones).
 */
class SafetyCheckerTest {

    /** A log of {@code terms.length} entries, entry {@code i + 1} in {@code terms[i]}. */
    private static LogMirror log(long... terms) {
        List<LogEntry> entries = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            entries.add(LogEntry.command(i + 1, terms[i], Bytes.wrap(new byte[] {(byte) i})));
        }
        LogMirror mirror = new LogMirror(0, 0);
        mirror.write(entries);
        return mirror;
    }

    @Test
    void aLeaderOfALaterTermMustHoldWhatEarlierTermsCommitted() {
        SafetyChecker checker = new SafetyChecker();
        checker.onCommitted("n1", 2, log(1, 2, 2), 0, 3);
        assertLacksCommitted(() -> checker.onLeader("n2", 3, log(1, 2)));
    }

    /**
     * Seed 3017743 of the 3-node simulation, in miniature: n2 campaigns in term 7 and collects its
     * last vote (cast in term 7, delivered late) after term 8's leader committed index 3. n2 is a
     * legal leader of term 7 without that entry: leader completeness is about earlier terms only.
     */
    @Test
    void aStaleLeaderNeedNotHoldWhatALaterTermCommitted() {
        SafetyChecker checker = new SafetyChecker();
        checker.onCommitted("n1", 6, log(6, 6), 0, 2);
        checker.onCommitted("n3", 8, log(6, 6, 8), 2, 3);
        assertDoesNotThrow(() -> checker.onLeader("n2", 7, log(6, 6, 7)));
        // ... but a leader of term 9 must hold it, and one of term 8 what term 6 committed.
        assertLacksCommitted(() -> checker.onLeader("n4", 9, log(6, 6, 7)));
        assertLacksCommitted(() -> checker.onLeader("n5", 8, log(6)));
    }

    private static void assertLacksCommitted(Executable check) {
        SafetyChecker.Violation v = assertThrows(SafetyChecker.Violation.class, check);
        assertTrue(v.getMessage().contains("leader completeness"), v.getMessage());
    }
}

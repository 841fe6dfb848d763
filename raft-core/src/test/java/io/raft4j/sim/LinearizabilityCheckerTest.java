package io.raft4j.sim;

import io.raft4j.sim.LinearizabilityChecker.Read;
import io.raft4j.sim.LinearizabilityChecker.Write;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.raft4j.sim.LinearizabilityChecker.NOT_ACKNOWLEDGED;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulation's linearizability check on small hand-made histories: each kind of history that is
 * not linearizable must be flagged (a check that cannot fail proves nothing about the reads of a
 * run), and the legal overlaps of concurrent operations must pass.
 */
class LinearizabilityCheckerTest {

    @Test
    void aReadThatMissesAWriteAcknowledgedBeforeItBeganIsStale() {
        // Write at index 3 acknowledged at t=10; a read invoked at t=20 returns 2: a stale leader's answer.
        assertFlagged("acknowledged before it",
                List.of(new Write(0, 10, 3)), List.of(new Read(20, 30, 2)));
    }

    @Test
    void aReadThatSeesAWriteInvokedAfterItEndedReadTheFuture() {
        // The read ended at t=10 having seen index 3, which a client only proposed at t=15.
        assertFlagged("invoked later",
                List.of(new Write(15, 40, 3)), List.of(new Read(0, 10, 3)));
    }

    @Test
    void aReadReturningLessThanAnEarlierReadWentBackInTime() {
        // No write was acknowledged (the first check is silent): only the order of the reads shows it.
        assertFlagged("after a read that ended earlier",
                List.of(new Write(0, NOT_ACKNOWLEDGED, 5)), List.of(new Read(0, 10, 5), new Read(20, 30, 4)));
    }

    @Test
    void aWriteInvokedAfterAnotherWasAcknowledgedMustComeAfterItInTheLog() {
        assertFlagged("of a write acknowledged before it",
                List.of(new Write(0, 10, 5), new Write(20, 30, 4)), List.of());
    }

    @Test
    void concurrentOperationsMayBeOrderedEitherWay() {
        List<Write> writes = List.of(new Write(0, 10, 1), new Write(5, 50, 2), new Write(60, NOT_ACKNOWLEDGED, 3));
        List<Read> reads = List.of(
                new Read(12, 20, 1),  // after write 1, before or during write 2: may miss it
                new Read(15, 55, 2),  // overlaps write 2's whole span: may see it
                new Read(56, 58, 2),  // after write 2 acknowledged, before write 3 invoked
                new Read(59, 70, 3),  // overlaps write 3, never acknowledged but committed: may see it
                new Read(71, 80, 3)); // once one read saw it, later ones must too, and do
        assertDoesNotThrow(() -> LinearizabilityChecker.check(writes, reads));
    }

    @Test
    void overlappingReadsMayReturnInEitherOrder() {
        // The second read began before the first ended: the order between them is free.
        assertDoesNotThrow(() -> LinearizabilityChecker.check(List.of(new Write(0, 100, 2)),
                List.of(new Read(0, 30, 2), new Read(20, 40, 1))));
    }

    private static void assertFlagged(String why, List<Write> writes, List<Read> reads) {
        AssertionError e = assertThrows(AssertionError.class, () -> LinearizabilityChecker.check(writes, reads));
        assertTrue(e.getMessage().startsWith("linearizability: ") && e.getMessage().contains(why), e.getMessage());
    }
}

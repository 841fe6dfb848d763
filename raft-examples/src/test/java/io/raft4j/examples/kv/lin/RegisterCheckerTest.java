package io.raft4j.examples.kv.lin;

import io.raft4j.examples.kv.lin.Op.Outcome;
import io.raft4j.examples.kv.lin.RegisterChecker.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The linearizability checker on small hand-made histories whose verdict is known, and on random
 * small histories against an exhaustive search over every order (the reference). Times are plain
 * numbers: an operation [invoke, complete] precedes another iff it completed before the other began.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RegisterCheckerTest {
    private static final String K = "k";
    private static final long NEVER = 0; // complete time of an op with an unknown outcome (ignored)

    private final RegisterChecker checker = new RegisterChecker(2_000_000);

    private static Op w(String v, long from, long to) {
        return Op.write(0, K, v, Outcome.OK, from, to);
    }

    private static Op wInfo(String v, long from) {
        return Op.write(0, K, v, Outcome.INFO, from, NEVER);
    }

    private static Op r(String v, long from, long to) {
        return Op.read(0, K, v, from, to);
    }

    private static Op cas(String expected, String v, boolean applied, long from, long to) {
        return Op.cas(0, K, expected, v, applied, from, to);
    }

    private Verdict check(Op... ops) {
        return checker.check(K, List.of(ops)).verdict();
    }

    private void assertLinearizable(Op... ops) {
        assertEquals(Verdict.LINEARIZABLE, check(ops));
    }

    private void assertViolation(Op... ops) {
        assertEquals(Verdict.NOT_LINEARIZABLE, check(ops));
    }

    @Test
    void emptyAndSequentialHistoriesAreLinearizable() {
        assertLinearizable();
        assertLinearizable(r(null, 0, 1), w("a", 2, 3), r("a", 4, 5), cas("a", "b", true, 6, 7), r("b", 8, 9),
                cas("a", "c", false, 10, 11), r("b", 12, 13));
    }

    @Test
    void staleReadAfterACompletedWriteIsAViolation() {
        assertViolation(w("a", 0, 1), w("b", 2, 3), r("a", 4, 5));
        assertViolation(w("a", 0, 1), r(null, 2, 3));
    }

    @Test
    void readOfAValueNeverWrittenIsAViolation() {
        assertViolation(r("x", 0, 1));
        assertViolation(w("a", 0, 1), r("x", 2, 3));
    }

    @Test
    void aCompareAndSetThatSucceededTwiceFromTheSameValueIsAViolation() {
        assertViolation(w("a", 0, 1), cas("a", "b", true, 2, 5), cas("a", "c", true, 3, 6));
        // Once only is fine, whichever of the two it was.
        assertLinearizable(w("a", 0, 1), cas("a", "b", true, 2, 5), cas("a", "c", false, 3, 6));
        assertLinearizable(w("a", 0, 1), cas("a", "b", false, 2, 5), cas("a", "c", true, 3, 6));
    }

    @Test
    void aCompareAndSetMustSeeTheRegisterAsItWas() {
        // Refused although the register held what it expected.
        assertViolation(w("a", 0, 1), cas("a", "b", false, 2, 3));
        // Applied on an absent key.
        assertViolation(cas("a", "b", true, 0, 1));
        assertLinearizable(cas("a", "b", false, 0, 1), r(null, 2, 3));
        // A refused one changes nothing.
        assertViolation(w("x", 0, 1), cas("a", "b", false, 2, 3), r("b", 4, 5));
    }

    @Test
    void concurrentOperationsMayTakeEffectInEitherOrder() {
        assertLinearizable(w("a", 0, 10), r("a", 1, 2));
        assertLinearizable(w("a", 0, 10), r(null, 1, 2));
        assertLinearizable(w("a", 0, 10), w("b", 0, 10), r("a", 11, 12));
        assertLinearizable(w("a", 0, 10), w("b", 0, 10), r("b", 11, 12));
        // But one order for all: a then b then a again is impossible with unique values.
        assertViolation(w("a", 0, 10), w("b", 0, 10), r("a", 11, 12), r("b", 13, 14), r("a", 15, 16));
        // Reads that overlap each other but not the writes see the same order.
        assertLinearizable(w("a", 0, 10), w("b", 1, 11), r("a", 2, 20), r("b", 3, 21), r("b", 22, 23));
        assertViolation(w("a", 0, 10), w("b", 1, 11), r("a", 12, 20), r("b", 12, 21), r("a", 22, 23));
    }

    @Test
    void operationsThatOnlyTouchAreConcurrent() {
        // Equal times: the checker must not claim the write completed before the read began.
        assertLinearizable(w("a", 0, 5), w("b", 6, 10), r("a", 10, 11));
        assertViolation(w("a", 0, 5), w("b", 6, 10), r("a", 11, 12));
    }

    @Test
    void aWriteOfUnknownOutcomeMayTakeEffectLaterOrNever() {
        assertLinearizable(wInfo("a", 0), r(null, 1, 2), r("a", 10, 11));
        assertLinearizable(wInfo("a", 0), r(null, 1, 2), r(null, 10, 11));
        assertLinearizable(w("a", 0, 1), wInfo("b", 2), r("a", 3, 4), w("c", 5, 6), r("b", 7, 8));
        // Never before its invocation,
        assertViolation(r("a", 0, 1), wInfo("a", 2));
        // and only once: it cannot be undone.
        assertViolation(w("a", 0, 1), wInfo("b", 2), r("b", 3, 4), r("a", 5, 6));
        // A refused write never takes effect.
        assertViolation(Op.write(0, K, "a", Outcome.FAIL, 0, 1), r("a", 2, 3));
    }

    @Test
    void aCompareAndSetOfUnknownOutcomeAppliesOnlyFromItsExpectedValue() {
        assertLinearizable(w("a", 0, 1), Op.cas(0, K, "a", "b", Outcome.INFO, 2, NEVER), r("b", 3, 4));
        assertLinearizable(w("a", 0, 1), Op.cas(0, K, "a", "b", Outcome.INFO, 2, NEVER), r("a", 3, 4));
        assertViolation(w("x", 0, 1), Op.cas(0, K, "a", "b", Outcome.INFO, 2, NEVER), r("b", 3, 4));
        // A refused compare-and-set is explained by an unknown write that took effect before it.
        assertLinearizable(w("a", 0, 1), wInfo("x", 2), cas("a", "b", false, 3, 4));
        assertViolation(w("a", 0, 1), cas("a", "b", false, 3, 4), wInfo("x", 5));
    }

    /**
     * Writes of unknown outcome never read are interchangeable, and the checker places only the
     * earliest of them: a later one, invoked after the refused compare-and-set completed, must not
     * stand in the way of the earlier one that explains it.
     */
    @Test
    void interchangeableWritesOfUnknownOutcomeAreTakenEarliestFirst() {
        assertLinearizable(w("a", 0, 1), wInfo("x", 2), cas("a", "b", false, 3, 4), wInfo("y", 5));
        assertLinearizable(w("a", 0, 1), wInfo("x", 2), wInfo("y", 2), cas("a", "b", false, 3, 4), r("y", 5, 6));
        assertViolation(w("a", 0, 1), cas("a", "b", false, 3, 4), wInfo("x", 5), wInfo("y", 6));
    }

    @Test
    void readsWithoutAnAnswerAreIgnored() {
        Op lostRead = new Op(0, K, Op.Kind.READ, "zzz", null, false, Outcome.INFO, 0, NEVER, "");
        assertLinearizable(lostRead, w("a", 1, 2), r("a", 3, 4));
    }

    /**
     * Many writes of unknown outcome that no one read, then a violation: without treating them as
     * interchangeable the search would try each of their 2^30 subsets before saying so.
     */
    @Test
    void manyUnreadWritesOfUnknownOutcomeDoNotBlowUpTheSearch() {
        List<Op> ops = new ArrayList<>(List.of(w("a", 0, 1)));
        for (int i = 0; i < 30; i++) {
            ops.add(Op.write(i, K, "lost" + i, Outcome.INFO, 2 + i, NEVER));
        }
        ops.add(w("b", 100, 101));
        ops.add(r("a", 102, 103));
        RegisterChecker.Result result = checker.check(K, ops);
        assertEquals(Verdict.NOT_LINEARIZABLE, result.verdict());
        assertEquals(ops.get(ops.size() - 1), result.stuckAt());

        ops.remove(ops.size() - 1);
        ops.add(r("lost7", 102, 103));
        assertEquals(Verdict.LINEARIZABLE, checker.check(K, ops).verdict());
    }

    @Test
    void aLongHistoryIsCheckedQuickly() {
        SplittableRandom random = new SplittableRandom(7);
        List<Op> ops = new RegisterSimulation(random, 5, 0.1).run(20_000);
        RegisterChecker.Result result = checker.check(K, ops);
        assertEquals(Verdict.LINEARIZABLE, result.verdict(), () -> String.valueOf(result));
    }

    @Test
    void theViolationNamesTheOperationAndWhatTheRegisterCouldHold() {
        Op stale = r("a", 4, 5);
        RegisterChecker.Result result = checker.check(K, List.of(w("a", 0, 1), w("b", 2, 3), stale));
        assertEquals(stale, result.stuckAt());
        assertEquals(Set.of("b"), result.possibleValues());
        String excerpt = Excerpt.of(result, List.of(w("a", 0, 1), w("b", 2, 3), stale), 0);
        assertTrue(excerpt.contains(">>") && excerpt.contains("read=a") && excerpt.contains("write(b)=ok"), excerpt);
    }

    /**
     * Random small histories, linearizable (simulated) and not (a simulated one with one answer
     * changed), against the exhaustive reference: the verdicts agree on every one.
     */
    @Test
    void agreesWithAnExhaustiveSearchOnRandomSmallHistories() {
        SplittableRandom random = new SplittableRandom(20261201);
        int violations = 0;
        for (int i = 0; i < 4000; i++) {
            List<Op> ops = new RegisterSimulation(random, 1 + random.nextInt(4), 0.25).run(2 + random.nextInt(8));
            if (random.nextBoolean()) {
                ops = RegisterSimulation.corrupt(ops, random);
            }
            boolean expected = Exhaustive.linearizable(ops);
            violations += expected ? 0 : 1;
            List<Op> history = ops;
            Verdict verdict = expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE;
            assertEquals(verdict, checker.check(K, ops).verdict(), () -> "history " + history);
            // Each kind of memo alone (check confirms a violation found with fingerprints exactly).
            assertEquals(verdict, checker.search(K, ops, false).verdict(), () -> "fingerprints, history " + history);
            assertEquals(verdict, checker.search(K, ops, true).verdict(), () -> "exact keys, history " + history);
        }
        assertTrue(violations > 500, "the random histories hold too few violations to tell: " + violations);
    }

    @Test
    void aLongHistoryIsCheckedQuicklyWithExactKeysToo() {
        List<Op> ops = new RegisterSimulation(new SplittableRandom(8), 5, 0.1).run(20_000);
        assertEquals(Verdict.LINEARIZABLE, checker.search(K, ops, true).verdict());
    }

    /** Whatever the order of adds and removes, two keys are equal exactly when the sets are. */
    @Test
    void placedOpsExactKeysTellSetsApart() {
        SplittableRandom random = new SplittableRandom(11);
        PlacedOps placed = new PlacedOps(48);
        BitSet reference = new BitSet();
        Map<Object, BitSet> seen = new HashMap<>();
        Map<Object, BitSet> fingerprints = new HashMap<>();
        for (int i = 0; i < 50_000; i++) {
            int id = random.nextInt(48);
            if (reference.get(id)) {
                placed.remove(id);
                reference.clear(id);
            } else {
                placed.add(id);
                reference.set(id);
            }
            BitSet before = seen.putIfAbsent(placed.exactKey(7), (BitSet) reference.clone());
            if (before != null) {
                assertEquals(before, reference, "one key for two sets");
            }
            before = fingerprints.putIfAbsent(placed.fingerprint(7), (BitSet) reference.clone());
            if (before != null) {
                assertEquals(before, reference, "one fingerprint for two sets");
            }
        }
        // As many keys as distinct sets seen: equal sets got equal keys.
        assertEquals(seen.size(), new HashSet<>(seen.values()).size());
        assertEquals(fingerprints.size(), seen.size());
    }

    /** Every order of the operations that respects real time, by brute force, on the raw values. */
    static final class Exhaustive {
        static boolean linearizable(List<Op> history) {
            List<Op> ops = history.stream().filter(Op::checked).toList();
            return search(ops, new boolean[ops.size()], null);
        }

        private static boolean search(List<Op> ops, boolean[] placed, String state) {
            boolean okLeft = false;
            long firstCompletion = Long.MAX_VALUE;
            for (int i = 0; i < ops.size(); i++) {
                if (!placed[i] && ops.get(i).outcome() == Outcome.OK) {
                    okLeft = true;
                    firstCompletion = Math.min(firstCompletion, ops.get(i).completeNanos());
                }
            }
            if (!okLeft) {
                return true; // the operations of unknown outcome left never take effect
            }
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                // Next only if no unplaced operation completed before it was invoked.
                if (placed[i] || op.invokeNanos() > firstCompletion) {
                    continue;
                }
                String after;
                boolean possible;
                switch (op.kind()) {
                    case READ -> {
                        possible = Objects.equals(state, op.value());
                        after = state;
                    }
                    case WRITE -> {
                        possible = true;
                        after = op.value();
                    }
                    default -> {
                        boolean matches = Objects.equals(state, op.expected());
                        boolean applied = op.outcome() == Outcome.INFO || op.applied();
                        possible = applied == matches;
                        after = applied ? op.value() : state;
                    }
                }
                if (possible) {
                    placed[i] = true;
                    boolean found = search(ops, placed, after);
                    placed[i] = false;
                    if (found) {
                        return true;
                    }
                }
            }
            return false;
        }
    }
}

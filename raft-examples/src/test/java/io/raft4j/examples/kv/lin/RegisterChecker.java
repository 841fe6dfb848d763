package io.raft4j.examples.kv.lin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides whether the history of one register (read, write, compare-and-set; initially absent) is
 * linearizable: whether every operation can be given a point between its invocation and its
 * completion such that, taken in that order, each one's answer is what a single register gives.
 *
 * <p>The search is Wing and Gong's, with Lowe's memoization (as in Porcupine): the calls and returns,
 * sorted by time, form a list; the search linearizes a call that is not preceded by any return still
 * in the list (an operation may be placed there only if nothing that completed before it was invoked
 * is still unplaced), lifts it out, and starts over; reaching a return means the state cannot explain
 * that operation in time, and it backtracks. A configuration (the set placed so far, the register's
 * value) reached before is not explored twice: the rest of the search depends only on it.
 * Configurations are remembered by fingerprint ({@link PlacedOps}); two with one fingerprint, as
 * unlikely as that is, could only make the search miss an order and report a violation that is not
 * one, so a violation is confirmed by searching again with exact keys.
 *
 * <p>An operation with an unknown outcome ({@link Op.Outcome#INFO}) has no return: it may be placed
 * anywhere after its invocation, or nowhere (it never took effect); the history is linearizable once
 * only such operations are left. Refused operations and reads without an answer are left out.
 *
 * <p>Two reductions keep it fast without changing the verdict. Values that no read returned and no
 * compare-and-set expected are indistinguishable to every operation of the history, so they are all
 * one value here (written values are unique, so most writes become alike). And operations of unknown
 * outcome with the same effect (writes of such values, say) are interchangeable once invoked: only
 * the earliest one not yet placed may be placed next. Without this, k writes that timed out and were
 * never read would let the search try each of their 2^k subsets.
 */
public final class RegisterChecker {
    public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN }

    /**
     * What the check found. For a violation: {@code stuckAt} is the operation no order explains (the
     * one at which the deepest search got stuck), {@code possibleValues} the register's values the
     * search reached just before it, and {@code lastPlaced} the operations it had placed last, in order.
     */
    public record Result(Verdict verdict, String key, int opsChecked, long configurations, Op stuckAt,
                         Set<String> possibleValues, List<Op> lastPlaced) {
    }

    private static final int NIL = 0;
    private static final int UNOBSERVED_ID = 1;
    private static final int LAST_PLACED_SHOWN = 8;
    private static final int MAX_VALUES_SHOWN = 8;

    private final long maxConfigurations;

    /** A checker that gives up (verdict UNKNOWN) after exploring {@code maxConfigurations}. */
    public RegisterChecker(long maxConfigurations) {
        this.maxConfigurations = maxConfigurations;
    }

    public RegisterChecker() {
        this(20_000_000L);
    }

    /** Checks the operations of one key (those of other keys must not be passed). */
    public Result check(String key, List<Op> history) {
        Result result = search(key, history, false);
        return result.verdict() == Verdict.NOT_LINEARIZABLE ? search(key, history, true) : result;
    }

    /** One search, configurations remembered {@code exact}ly or by fingerprint (tests try each alone). */
    Result search(String key, List<Op> history, boolean exact) {
        return new Search(key, checked(history), exact).run();
    }

    /** The operations to explain, ids in invocation order (what keeps PlacedOps's exact keys small). */
    private static List<Op> checked(List<Op> history) {
        return history.stream().filter(Op::checked).sorted(Comparator.comparingLong(Op::invokeNanos)).toList();
    }

    /** An operation as the search sees it: its values as ids, and how it changes the register. */
    private record Step(Op op, Op.Kind kind, boolean info, boolean notApplied, int in, int out) {
        /** The register's value after it from {@code state}, or -1 if it cannot happen in that state. */
        int apply(int state) {
            return switch (kind) {
                case READ -> state == in ? state : -1;
                case WRITE -> out;
                // A compare-and-set that answered nil saw another value, and changed nothing.
                case CAS -> notApplied ? (state != in ? state : -1) : (state == in ? out : -1);
            };
        }

        /** Operations of unknown outcome with equal effects change the register alike in every state. */
        Effect effect() {
            return new Effect(kind, in, out);
        }
    }

    private record Effect(Op.Kind kind, int in, int out) {
    }

    /** A call or a return in the time-ordered list; calls of unknown outcome have no return. */
    private static final class Entry {
        final int id;
        final Step step;
        final int position;
        Entry match;     // a call's return, a return's call
        Entry prev;
        Entry next;

        Entry(int id, Step step, int position) {
            this.id = id;
            this.step = step;
            this.position = position;
        }

        boolean isCall() {
            return match == null || match.position > position;
        }
    }


    private record Placed(Entry call, int stateBefore) {
    }

    private final class Search {
        final String key;
        final List<Op> ops;
        /** Whether configurations are remembered exactly, or by their fingerprints. */
        final boolean exact;
        final Map<String, Integer> ids = new HashMap<>();
        final Entry head = new Entry(-1, null, -1);
        /** Per effect, the positions of the calls of unknown outcome not placed yet. */
        final Map<Effect, TreeSet<Integer>> unplacedInfo = new HashMap<>();

        Search(String key, List<Op> ops, boolean exact) {
            this.key = key;
            this.ops = ops;
            this.exact = exact;
        }

        Result run() {
            numberValues();
            buildList();
            PlacedOps placed = new PlacedOps(ops.size());
            Set<Object> seen = new HashSet<>();
            List<Placed> stack = new ArrayList<>();
            int state = NIL;
            long configurations = 0;
            int deepest = -1;
            Entry stuck = null;
            Set<String> stuckValues = new LinkedHashSet<>();
            List<Op> stuckPrefix = List.of();
            Entry entry = head.next;
            while (entry != null) {
                if (entry.isCall()) {
                    int after = canBePlacedNow(entry) ? entry.step.apply(state) : -1;
                    if (after >= 0) {
                        placed.add(entry.id);
                        if (seen.add(exact ? placed.exactKey(after) : placed.fingerprint(after))) {
                            if (++configurations > maxConfigurations) {
                                return new Result(Verdict.UNKNOWN, key, ops.size(), configurations, null, Set.of(), List.of());
                            }
                            stack.add(new Placed(entry, state));
                            state = after;
                            lift(entry);
                            entry = head.next;
                            continue;
                        }
                        placed.remove(entry.id);
                    }
                    entry = entry.next;
                } else {
                    // This operation completed before anything still in the list was invoked, and
                    // no value reachable so far lets it be placed: undo the last placement.
                    if (stack.size() > deepest) {
                        deepest = stack.size();
                        stuck = entry;
                        stuckValues.clear();
                        stuckPrefix = stack.subList(Math.max(0, stack.size() - LAST_PLACED_SHOWN), stack.size()).stream()
                                .map(p -> p.call().step.op()).toList();
                    }
                    if (stack.size() == deepest && entry == stuck && stuckValues.size() < MAX_VALUES_SHOWN) {
                        stuckValues.add(concreteValue(stack));
                    }
                    if (stack.isEmpty()) {
                        return new Result(Verdict.NOT_LINEARIZABLE, key, ops.size(), configurations, stuck.step.op(),
                                stuckValues, stuckPrefix);
                    }
                    Placed top = stack.remove(stack.size() - 1);
                    state = top.stateBefore();
                    placed.remove(top.call().id);
                    unlift(top.call());
                    entry = top.call().next;
                }
            }
            return new Result(Verdict.LINEARIZABLE, key, ops.size(), configurations, null, Set.of(), List.of());
        }

        /**
         * The value the register holds after the placed operations, as written (the search knows
         * values nobody read only as one value): the last one placed that set it.
         */
        private String concreteValue(List<Placed> stack) {
            for (int i = stack.size() - 1; i >= 0; i--) {
                Step step = stack.get(i).call().step;
                if (step.kind() == Op.Kind.WRITE || (step.kind() == Op.Kind.CAS && !step.notApplied())) {
                    return step.op().value();
                }
            }
            return "nil";
        }

        /** Ids for the values some operation compares with; every other value is {@link #UNOBSERVED_ID}. */
        private void numberValues() {
            for (Op op : ops) {
                if (op.kind() == Op.Kind.READ && op.value() != null) {
                    id(op.value());
                } else if (op.kind() == Op.Kind.CAS) {
                    id(op.expected());
                }
            }
        }

        private int id(String value) {
            return ids.computeIfAbsent(value, v -> ids.size() + UNOBSERVED_ID + 1);
        }

        private int idOf(String value) {
            return value == null ? NIL : ids.getOrDefault(value, UNOBSERVED_ID);
        }

        private void buildList() {
            record Event(long time, boolean call, int op) {
            }
            List<Event> events = new ArrayList<>();
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                events.add(new Event(op.invokeNanos(), true, i));
                if (op.outcome() == Op.Outcome.OK) {
                    events.add(new Event(op.completeNanos(), false, i));
                }
            }
            // At equal times calls come first: operations that touch count as concurrent, so
            // a tie can never make the checker demand an order the clients did not see.
            events.sort(Comparator.comparingLong(Event::time).thenComparing(e -> !e.call()).thenComparingInt(Event::op));
            Entry[] calls = new Entry[ops.size()];
            Entry last = head;
            for (int position = 0; position < events.size(); position++) {
                Event e = events.get(position);
                Entry entry;
                if (e.call()) {
                    entry = new Entry(e.op(), step(ops.get(e.op())), position);
                    calls[e.op()] = entry;
                    if (entry.step.info()) {
                        unplacedInfo.computeIfAbsent(entry.step.effect(), k -> new TreeSet<>()).add(position);
                    }
                } else {
                    Entry call = calls[e.op()];
                    entry = new Entry(e.op(), call.step, position);
                    entry.match = call;
                    call.match = entry;
                }
                entry.prev = last;
                last.next = entry;
                last = entry;
            }
        }

        private Step step(Op op) {
            boolean info = op.outcome() == Op.Outcome.INFO;
            return switch (op.kind()) {
                case READ -> new Step(op, Op.Kind.READ, false, false, idOf(op.value()), -1);
                case WRITE -> new Step(op, Op.Kind.WRITE, info, false, -1, idOf(op.value()));
                case CAS -> new Step(op, Op.Kind.CAS, info, !info && !op.applied(), idOf(op.expected()), idOf(op.value()));
            };
        }

        /** Of interchangeable operations of unknown outcome, only the earliest unplaced one. */
        private boolean canBePlacedNow(Entry call) {
            return !call.step.info() || unplacedInfo.get(call.step.effect()).first() == call.position;
        }

        private void lift(Entry call) {
            remove(call);
            if (call.match != null) {
                remove(call.match);
            }
            if (call.step.info()) {
                unplacedInfo.get(call.step.effect()).remove(call.position);
            }
        }

        private void unlift(Entry call) {
            if (call.match != null) {
                reinsert(call.match);
            }
            reinsert(call);
            if (call.step.info()) {
                unplacedInfo.get(call.step.effect()).add(call.position);
            }
        }

        private static void remove(Entry e) {
            e.prev.next = e.next;
            if (e.next != null) {
                e.next.prev = e.prev;
            }
        }

        /** Undoes {@link #remove}; entries are reinserted in the reverse order of their removal. */
        private static void reinsert(Entry e) {
            e.prev.next = e;
            if (e.next != null) {
                e.next.prev = e;
            }
        }
    }
}

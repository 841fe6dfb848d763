package io.raft4j.examples.kv.lin;

import io.raft4j.examples.kv.lin.Op.Outcome;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Linearizable histories of one register by construction: clients invoke operations at random
 * times, each takes effect at a random point within its interval (one of unknown outcome anywhere
 * after its invocation, or never), and answers what the register held at that point. Small integer
 * times, so that operations overlap and touch often.
 */
final class RegisterSimulation {
    private final SplittableRandom random;
    private final int processes;
    private final double unknownRate;

    RegisterSimulation(SplittableRandom random, int processes, double unknownRate) {
        this.random = random;
        this.processes = processes;
        this.unknownRate = unknownRate;
    }

    private record Planned(int process, Op.Kind kind, long invoke, long point, long complete, Outcome outcome,
                           boolean takesEffect, String value) {
    }

    List<Op> run(int count) {
        long[] free = new long[processes];
        List<Planned> planned = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int p = random.nextInt(processes);
            long invoke = free[p] + random.nextInt(4);
            long point = invoke + random.nextInt(4);
            long complete = point + random.nextInt(4);
            free[p] = complete + 1;
            double d = random.nextDouble();
            Op.Kind kind = d < 0.4 ? Op.Kind.READ : d < 0.7 ? Op.Kind.WRITE : Op.Kind.CAS;
            Outcome outcome = kind != Op.Kind.READ && random.nextDouble() < unknownRate ? Outcome.INFO : Outcome.OK;
            boolean takesEffect = outcome == Outcome.OK || random.nextBoolean();
            if (outcome == Outcome.INFO) {
                point = invoke + random.nextInt(20); // possibly long after the client gave up
            }
            planned.add(new Planned(p, kind, invoke, point, complete, outcome, takesEffect, "v" + i));
        }
        List<Planned> byPoint = new ArrayList<>(planned);
        byPoint.sort(Comparator.comparingLong(Planned::point));
        List<Op> ops = new ArrayList<>();
        List<String> written = new ArrayList<>();
        String state = null;
        for (Planned op : byPoint) {
            switch (op.kind()) {
                case READ -> ops.add(Op.read(op.process(), "k", state, op.invoke(), op.complete()));
                case WRITE -> {
                    ops.add(Op.write(op.process(), "k", op.value(), op.outcome(), op.invoke(), op.complete()));
                    if (op.takesEffect()) {
                        state = op.value();
                        written.add(state);
                    }
                }
                case CAS -> {
                    String expected = state != null && random.nextDouble() < 0.6 ? state
                            : written.isEmpty() ? "none" : written.get(random.nextInt(written.size()));
                    boolean applied = op.takesEffect() && Objects.equals(state, expected);
                    ops.add(op.outcome() == Outcome.INFO
                            ? Op.cas(op.process(), "k", expected, op.value(), Outcome.INFO, op.invoke(), op.complete())
                            : Op.cas(op.process(), "k", expected, op.value(), applied, op.invoke(), op.complete()));
                    if (applied) {
                        state = op.value();
                        written.add(state);
                    }
                }
            }
        }
        ops.sort(Comparator.comparingLong(Op::invokeNanos));
        return ops;
    }

    /** The history with one answer changed: a read's value, a compare-and-set's result, or a write refused. */
    static List<Op> corrupt(List<Op> ops, SplittableRandom random) {
        List<Op> changed = new ArrayList<>(ops);
        int i = random.nextInt(changed.size());
        Op op = changed.get(i);
        Op other = changed.get(random.nextInt(changed.size()));
        Op corrupted = switch (op.kind()) {
            case READ -> Op.read(op.process(), op.key(), random.nextInt(4) == 0 ? null
                    : other.value() != null ? other.value() : "v" + random.nextInt(changed.size()),
                    op.invokeNanos(), op.completeNanos());
            case WRITE -> Op.write(op.process(), op.key(), op.value(), Outcome.FAIL, op.invokeNanos(), op.completeNanos());
            case CAS -> op.outcome() == Outcome.OK
                    ? Op.cas(op.process(), op.key(), op.expected(), op.value(), !op.applied(), op.invokeNanos(), op.completeNanos())
                    : Op.cas(op.process(), op.key(), op.expected(), op.value(), Outcome.FAIL, op.invokeNanos(), op.completeNanos());
        };
        changed.set(i, corrupted);
        return changed;
    }
}

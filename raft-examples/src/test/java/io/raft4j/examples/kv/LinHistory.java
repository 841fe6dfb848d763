package io.raft4j.examples.kv;

import io.raft4j.examples.kv.lin.Op;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Every operation the clients of {@link KvLinearizabilityIT} invoked, as they saw it, shared by
 * their threads; and the answers that fit no documented meaning, which are anomalies of their own.
 */
final class LinHistory {
    private final Queue<Op> ops = new ConcurrentLinkedQueue<>();
    private final Queue<String> oddAnswers = new ConcurrentLinkedQueue<>();
    /** Per node, when it completed a client's operation with an answer: the history of its availability. */
    private final Map<String, NavigableSet<Long>> servedAt = new ConcurrentHashMap<>();
    /** Reads that got no value (refused, timed out, connection lost): left out of the check. */
    final AtomicLong readsWithoutValue = new AtomicLong();

    void add(Op op) {
        ops.add(op);
    }

    void odd(String what) {
        oddAnswers.add(what);
    }

    List<String> oddAnswers() {
        return List.copyOf(oddAnswers);
    }

    List<Op> ops() {
        List<Op> all = new ArrayList<>(ops);
        all.sort(Comparator.comparingLong(Op::invokeNanos));
        return all;
    }

    Map<String, List<Op>> byKey() {
        return ops().stream().collect(Collectors.groupingBy(Op::key));
    }

    /** A client's operation completed with an answer (not a refusal) from {@code node}. */
    void served(String node, long completeNanos) {
        servedAt.computeIfAbsent(node, n -> new ConcurrentSkipListSet<>()).add(completeNanos);
    }

    /** When {@code node} first answered an operation after {@code nanos}, if it did: how long it was down. */
    OptionalLong firstServedAfter(String node, long nanos) {
        NavigableSet<Long> times = servedAt.get(node);
        Long next = times == null ? null : times.ceiling(nanos);
        return next == null ? OptionalLong.empty() : OptionalLong.of(next);
    }

    /** E.g. {@code reads 812 ok; writes 430 ok, 12 failed, 5 unknown; cas 200 ok (90 applied), ...}. */
    String summary() {
        Map<Op.Kind, Map<Op.Outcome, Long>> counts = new EnumMap<>(Op.Kind.class);
        long applied = 0;
        for (Op op : ops) {
            counts.computeIfAbsent(op.kind(), k -> new EnumMap<>(Op.Outcome.class)).merge(op.outcome(), 1L, Long::sum);
            applied += op.kind() == Op.Kind.CAS && op.applied() ? 1 : 0;
        }
        StringBuilder sb = new StringBuilder();
        for (Op.Kind kind : Op.Kind.values()) {
            Map<Op.Outcome, Long> c = counts.getOrDefault(kind, Map.of());
            sb.append(kind.name().toLowerCase()).append("s ").append(c.getOrDefault(Op.Outcome.OK, 0L)).append(" ok");
            if (kind == Op.Kind.CAS) {
                sb.append(" (").append(applied).append(" applied)");
            }
            if (kind != Op.Kind.READ) {
                sb.append(", ").append(c.getOrDefault(Op.Outcome.FAIL, 0L)).append(" failed, ")
                        .append(c.getOrDefault(Op.Outcome.INFO, 0L)).append(" unknown");
            }
            sb.append("; ");
        }
        return sb.append(readsWithoutValue.get()).append(" reads without a value").toString();
    }
}

package io.raft4j.sim;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Raft safety properties (Raft Figure 3), checked incrementally after every simulated step:
 * election safety, leader append-only, log matching, leader completeness and state machine safety.
 */
final class SafetyChecker {
    /** A violated safety property. */
    static final class Violation extends AssertionError {
        private static final long serialVersionUID = 1L;

        Violation(String message) {
            super(message);
        }
    }

    private final Map<Long, String> leaderOfTerm = new HashMap<>();
    /** (index, term) -> chain: the one entry (and prefix) any log may hold at that position. */
    private final Map<Long, Map<Long, Long>> chainAt = new HashMap<>();
    /** index -> chain of the committed prefix up to it. */
    private final Map<Long, Long> committedChain = new HashMap<>();
    private long highestCommitted;
    /**
     * term -> the highest index first known committed in that term. An index is first known
     * committed by the leader that commits it, so this is the term it was committed in.
     */
    private final TreeMap<Long, Long> committedInTerm = new TreeMap<>();

    /** Election safety: at most one leader per term. */
    void onLeader(String node, long term, LogMirror log) {
        String previous = leaderOfTerm.putIfAbsent(term, node);
        if (previous != null && !previous.equals(node)) {
            throw new Violation("election safety: " + previous + " and " + node + " both lead term " + term);
        }
        // Leader completeness: a leader holds every entry committed in earlier terms. Not the ones
        // committed in later terms: a candidate may collect the last of its votes, cast long ago in
        // its own term, after a later term's leader has committed more.
        long mustHold = committedInTerm.headMap(term, false).values().stream().mapToLong(Long::longValue).max().orElse(0);
        if (mustHold > 0 && log.chain(mustHold) != committedChain.get(mustHold)) {
            throw new Violation("leader completeness: leader " + node + " of term " + term
                    + " lacks entries committed in earlier terms, up to " + mustHold + " (its last index "
                    + log.lastIndex() + ")");
        }
    }

    /**
     * Election safety across restarts: a node becomes leader only once its term is durable. A
     * leader whose term a crash could undo would restart in the term before, could campaign for the
     * same term again, win it again on the votes already cast for it, and lead one term twice with
     * two different logs.
     */
    void onLeaderDurableTerm(String node, long term, long durableTerm) {
        if (durableTerm != term) {
            throw new Violation("election safety: " + node + " leads term " + term + " while its durable term is "
                    + durableTerm + ": a crash now lets it lead term " + term + " again");
        }
    }

    /** Log matching: same index and term means the same entry and the same prefix, on every node. */
    void onEntriesWritten(String node, LogMirror log, long fromIndex) {
        for (long i = fromIndex; i <= log.lastIndex(); i++) {
            long term = log.term(i);
            long chain = log.chain(i);
            Long known = chainAt.computeIfAbsent(i, k -> new HashMap<>()).putIfAbsent(term, chain);
            if (known != null && known != chain) {
                throw new Violation("log matching: " + node + " holds an entry at index " + i + " term " + term
                        + " whose log differs from another node's with the same index and term");
            }
        }
    }

    /** Leader append-only: while leading, a node only appends. */
    void onLeaderWrite(String node, long term, long firstWritten, long lastIndexBefore) {
        if (firstWritten <= lastIndexBefore) {
            throw new Violation("leader append-only: leader " + node + " of term " + term + " overwrote index "
                    + firstWritten + " (its last index was " + lastIndexBefore + ")");
        }
    }

    /** Records that {@code node}, in {@code term}, considers its log committed up to {@code commitIndex}. */
    void onCommitted(String node, long term, LogMirror log, long fromExclusive, long commitIndex) {
        for (long i = fromExclusive + 1; i <= commitIndex; i++) {
            long chain = log.chain(i);
            if (chain == 0) {
                throw new Violation(node + " committed index " + i + " beyond its log (last " + log.lastIndex() + ")");
            }
            Long known = committedChain.putIfAbsent(i, chain);
            if (known != null && known != chain) {
                throw new Violation("state machine safety: " + node + " committed a different entry at index " + i);
            }
        }
        if (commitIndex > highestCommitted) {
            committedInTerm.merge(term, commitIndex, Math::max);
        }
        highestCommitted = Math.max(highestCommitted, commitIndex);
    }

    /** State machine safety: an applied entry is the committed one at its index. */
    void onApplied(String node, long index, long chain) {
        Long committed = committedChain.get(index);
        if (committed == null || committed != chain) {
            throw new Violation("state machine safety: " + node + " applied index " + index
                    + (committed == null ? " before it was known committed" : " with a different entry"));
        }
    }

    long committedChain(long index) {
        Long c = committedChain.get(index);
        return c == null ? 0 : c;
    }

    /** The highest index first known committed in {@code term} or an earlier term. */
    long committedUpToTerm(long term) {
        return committedInTerm.headMap(term, true).values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    long highestCommitted() {
        return highestCommitted;
    }
}

package io.raft4j.core;

import io.raft4j.message.ClusterConfig;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Quorum arithmetic over a (possibly joint) configuration, as pure functions. A joint configuration
 * (Raft §6) needs a majority of the incoming and of the outgoing voters.
 */
final class Quorum {
    enum VoteResult { WON, LOST, PENDING }

    private Quorum() {
    }

    /**
     * The highest value that a majority of voters has reached, e.g. the commit index from match
     * indexes. For a joint configuration, the lower of the two halves. An empty voter set imposes
     * no constraint ({@code Long.MAX_VALUE}).
     */
    static long committedValue(ClusterConfig config, ToLongFunction<String> valueOf) {
        long incoming = majorityValue(config.voters(), valueOf);
        if (!config.isJoint()) {
            return incoming;
        }
        return Math.min(incoming, majorityValue(config.outgoingVoters(), valueOf));
    }

    private static long majorityValue(Set<String> voters, ToLongFunction<String> valueOf) {
        if (voters.isEmpty()) {
            return Long.MAX_VALUE;
        }
        long[] values = new long[voters.size()];
        int i = 0;
        for (String voter : voters) {
            values[i++] = valueOf.applyAsLong(voter);
        }
        Arrays.sort(values);
        // Sorted ascending, the value at n - (n/2 + 1) is reached by n/2 + 1 voters: a majority.
        return values[values.length - (values.length / 2 + 1)];
    }

    /** The outcome of an election given the votes received so far ({@code true} = granted). */
    static VoteResult voteResult(ClusterConfig config, Map<String, Boolean> votes) {
        VoteResult incoming = majorityVote(config.voters(), votes);
        if (!config.isJoint()) {
            return incoming;
        }
        VoteResult outgoing = majorityVote(config.outgoingVoters(), votes);
        if (incoming == VoteResult.LOST || outgoing == VoteResult.LOST) {
            return VoteResult.LOST;
        }
        if (incoming == VoteResult.WON && outgoing == VoteResult.WON) {
            return VoteResult.WON;
        }
        return VoteResult.PENDING;
    }

    private static VoteResult majorityVote(Set<String> voters, Map<String, Boolean> votes) {
        if (voters.isEmpty()) {
            return VoteResult.WON;
        }
        int granted = 0;
        int rejected = 0;
        for (String voter : voters) {
            Boolean vote = votes.get(voter);
            if (vote == null) {
                continue;
            }
            if (vote) {
                granted++;
            } else {
                rejected++;
            }
        }
        int majority = voters.size() / 2 + 1;
        if (granted >= majority) {
            return VoteResult.WON;
        }
        if (rejected > voters.size() - majority) {
            return VoteResult.LOST;
        }
        return VoteResult.PENDING;
    }

    /** Whether the members for which {@code active} holds form a quorum. */
    static boolean isActive(ClusterConfig config, Predicate<String> active) {
        return committedValue(config, id -> active.test(id) ? 1 : 0) >= 1;
    }
}

package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.examples.kv.resp.RespLimits;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The client limits a node announces in its answer to {@code RAFT.FORWARDED}, and the check a
 * forwarding node makes against them before it sends a command on. Nodes may run with different
 * {@code --max-bulk-bytes}, {@code --max-array-length} or {@code --max-request-bytes} (a rolling
 * change of them): a command within the follower's limits but over the leader's used to reach the
 * leader, whose decoder then closed the forwarding connection, so that every other client's write in
 * flight on it was answered {@code -UNCERTAIN} and the command's own client got the leader's
 * {@code Protocol error} for a request its node had accepted.
 */
final class LeaderLimits {
    private static final String BULK = "max-bulk-bytes";
    private static final String ARRAY = "max-array-length";
    private static final String REQUEST = "max-request-bytes";

    private LeaderLimits() {
    }

    /** The answer to {@code RAFT.FORWARDED}: {@code +OK} followed by the limits; older nodes read only the reply's arrival. */
    static Reply announce(RespLimits limits) {
        return new Reply.Simple("OK " + BULK + "=" + limits.maxBulkBytes() + " " + ARRAY + "=" + limits.maxArrayLength()
                + " " + REQUEST + "=" + limits.maxRequestBytes());
    }

    /** The limits {@code reply} announces, or {@code null} if it announces none (a node of an earlier version). */
    static RespLimits parse(Reply reply) {
        if (!(reply instanceof Reply.Simple s)) {
            return null;
        }
        Map<String, Long> values = new HashMap<>();
        String[] words = s.text().split(" ");
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq > 0) {
                try {
                    values.put(words[i].substring(0, eq), Long.parseLong(words[i].substring(eq + 1)));
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        Long bulk = values.get(BULK);
        Long array = values.get(ARRAY);
        Long request = values.get(REQUEST);
        if (bulk == null || array == null || request == null || bulk > Integer.MAX_VALUE || array > Integer.MAX_VALUE) {
            return null;
        }
        try {
            return new RespLimits(bulk.intValue(), array.intValue(), 16, request);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Why {@code args} would be refused by a leader with {@code limits} (which closes the connection
     * when it is), as an error reply saying nothing was done; {@code null} if it would not be.
     */
    static Reply refusal(RespLimits limits, List<byte[]> args, String leaderAddress) {
        String over = null;
        if (args.size() > limits.maxArrayLength()) {
            over = args.size() + " arguments, the leader takes at most " + limits.maxArrayLength() + " (its --" + ARRAY + ")";
        } else {
            long total = 0;
            for (byte[] arg : args) {
                total += arg.length;
                if (arg.length > limits.maxBulkBytes()) {
                    over = "an argument of " + arg.length + " bytes, the leader takes at most " + limits.maxBulkBytes()
                            + " (its --" + BULK + ")";
                    break;
                }
            }
            if (over == null && total > limits.maxRequestBytes()) {
                over = total + " bytes of arguments, the leader takes at most " + limits.maxRequestBytes()
                        + " (its --" + REQUEST + ")";
            }
        }
        return over == null ? null
                : Reply.error("ERR command not forwarded to the leader at " + leaderAddress + ": " + over
                        + ", below this node's; nothing was done");
    }
}

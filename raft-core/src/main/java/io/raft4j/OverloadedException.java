package io.raft4j;

/**
 * The leader refused a proposal because the commands it accepted and has not yet committed and
 * handed to its state machine reached {@code RaftConfig.maxUncommittedBytes}: a majority is
 * unreachable or cannot keep up, or the leader's state machine cannot. Nothing was proposed, so
 * retrying is safe; back off first (a growing delay), since the leader accepts again only as
 * commits and applies catch up.
 */
public class OverloadedException extends RaftException {
    private static final long serialVersionUID = 1L;

    public OverloadedException(String nodeId, long uncommittedBytes, long limit) {
        super("node " + nodeId + " holds " + uncommittedBytes + " bytes of commands not committed and applied yet, at its limit"
                + " of " + limit + " (maxUncommittedBytes): a majority is unreachable or cannot keep up, or its state"
                + " machine cannot;"
                + " nothing was proposed, retry later");
    }
}

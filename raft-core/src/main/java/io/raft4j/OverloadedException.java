package io.raft4j;

/**
 * The node refused a call at once because it holds as much of that kind as it may. A proposal: the
 * commands the leader accepted and has not yet committed and handed to its state machine, with
 * those made and still waiting for its event loop, reached {@code RaftConfig.maxUncommittedBytes}
 * (a majority is unreachable or cannot keep up, or the leader's state machine or event loop
 * cannot). A read: {@code RaftConfig.maxQueuedReads} reads wait for its event loop already. Another
 * call that waits for the loop (membership changes, leadership transfers, snapshots, waits for a
 * leader, follower views): {@link RaftNode#MAX_QUEUED_ADMIN_CALLS} of them wait for it already.
 * Nothing was proposed, read or done, so retrying is safe; back off first (a growing delay), since the node
 * accepts again only as commits, applies or its loop catch up.
 */
public class OverloadedException extends RaftException {
    private static final long serialVersionUID = 1L;

    public OverloadedException(String nodeId, long uncommittedBytes, long limit) {
        super("node " + nodeId + " holds " + uncommittedBytes + " bytes of commands not committed and applied yet, at its limit"
                + " of " + limit + " (maxUncommittedBytes): a majority is unreachable or cannot keep up, or its state"
                + " machine cannot;"
                + " nothing was proposed, retry later");
    }

    private OverloadedException(String message) {
        super(message);
    }

    /** A proposal refused as it was made: {@code heldBytes} counts those waiting for the loop too. */
    static OverloadedException proposalsQueued(String nodeId, long heldBytes, long limit) {
        return new OverloadedException("node " + nodeId + " holds " + heldBytes + " bytes of commands not committed"
                + " and applied yet, or waiting for its event loop, at its limit of " + limit + " (maxUncommittedBytes):"
                + " its event loop is held up, a majority is unreachable or cannot keep up, or its state machine"
                + " cannot; nothing was proposed, retry later");
    }

    /** A read refused as it was made: {@code limit} reads wait for the loop already. */
    static OverloadedException readsQueued(String nodeId, int limit) {
        return new OverloadedException("node " + nodeId + " has " + limit + " reads waiting for its event loop, its"
                + " limit (maxQueuedReads): its event loop is held up, or reads come faster than it takes them up;"
                + " nothing was read, retry later");
    }

    /** An admin call refused as it was made: {@code limit} of them wait for the loop already. */
    static OverloadedException adminCallsQueued(String nodeId, int limit) {
        return new OverloadedException("node " + nodeId + " has " + limit + " admin calls"
                + " (membership changes, leadership transfers, snapshots, waits for a leader, follower views) wait"
                + " for its event loop, its limit (RaftNode.MAX_QUEUED_ADMIN_CALLS): its event loop is held up, or"
                + " they come faster than it takes them up; nothing was done, retry later");
    }
}

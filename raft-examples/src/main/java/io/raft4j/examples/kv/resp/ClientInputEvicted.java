package io.raft4j.examples.kv.resp;

import io.netty.channel.Channel;

import java.util.concurrent.RejectedExecutionException;

/**
 * A user event a connection's pipeline receives when the {@link ClientInputBudget} evicts it, to
 * make room for another connection's input: the channel closes right after the event has passed,
 * so a handler writes what it must now (the {@code -ERR} {@link #reason}, where that cannot be
 * taken for the reply to a command still owed).
 *
 * @param reason the text of the {@code -ERR} reply, without the {@code ERR}
 */
public record ClientInputEvicted(String reason) {
    /**
     * Closes {@code channel}, evicted, on its own event loop (from whichever loop made room, as all
     * the connection's state is its loop's): the event first, then the close, which releases the
     * decoder's buffers.
     */
    static void closeOnItsLoop(Channel channel, String reason) {
        try {
            channel.eventLoop().execute(() -> {
                channel.pipeline().fireUserEventTriggered(new ClientInputEvicted(reason));
                channel.close();
            });
        } catch (RejectedExecutionException e) {
            // The loop is shutting down, the node stopping: it closes the channel itself.
        }
    }
}

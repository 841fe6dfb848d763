package io.raft4j;

import java.util.concurrent.CompletableFuture;

/**
 * Queues work on a node's event loop on behalf of a caller: the caller's future fails at once if the
 * node is not running, and later if the task throws or the node stops before the task runs. It lets
 * the classes that carry out a node's calls on its loop do so without holding the node itself.
 */
@FunctionalInterface
interface LoopTasks {
    void execute(Runnable task, CompletableFuture<?> caller);
}

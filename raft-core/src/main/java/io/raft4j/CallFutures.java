package io.raft4j;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** The futures a node hands its callers, where they are stages derived from the node's own. */
final class CallFutures {
    private CallFutures() {
    }

    /**
     * {@code stage}, failing with the exception its source failed with. A stage derived with
     * {@code thenApply} or {@code thenCompose} fails with a {@link CompletionException} wrapping it:
     * {@code get()} unwraps that, but a caller's handler ({@code whenComplete}, {@code exceptionally})
     * got the wrapper, and its check for the {@link NotLeaderException} the Javadoc names never matched.
     */
    static <T> CompletableFuture<T> unwrapped(CompletableFuture<T> stage) {
        CompletableFuture<T> call = new CompletableFuture<>();
        stage.whenComplete((result, error) -> {
            if (error == null) {
                call.complete(result);
            } else {
                call.completeExceptionally(
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
            }
        });
        return call;
    }
}

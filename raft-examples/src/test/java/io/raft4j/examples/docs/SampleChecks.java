package io.raft4j.examples.docs;

import io.raft4j.RaftNode;
import io.raft4j.examples.Await;

import java.util.function.BooleanSupplier;

/**
 * Checks the {@code then:} part of a {@code run} sample calls. Public because the samples are
 * compiled into packages of their own ({@code docsamples.*}).
 */
public final class SampleChecks {
    private SampleChecks() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} after 30 s. */
    public static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, what);
    }

    /** Starts {@code node} and returns it: for a sample's given that must be a running node. */
    public static <R> RaftNode<R> started(RaftNode<R> node) {
        node.start();
        return node;
    }

    /** Fails with {@code what} unless {@code condition} holds. */
    public static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }
}

package io.raft4j;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loop body for {@link NodeLoop} tests: records when each tick came and whether the loop failed;
 * has nothing else to do.
 */
final class TickRecordingBody implements NodeLoop.Body {
    final List<Long> at = new CopyOnWriteArrayList<>();
    volatile Throwable failure;

    @Override
    public void tick() {
        at.add(System.nanoTime());
    }

    @Override
    public boolean handleReady() {
        return false;
    }

    @Override
    public void failed(Throwable t) {
        failure = t;
    }
}

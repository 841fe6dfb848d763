package io.raft4j;

import io.raft4j.core.RaftConfig;

import java.util.function.UnaryOperator;

/**
 * Every {@link RaftNodeTest} again as the key-value node runs: on lent loops, with a log whose writes
 * block, followers writing it on their loop and leaders on their storage thread, so that writes
 * move between the two threads as leadership moves, in order.
 */
class RaftNodePersistingOnLoopTest extends RaftNodeTest {
    @Override
    LocalCluster cluster(int size, UnaryOperator<RaftConfig.Builder> settings) {
        return new LocalCluster(size, b -> settings.apply(b).maxInflightMessages(1), LocalCluster.Mode.LENT_LOOPS_PERSISTING);
    }
}

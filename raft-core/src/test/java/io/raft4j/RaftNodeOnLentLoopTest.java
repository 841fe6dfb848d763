package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every {@link RaftNodeTest} again with each node running on an event loop its transport lends
 * ({@link io.raft4j.spi.Transport#eventLoopFor}), the mode the Netty transport uses.
 */
class RaftNodeOnLentLoopTest extends RaftNodeTest {
    @Override
    LocalCluster cluster(int size, UnaryOperator<RaftConfig.Builder> settings) {
        return new LocalCluster(size, settings, true);
    }

    @Test
    void nodesRunOnTheLentLoops() throws Exception {
        try (LocalCluster cluster = cluster(3)) {
            assertEquals(3, ((LoopLendingTransport) cluster.transport).lentLoops());
            RaftNode<String> leader = cluster.awaitLeader();
            assertEquals("applied:x", leader.propose(Bytes.ofUtf8("x")).get(5, TimeUnit.SECONDS));
        }
    }
}

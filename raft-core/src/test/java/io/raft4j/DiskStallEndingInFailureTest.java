package io.raft4j;

import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader's disk stalls and then fails the held write with an I/O error: the node stops (as a
 * storage failure always stops it), every caller's future completes, and every write acknowledged
 * to a caller is on the others, who go on.
 */
class DiskStallEndingInFailureTest {

    @Test
    void aStallEndingInAnIoErrorStopsTheLeaderCompletesEveryCallAndLosesNoAcknowledgedWrite() throws Exception {
        try (StalledDiskGroup group = new StalledDiskGroup(LocalCluster.steadyLeader(b -> b))) {
            RaftNode<String> leader = group.awaitLeader();
            assertEquals("0", leader.propose(Bytes.ofUtf8("set:0")).get(10, TimeUnit.SECONDS));
            StallableStorage disk = group.disks.get(leader.id());
            disk.stall();
            List<CompletableFuture<String>> proposals = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                proposals.add(leader.propose(Bytes.ofUtf8("set:" + i)));
            }
            CompletableFuture<String> read = leader.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE);
            disk.failStalled("Input/output error");

            leader.whenStopped().get(10, TimeUnit.SECONDS);
            assertNotNull(leader.failure());
            String lastAcknowledged = "0";
            for (CompletableFuture<String> p : proposals) {
                try {
                    lastAcknowledged = p.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof RaftStoppedException || e.getCause() instanceof IndeterminateException,
                            "failed with " + e.getCause());
                }
            }
            try {
                read.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertInstanceOf(RaftException.class, e.getCause());
            }
            List<RaftNode<String>> rest = group.nodes.values().stream().filter(n -> n != leader).toList();
            RaftNode<String> next = LocalCluster.awaitSettledLeader(rest);
            String value = LocalCluster.retryingNotLeader(() -> next.query(Bytes.EMPTY, ReadConsistency.LINEARIZABLE));
            assertTrue(Integer.parseInt(value) >= Integer.parseInt(lastAcknowledged),
                    "acknowledged set:" + lastAcknowledged + " lost: the others read " + value);
            assertEquals("21", LocalCluster.retryingNotLeader(() -> next.propose(Bytes.ofUtf8("set:21"))));
        }
    }
}

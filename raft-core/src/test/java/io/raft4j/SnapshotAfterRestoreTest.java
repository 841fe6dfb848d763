package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.SnapshotMeta;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RaftNode.takeSnapshot promises a snapshot covering at least every entry applied before the call.
 * After a restore from a leader's snapshot, a request made while an older local snapshot is still
 * being written must not settle for that older write.
 */
class SnapshotAfterRestoreTest {

    @Test
    void snapshotAskedForAfterARestoreCoversWhatWasApplied() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        String[] ids = {"n1", "n2", "n3"};
        Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
        Map<String, GatedStateMachine> sms = new LinkedHashMap<>();
        for (String id : ids) {
            // An election timeout of 500 ms: the third node, whose log is not compacted, must not take
            // over while the machine starves the leader's loop (it did once in a loaded build, at 100 ms),
            // or the follower catches up from its log and no snapshot is installed.
            RaftConfig config = RaftConfig.builder(id).initialMembers(ids).electionTimeoutTicks(50)
                    .snapshotTrailingEntries(0).build();
            GatedStateMachine sm = new GatedStateMachine();
            sms.put(id, sm);
            nodes.put(id, RaftNode.builder(config, sm).transport(network).storage(new InMemoryLogStorage())
                    .snapshots(new InMemorySnapshotStore()).tickMillis(10).build());
        }
        nodes.values().forEach(RaftNode::start);
        try {
            RaftNode<String> leader = LocalCluster.awaitSettledLeader(nodes.values());
            sms.get(leader.id()).release(); // the leader's snapshots are not held
            RaftNode<String> follower = nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
            GatedStateMachine fsm = sms.get(follower.id());
            for (int i = 0; i < 5; i++) {
                leader.propose(Bytes.ofUtf8("a" + i)).get(5, TimeUnit.SECONDS);
            }
            LocalCluster.await(Duration.ofSeconds(5), () -> fsm.inner.applied.size() == 5);

            CompletableFuture<SnapshotMeta> held = follower.takeSnapshot(); // its write is held
            LocalCluster.await(Duration.ofSeconds(5), () -> fsm.views.get() == 1);

            network.isolate(follower.id());
            for (int i = 0; i < 50; i++) {
                leader.propose(Bytes.ofUtf8("b" + i)).get(5, TimeUnit.SECONDS);
            }
            SnapshotMeta leaderSnap = leader.takeSnapshot().get(5, TimeUnit.SECONDS); // compacts its log
            network.heal();
            // The follower catches up by InstallSnapshot: restored to the leader's snapshot.
            LocalCluster.await(Duration.ofSeconds(10), () -> follower.status().appliedIndex() >= leaderSnap.lastIndex());
            assertTrue(follower.stats().snapshotsInstalled() >= 1, "no snapshot installed; leader now "
                    + follower.status().leaderId() + ", was " + leader.id());

            long applied = follower.status().appliedIndex();
            CompletableFuture<SnapshotMeta> asked = follower.takeSnapshot();
            fsm.release();
            SnapshotMeta first = held.get(10, TimeUnit.SECONDS);
            SnapshotMeta meta = asked.get(10, TimeUnit.SECONDS);
            assertTrue(meta.lastIndex() >= applied, "takeSnapshot() asked with " + applied
                    + " applied completed with a snapshot covering only " + meta.lastIndex()
                    + " (the older held one: " + first.lastIndex() + ")");
        } finally {
            sms.values().forEach(GatedStateMachine::release);
            nodes.values().forEach(RaftNode::close);
            network.close();
        }
    }
}

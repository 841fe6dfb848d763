package io.raft4j.examples.kv.bench;

import io.raft4j.examples.kv.KvCodec;
import io.raft4j.examples.kv.KvStateMachine;
import io.raft4j.message.Bytes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's {@code replicated} is false whenever the state machines differ, not only when they agree. */
class ReplicationCheckTest {
    private static final ReplicationCheck.Machine A = new ReplicationCheck.Machine("n1", 100, 0xabcdL, 64);

    @Test
    void agreeingMachinesWithEveryAcknowledgementApplied() {
        ReplicationCheck.Outcome out = ReplicationCheck.compare(List.of(A, copy("n2"), copy("n3")), 0, 100);
        assertTrue(out.ok(), out.report());
        assertTrue(out.report().endsWith("-> OK"), out.report());
    }

    @Test
    void aMachineThatDiffersInCountLastCommandOrKeysFailsIt() {
        List<ReplicationCheck.Machine> differing = List.of(
                new ReplicationCheck.Machine("n3", 99, A.lastCrc(), A.keys()),
                new ReplicationCheck.Machine("n3", A.applied(), 0x1234L, A.keys()),
                new ReplicationCheck.Machine("n3", A.applied(), A.lastCrc(), 63));
        for (ReplicationCheck.Machine other : differing) {
            ReplicationCheck.Outcome out = ReplicationCheck.compare(List.of(A, copy("n2"), other), 0, 100);
            assertFalse(out.ok(), out.report());
            assertTrue(out.report().contains("n3 applied=" + other.applied()) && out.report().contains(" MISMATCH;"),
                    out.report());
        }
        // Whichever node leads: a follower ahead of the leader disagrees as much as one behind.
        ReplicationCheck.Machine ahead = new ReplicationCheck.Machine("n1", 101, 0x9L, 64);
        assertFalse(ReplicationCheck.compare(List.of(ahead, copy("n2"), copy("n3")), 1, 100).ok());
    }

    @Test
    void noLeaderOrFewerAppliedThanAcknowledgedFailsIt() {
        assertFalse(ReplicationCheck.compare(List.of(A, copy("n2"), copy("n3")), -1, 100).ok());
        assertFalse(ReplicationCheck.compare(List.of(A, copy("n2"), copy("n3")), 0, 101).ok(),
                "the leader applied fewer commands than the clients had acknowledged");
    }

    /** What is compared is read from the state machines themselves: two fed different commands disagree. */
    @Test
    void stateMachinesThatAppliedDifferentCommandsDisagree() {
        KvStateMachine leader = new KvStateMachine();
        KvStateMachine follower = new KvStateMachine();
        for (int i = 1; i <= 2; i++) {
            leader.apply(i, set("bench:" + i, "a"));
            follower.apply(i, set("bench:" + i, "b"));
        }
        ReplicationCheck.Machine l = ReplicationCheck.Machine.of("n1", leader);
        ReplicationCheck.Machine f = ReplicationCheck.Machine.of("n2", follower);
        assertEquals(l.applied(), f.applied());
        assertEquals(l.keys(), f.keys());
        assertFalse(ReplicationCheck.compare(List.of(l, f), 0, 2).ok(), "the same count and keys, other commands");
    }

    private static ReplicationCheck.Machine copy(String nodeId) {
        return new ReplicationCheck.Machine(nodeId, A.applied(), A.lastCrc(), A.keys());
    }

    private static Bytes set(String key, String value) {
        return KvCodec.set(key.getBytes(StandardCharsets.US_ASCII), value.getBytes(StandardCharsets.US_ASCII));
    }
}

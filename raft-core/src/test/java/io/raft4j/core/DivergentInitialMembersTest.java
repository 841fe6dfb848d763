package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes bootstrapped with different initial members: each side counts a majority of its own
 * configuration, so each may elect a leader and commit on its own, and entry 1 has the same index
 * and term on every node, so their logs "match" to Raft. The fingerprint of each node's bootstrap
 * ({@link BootstrapFingerprint}) keeps the sides apart: no vote, append or snapshot crosses.
 */
class DivergentInitialMembersTest {

    /**
     * n1 was started with itself alone as initial members, n2 and n3 with all three: n1 leads a
     * group of its own and commits x alone; the others elect one of them, in a later term, which
     * then reaches n1. n1 took it for its leader, found its committed x contradicted and stopped
     * (the test failed with "IllegalStateException: n1: leader n3 of term 3 holds entry 3 with term 3
     * where this node's log, committed up to 3, has term 2: this log is not of this group's history
     * ... Stopping"): x was safe, but only because n1 knew it committed, and n1's group was down.
     * Vote requests, appends and snapshot chunks now carry the fingerprint of their sender's
     * bootstrap, and n1 drops the others' (saying why), as they would drop its own.
     */
    @Test
    void aNodeOfAnotherBootstrapKeepsWhatItCommitted() {
        CoreCluster c = new CoreCluster(3);
        InMemoryLogStorage n1Log = new InMemoryLogStorage();
        c.storages.put("n1", n1Log);
        c.snapshots.put("n1", new InMemorySnapshotStore(2));
        c.nodeSettings.put("n1", b -> b.initialMembers("n1"));
        c.restart("n1");
        c.campaign("n1");
        assertEquals(Role.LEADER, c.core("n1").role(), "n1 alone is a majority of its own configuration");
        long x = c.propose("n1", "x");
        c.drain("n1");
        assertTrue(c.core("n1").commitIndex() >= x, "n1 committed x alone");

        for (String other : new String[]{"n2", "n3"}) {
            c.cut.add("n1>" + other);
            c.cut.add(other + ">n1");
        }
        String leader = null;
        for (int i = 0; i < 100 && leader == null; i++) {
            c.tickAll(1);
            leader = c.core("n2").role() == Role.LEADER ? "n2" : c.core("n3").role() == Role.LEADER ? "n3" : null;
        }
        for (int i = 0; i < 5 && c.core(leader).term() <= c.core("n1").term(); i++) {
            String next = leader.equals("n2") ? "n3" : "n2";
            c.tickAll(2);
            c.core(leader).transferLeadership(next);
            c.drain(leader);
            c.deliverAll();
            leader = next;
        }
        assertEquals(Role.LEADER, c.core(leader).role());
        assertTrue(c.core(leader).term() > c.core("n1").term(), "the others lead a later term than n1");
        c.heal();
        c.tickAll(30);

        assertEquals("x", n1Log.entries(x, x + 1, Long.MAX_VALUE).get(0).data().toUtf8(),
                "n1 lost x, which it had committed, at index " + x);
        assertEquals(Role.LEADER, c.core("n1").role(), "n1 still leads its own group");
        assertTrue(c.core("n1").foreignBootstrapMessagesDropped() > 0, "n1 dropped n2's appends");
        assertEquals(0, c.core(leader).foreignBootstrapMessagesDropped(), "n1 sends nothing: its group is itself");
    }

    /**
     * Two sides that elected a leader each in the same term, then healed: they used to take each
     * other's appends for another leader of their term (an error naming the likely causes, the
     * test's former subject). Now no message crosses from one bootstrap to the other: each node
     * logs why it drops them, the first time and then as their count doubles, and names the likely
     * cause.
     */
    @Test
    void sidesOfTwoBootstrapsDropEachOthersMessagesAndSayWhyWithoutFloodingTheLog() {
        CoreCluster c = new CoreCluster(5);
        for (String id : new String[]{"n1", "n2"}) {
            InMemoryLogStorage s = new InMemoryLogStorage();
            c.storages.put(id, s);
            c.cores.put(id, new RaftCore(RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                    .electionTimeoutTicks(10).build(), s, c.snapshots.get(id), new SplittableRandom(id.hashCode())));
            c.drain(id);
        }
        // Apart while they elect (on the Netty transport n1 and n2 refuse n4's and n5's frames anyway:
        // they have no address for them).
        for (String a : new String[]{"n1", "n2"}) {
            for (String b : new String[]{"n3", "n4", "n5"}) {
                c.cut.add(a + ">" + b);
                c.cut.add(b + ">" + a);
            }
        }
        c.tickAll(60);
        List<String> leaders = List.of(c.ids()).stream().filter(id -> c.core(id).role() == Role.LEADER).toList();
        assertEquals(2, leaders.size(), "one leader per side: " + leaders);
        assertEquals(c.core(leaders.get(0)).term(), c.core(leaders.get(1)).term());
        assertNotEquals(c.core("n1").bootstrapFingerprint(), c.core("n3").bootstrapFingerprint());

        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            c.heal();
            c.tickAll(300);   // 30 election timeouts of heartbeats from the other side's leader
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        original.print(log);
        assertTrue(log.lines().noneMatch(l -> l.contains("another leader")), log);
        for (String id : new String[]{"n1", "n2", "n3"}) { // n4 and n5 are no members of n1 and n2's group
            List<String> errors = log.lines().filter(l -> l.contains(id + ": dropping")).toList();
            assertTrue(!errors.isEmpty(), id + " dropped nothing:\n" + log);
            assertTrue(errors.size() <= 12, errors.size() + " errors logged by " + id + " for one cause:\n" + log);
            assertTrue(errors.get(0).contains("another bootstrap") && errors.get(0).contains("different initial members"),
                    errors.get(0));
        }
        assertEquals(leaders, List.of(c.ids()).stream().filter(id -> c.core(id).role() == Role.LEADER).toList(),
                "each side keeps its leader: no message crossed");
    }
}

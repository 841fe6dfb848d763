package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes bootstrapped with different initial members: n1 and n2 with {n1, n2, n3}, the other three
 * with {n1, ..., n5}. Each side counts a majority of its own configuration ({n1, n2} is one of
 * three, {n3, n4, n5} one of five), so each elects a leader of the same term and commits on its
 * own: a safety break Raft cannot see (entry 1 has the same index and term on every node, so the
 * logs "match"). All a leader can see is the other leader's appends in its own term.
 */
class DivergentInitialMembersTest {

    @Test
    void aLeaderSeeingAnotherLeaderOfItsTermSaysTheLikelyCausesWithoutFloodingTheLog() {
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

        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            c.heal();
            c.tickAll(300);   // 30 election timeouts of heartbeats from the other leader
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        original.print(log);
        List<String> errors = log.lines().filter(l -> l.contains("another leader")).toList();
        assertTrue(!errors.isEmpty(), log);
        assertTrue(errors.size() <= 12, errors.size() + " errors logged for one cause:\n" + log);
        assertTrue(errors.get(0).contains("different initial members"), errors.get(0));
        assertTrue(errors.get(0).contains("one node id running in two processes"), errors.get(0));
    }
}

package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RequestVote;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a node's bootstrap fingerprint comes from, and that it is kept. */
class BootstrapFingerprintTest {

    @Test
    void theFingerprintNamesTheGroupAndItsFirstVotersWhateverTheirOrder() {
        long fingerprint = BootstrapFingerprint.of("g", Set.of("n1", "n2", "n3"));
        assertEquals(fingerprint, BootstrapFingerprint.of("g", new LinkedHashSet<>(List.of("n3", "n1", "n2"))));
        assertNotEquals(fingerprint, BootstrapFingerprint.of("g", Set.of("n1", "n2")));
        assertNotEquals(fingerprint, BootstrapFingerprint.of("h", Set.of("n1", "n2", "n3")));
        assertNotEquals(BootstrapFingerprint.of("g", Set.of("n1", "n23")), BootstrapFingerprint.of("g", Set.of("n12", "n3")),
                "ids are separated, not run together");
        assertNotEquals(0, fingerprint);
    }

    @Test
    void aBootstrappedNodeStoresItsFingerprintWithItsFirstTermAndSendsIt() {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        RaftCore core = new RaftCore(RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").preVote(false).build(),
                storage, new SplittableRandom(1));
        long expected = BootstrapFingerprint.of(core.groupId(), Set.of("n1", "n2", "n3"));
        assertEquals(expected, core.bootstrapFingerprint());
        assertEquals(expected, core.ready().hardState().bootstrapFingerprint());
        core.campaign();
        List<RequestVote> requests = core.ready().messagesAfterPersist().stream()
                .filter(RequestVote.class::isInstance).map(RequestVote.class::cast).toList();
        assertEquals(2, requests.size());
        assertTrue(requests.stream().allMatch(r -> r.bootstrapFingerprint() == expected), requests.toString());
    }

    /** A log stored by a build that kept no fingerprint: its first entry is the bootstrap configuration. */
    @Test
    void aNodeRestartedOnALogStoredWithoutFingerprintTakesItFromItsFirstEntry() {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        ClusterConfig first = ClusterConfig.ofVoters(Set.of("n1", "n2", "n3"));
        storage.append(List.of(new LogEntry(1, 1, EntryType.CONFIG, first.encode())), new HardState(1, null));
        RaftCore core = new RaftCore(RaftConfig.builder("n1").build(), storage, new SplittableRandom(1));
        long expected = BootstrapFingerprint.of(core.groupId(), first.voters());
        assertEquals(expected, core.bootstrapFingerprint());
        assertEquals(expected, core.ready().hardState().bootstrapFingerprint(), "stored at once");
    }

    @Test
    void aNodeThatJoinedLearnsItsLeadersFingerprintAndKeepsItAcrossARestart() {
        CoreCluster c = new CoreCluster(3);
        c.addJoiningNode("n4");
        assertEquals(0, c.core("n4").bootstrapFingerprint(), "a node waiting to be added knows none");
        String leader = c.awaitSettledLeader();
        long expected = c.core(leader).bootstrapFingerprint();
        assertTrue(c.core(leader).changeMembership(ClusterConfig.ofVoters(Set.of("n1", "n2", "n3", "n4"))).accepted());
        c.drain(leader);
        c.tickAll(10);
        assertEquals(expected, c.core("n4").bootstrapFingerprint());
        assertEquals(expected, c.storages.get("n4").hardState().bootstrapFingerprint());
        c.restart("n4");
        assertEquals(expected, c.core("n4").bootstrapFingerprint());
    }

    /**
     * A leader that knows no fingerprint (its log, stored before fingerprints were, is compacted
     * past its first entry) ignores the appends of another leader of its own term: two leaders of one
     * term, of two bootstraps. It took that leader's fingerprint all the same, stored it and sent it
     * from then on, so the members of its own group that know theirs dropped its appends.
     */
    @Test
    void aLeaderIgnoringTheAppendOfAnotherLeaderOfItsTermDoesNotTakeItsFingerprint() {
        CoreCluster c = new CoreCluster(1, 10, b -> b.snapshotTrailingEntries(0));
        c.campaign("n1");
        c.propose("n1", "x");
        c.tickAll(3);
        c.takeSnapshot("n1");
        InMemoryLogStorage storage = c.storages.get("n1");
        assertTrue(storage.firstIndex() > 1, "compacted past entry 1");
        HardState stored = storage.hardState();
        storage.append(List.of(), new HardState(stored.term(), stored.votedFor())); // as stored before fingerprints
        c.restart("n1");
        assertEquals(0, c.core("n1").bootstrapFingerprint());
        c.campaign("n1");
        RaftCore n1 = c.core("n1");
        assertEquals(Role.LEADER, n1.role());

        n1.step(new AppendEntries(n1.groupId(), "n9", "n1", n1.term(), 0, 0, List.of(), 0, 0, false, 42));
        c.drain("n1");
        assertEquals(Role.LEADER, n1.role(), "the other leader's append is ignored");
        assertEquals(0, n1.bootstrapFingerprint(), "taken from an append it ignored");
        assertEquals(0, storage.hardState().bootstrapFingerprint());
    }
}

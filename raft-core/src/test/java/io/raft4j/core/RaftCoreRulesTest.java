package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test per rule of the Raft paper's Figure 2 and §5.4, on a single pure core driven by hand.
 */
class RaftCoreRulesTest {
    private static final String G = "default";

    /** A follower "n1" of {n1,n2,n3} whose log holds the given terms at indexes 1.. (after the config entry). */
    private static RaftCore follower(long currentTerm, long... terms) {
        return follower(RaftConfig.builder("n1").checkQuorum(false).preVote(false), currentTerm, terms);
    }

    /** The storage behind the last core built, for tests that carry out writes themselves. */
    private static InMemoryLogStorage storage;

    private static RaftCore follower(RaftConfig.Builder settings, long currentTerm, long... terms) {
        storage = new InMemoryLogStorage();
        List<LogEntry> entries = new ArrayList<>();
        entries.add(new LogEntry(1, 1, EntryType.CONFIG, ClusterConfig.ofVoters(java.util.Set.of("n1", "n2", "n3")).encode()));
        for (int i = 0; i < terms.length; i++) {
            entries.add(LogEntry.command(i + 2, terms[i], Bytes.ofUtf8("e" + (i + 2))));
        }
        storage.append(entries, new HardState(currentTerm, null));
        return new RaftCore(settings.build(), storage, new SplittableRandom(1));
    }

    private static List<RaftMessage> sent(Ready rd) {
        List<RaftMessage> all = new ArrayList<>(rd.messages());
        all.addAll(rd.messagesAfterPersist());
        return all;
    }

    private static <T extends RaftMessage> T only(Class<T> type, Ready rd) {
        List<RaftMessage> all = sent(rd).stream().filter(type::isInstance).toList();
        assertEquals(1, all.size(), "expected one " + type.getSimpleName() + " in " + all);
        return type.cast(all.get(0));
    }

    private static RequestVote vote(String from, long term, long lastIndex, long lastTerm) {
        return new RequestVote(G, from, "n1", term, lastIndex, lastTerm, false, false);
    }

    private static AppendEntries append(long term, long prevIndex, long prevTerm, long commit, long... entryTerms) {
        List<LogEntry> entries = new ArrayList<>();
        for (int i = 0; i < entryTerms.length; i++) {
            entries.add(LogEntry.command(prevIndex + 1 + i, entryTerms[i], Bytes.ofUtf8("L" + (prevIndex + 1 + i))));
        }
        return new AppendEntries(G, "n2", "n1", term, prevIndex, prevTerm, entries, commit, 0);
    }

    @Test
    void votesAtMostOncePerTerm() {
        RaftCore core = follower(2);
        core.step(vote("n2", 3, 1, 1));
        assertTrue(only(RequestVoteResponse.class, core.ready()).granted());
        core.step(vote("n3", 3, 1, 1));
        assertFalse(only(RequestVoteResponse.class, core.ready()).granted(), "second vote in the same term");
        core.step(vote("n2", 3, 1, 1));
        assertTrue(only(RequestVoteResponse.class, core.ready()).granted(), "repeating the vote to the same candidate is fine");
    }

    @Test
    void voteGrantIsSentOnlyAfterTermAndVoteArePersisted() {
        RaftCore core = follower(2);
        core.step(vote("n2", 3, 1, 1));
        Ready rd = core.ready();
        assertEquals(List.of(3L, "n2"), List.of(rd.hardState().term(), rd.hardState().votedFor()));
        assertTrue(rd.messages().isEmpty());
        assertTrue(((RequestVoteResponse) rd.messagesAfterPersist().get(0)).granted());
    }

    @Test
    void rejectsVoteForCandidateWhoseLogIsLessUpToDate() {
        RaftCore core = follower(3, 2, 3);                      // last entry (3, term 3)
        core.step(vote("n2", 4, 5, 2));                          // longer log, older last term
        assertFalse(only(RequestVoteResponse.class, core.ready()).granted());
        core.step(vote("n3", 4, 2, 3));                          // same last term, shorter
        assertFalse(only(RequestVoteResponse.class, core.ready()).granted());
        core.step(vote("n3", 4, 3, 3));                          // as up to date
        assertTrue(only(RequestVoteResponse.class, core.ready()).granted());
    }

    @Test
    void rejectsVoteFromOlderTerm() {
        RaftCore core = follower(5);
        core.ready();
        core.step(vote("n2", 4, 9, 4));
        Ready rd = core.ready();
        assertTrue(sent(rd).isEmpty(), "a vote request from an older term is ignored");
        assertEquals(5, core.term());
    }

    @Test
    void rejectsAppendEntriesOfAnOlderTermAndTellsTheSenderTheNewTerm() {
        RaftCore core = follower(5, 1);
        core.ready();
        core.step(append(4, 2, 1, 0, 4));
        AppendEntriesResponse r = only(AppendEntriesResponse.class, core.ready());
        assertFalse(r.success());
        assertEquals(5, r.term());
        assertEquals(2, core.lastIndex(), "nothing appended");
    }

    @Test
    void rejectsAppendEntriesWhoseLogDoesNotMatchAndHintsTheConflictTerm() {
        RaftCore core = follower(3, 1, 2, 2, 2);                 // indexes 2..5: terms 1,2,2,2
        core.ready();
        core.step(append(3, 5, 3, 0, 3));                        // leader says index 5 has term 3
        AppendEntriesResponse r = only(AppendEntriesResponse.class, core.ready());
        assertFalse(r.success());
        assertEquals(5, r.index());
        assertEquals(2, r.hintTerm());
        assertEquals(3, r.hintIndex(), "first index of the conflicting term");
        core.step(append(3, 9, 3, 0, 3));                        // beyond our log
        r = only(AppendEntriesResponse.class, core.ready());
        assertEquals(0, r.hintTerm());
        assertEquals(6, r.hintIndex(), "our last index + 1");
    }

    @Test
    void truncatesOnlyFromTheFirstConflictingEntry() {
        RaftCore core = follower(3, 1, 2, 2);                    // 2:1 3:2 4:2
        core.ready();
        core.step(append(3, 2, 1, 0, 2, 3));                     // 3:2 matches, 4:3 conflicts
        Ready rd = core.ready();
        assertEquals(List.of(4L), rd.entriesToPersist().stream().map(LogEntry::index).toList());
        assertEquals(3, core.termAt(4));
        assertEquals(2, core.termAt(3));
        assertEquals(4, core.lastIndex());
    }

    @Test
    void neverTruncatesOnAStaleOrDuplicateAppend() {
        RaftCore core = follower(3, 1, 3, 3, 3);                 // 2..5
        core.ready();
        core.step(append(3, 1, 1, 0, 1, 3));                     // an old, shorter request: 2:1 3:3
        Ready rd = core.ready();
        assertTrue(rd.entriesToPersist().isEmpty(), "nothing rewritten");
        assertEquals(5, core.lastIndex(), "entries after the stale request's end are kept");
        assertTrue(only(AppendEntriesResponse.class, rd).success());
    }

    /**
     * A leader never disagrees with a follower about an entry the follower knows committed, unless
     * the follower's log is of another history (another cluster's data directory). It used to skip
     * such entries unchecked and acknowledge them, so the leader counted entries this node did not
     * hold toward its commits.
     */
    @Test
    void aLeaderDisagreeingAboutACommittedEntryStopsTheFollower() {
        RaftCore core = follower(2, 1, 2);                                   // 2 t1, 3 t2
        core.step(append(2, 3, 2, 3));                                       // commits up to 3
        core.ready();
        assertEquals(3, core.commitIndex());

        core.step(append(2, 3, 2, 3, 2));                                    // agreeing: fine
        core.ready();
        IllegalStateException before = assertThrows(IllegalStateException.class,
                () -> core.step(append(5, 1, 1, 3, 1, 5)));                  // entry 3: term 5 there, 2 here
        assertTrue(before.getMessage().contains("not of this group's history"), before.getMessage());
        IllegalStateException at = assertThrows(IllegalStateException.class,
                () -> core.step(append(7, 2, 7, 3)));                        // a heartbeat: entry 2 term 7 there
        assertTrue(at.getMessage().contains("holds entry 2 with term 7"), at.getMessage());
    }

    @Test
    void followerCommitIsMinOfLeaderCommitAndLastNewEntry() {
        RaftCore core = follower(3, 1, 1, 1, 1);                 // 2..5, all term 1
        core.ready();
        core.step(append(3, 2, 1, 100));                         // heartbeat checking index 2, commit 100
        core.ready();
        assertEquals(2, core.commitIndex(), "commit is limited to the last entry this request vouches for");
        core.step(append(3, 3, 1, 4, 3));                        // new entry 4, leader commit 4
        core.ready();
        assertEquals(4, core.commitIndex());
    }

    @Test
    void appendAcknowledgementWaitsForThePersist() {
        RaftCore core = follower(3, 1);
        core.ready();
        core.step(append(3, 2, 1, 0, 3));
        Ready rd = core.ready();
        assertEquals(1, rd.entriesToPersist().size());
        assertTrue(rd.messages().isEmpty());
        assertTrue(((AppendEntriesResponse) rd.messagesAfterPersist().get(0)).success());
    }

    @Test
    void committedEntriesAreHandedOutOnceInOrderOnlyWhenDurable() {
        RaftCore core = follower(3, 1);
        core.ready();
        core.step(append(3, 2, 1, 4, 3, 3));                     // entries 3,4 committed but not yet durable here
        Ready rd = core.ready();
        assertEquals(List.of(1L, 2L), rd.committedEntries().stream().map(LogEntry::index).toList());
        storage.append(rd.entriesToPersist(), rd.hardState());
        core.persisted(4, 3);
        assertEquals(List.of(3L, 4L), core.ready().committedEntries().stream().map(LogEntry::index).toList());
        assertTrue(core.ready().committedEntries().isEmpty());
    }

    @Test
    void higherTermMakesAnyNodeFollowerAndClearsItsVote() {
        RaftCore core = follower(2);
        core.step(vote("n2", 3, 1, 1));
        core.ready();
        core.step(append(7, 1, 1, 0));
        assertEquals(7, core.term());
        assertNull(core.votedFor());
        assertEquals("n2", core.leaderId());
        assertEquals(Role.FOLLOWER, core.role());
    }

    @Test
    void leaderStickinessIgnoresVoteRequestsWhileTheLeaderIsAlive() {
        RaftCore core = follower(RaftConfig.builder("n1").checkQuorum(true), 3, 1);
        core.step(append(3, 2, 1, 0));
        core.ready();
        core.step(vote("n3", 4, 9, 3));
        assertTrue(sent(core.ready()).isEmpty(), "disruptive vote request ignored");
        assertEquals(3, core.term(), "term not raised by a disruptive candidate");
        core.step(new RequestVote(G, "n3", "n1", 4, 9, 3, true, false));
        assertTrue(sent(core.ready()).isEmpty(), "pre-votes are ignored too");
        core.step(new RequestVote(G, "n3", "n1", 4, 9, 3, false, true));
        assertTrue(only(RequestVoteResponse.class, core.ready()).granted(), "a leadership transfer overrides stickiness");
    }

    @Test
    void aRestartedVoterWaitsOneElectionTimeoutBeforeHeedingVoteRequests() {
        // Just started, a node cannot tell whether a leader is alive: it heard from none yet. Voting
        // at once would let a disruptive candidate (one that was cut off) depose a live leader
        // whenever a follower restarts, so the node is sticky for one election timeout.
        RaftCore core = follower(RaftConfig.builder("n1").checkQuorum(true).preVote(false).electionTimeoutTicks(10)
                .heartbeatIntervalTicks(1), 3, 1);
        core.ready();
        core.step(vote("n3", 4, 9, 3));
        assertTrue(sent(core.ready()).isEmpty(), "vote request ignored just after the start");
        assertEquals(3, core.term(), "term not raised by it");
        for (int i = 0; i < 10; i++) {
            core.tick();
        }
        core.ready();
        core.step(vote("n3", 9, 9, 3));
        RequestVoteResponse r = only(RequestVoteResponse.class, core.ready());
        assertTrue(r.granted(), "after one election timeout without a leader the node votes");
        assertEquals(9, r.term());
    }

    @Test
    void aLeadershipTransferDoesNotOverrideTheUpToDateCheck() {
        // The transfer flag only lifts leader stickiness: a target that is not caught up (the leader
        // sends TimeoutNow only to one that is, but messages reorder and logs change) must still
        // lose, or it could be elected without entries a majority committed.
        RaftCore core = follower(RaftConfig.builder("n1").checkQuorum(true), 3, 1, 3);
        core.step(append(3, 3, 3, 0));
        core.ready();
        core.step(new RequestVote(G, "n3", "n1", 4, 2, 1, false, true));   // older last term
        assertFalse(only(RequestVoteResponse.class, core.ready()).granted());
        core.step(new RequestVote(G, "n2", "n1", 4, 2, 3, false, true));   // same last term, shorter
        assertFalse(only(RequestVoteResponse.class, core.ready()).granted());
        core.step(new RequestVote(G, "n2", "n1", 4, 3, 3, false, true));   // as up to date
        assertTrue(only(RequestVoteResponse.class, core.ready()).granted());
    }

    @Test
    void preVoteDoesNotChangeTermOrVote() {
        RaftCore core = follower(3, 1);
        core.ready();
        core.step(new RequestVote(G, "n2", "n1", 4, 9, 3, true, false));
        RequestVoteResponse r = only(RequestVoteResponse.class, core.ready());
        assertTrue(r.granted());
        assertTrue(r.preVote());
        assertEquals(4, r.term(), "a granted pre-vote answers with the candidate's prospective term");
        assertEquals(3, core.term());
        assertNull(core.votedFor());
    }

    @Test
    void candidateCountsItsOwnVoteOnlyAfterPersisting() {
        RaftCore core = follower(RaftConfig.builder("n1").preVote(false), 1);
        core.ready();
        core.campaign();
        Ready rd = core.ready();
        assertEquals(List.of(2L, "n1"), List.of(rd.hardState().term(), rd.hardState().votedFor()));
        assertNotNull(rd.messagesAfterPersist().stream().filter(m -> m.to().equals("n1")).findFirst().orElse(null));
        core.step(new RequestVoteResponse(G, "n2", "n1", 2, true, false));
        assertEquals(Role.CANDIDATE, core.role(), "one vote of three is not a majority without our own");
        core.step(rd.messagesAfterPersist().stream().filter(m -> m.to().equals("n1")).findFirst().orElseThrow());
        assertEquals(Role.LEADER, core.role());
    }


    /**
     * The other voters' votes alone elect a candidate of three or more voters: if its requests left
     * before its new term was durable, it could win a term a crash makes it forget, and lead that
     * same term again after restarting (found in review; the simulation now checks that every
     * leader's term is durable).
     */
    @Test
    void candidateAsksForVotesOnlyOnceItsTermIsDurable() {
        RaftCore core = follower(RaftConfig.builder("n1").preVote(false), 1);
        core.ready();
        core.campaign();
        Ready rd = core.ready();
        assertEquals(List.of(2L, "n1"), List.of(rd.hardState().term(), rd.hardState().votedFor()));
        assertTrue(rd.messages().stream().noneMatch(RequestVote.class::isInstance),
                "vote requests went out with the term still unwritten: " + rd.messages());
        assertEquals(List.of("n2", "n3"), rd.messagesAfterPersist().stream()
                .filter(RequestVote.class::isInstance).map(RaftMessage::to).sorted().toList());
    }

    @Test
    void preVoteRequestsGoAtOnce() {
        RaftCore core = follower(RaftConfig.builder("n1").preVote(true), 1);
        core.ready();
        core.campaign();
        Ready rd = core.ready();
        assertEquals(2, rd.messages().stream().filter(m -> m instanceof RequestVote v && v.preVote()).count(),
                "a pre-vote changes no durable state, so nothing holds it: " + rd.messages());
        assertEquals(1, core.term());
    }
    @Test
    void newLeaderAppendsANoOpOfItsTerm() {
        RaftCore core = follower(RaftConfig.builder("n1").preVote(false), 1, 1);
        core.campaign();
        Ready rd = core.ready();
        core.step(rd.messagesAfterPersist().get(0));
        core.step(new RequestVoteResponse(G, "n2", "n1", 2, true, false));
        assertEquals(Role.LEADER, core.role());
        LogEntry last = core.entries(core.lastIndex(), core.lastIndex() + 1).get(0);
        assertEquals(EntryType.NOOP, last.type());
        assertEquals(2, last.term());
    }

    @Test
    void aLeaderRefusesACommandLargerThanAnEntryMayBe() {
        RaftCore core = follower(RaftConfig.builder("n1").preVote(false).maxEntryBytes(100), 1, 1);
        core.campaign();
        Ready rd = core.ready();
        core.step(rd.messagesAfterPersist().get(0));
        core.step(new RequestVoteResponse(G, "n2", "n1", 2, true, false));
        long last = core.lastIndex();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> core.propose(Bytes.wrap(new byte[101])));
        assertTrue(e.getMessage().contains("maxEntryBytes"), e.getMessage());
        assertEquals(last, core.lastIndex(), "nothing appended");
        assertEquals(last + 1, core.propose(Bytes.wrap(new byte[100])));
    }

    @Test
    void nonLeaderRejectsProposalsAndReads() {
        RaftCore core = follower(1);
        assertEquals(0, core.propose(Bytes.ofUtf8("x")));
        assertFalse(core.readIndex(1));
    }

    @Test
    void figure8NeverCommitsAnOldTermEntryByCountingReplicas() {
        // n1 of five holds an entry of term 2 at index 2 and becomes leader of term 4 (noop at 3).
        storage = new InMemoryLogStorage();
        storage.append(List.of(
                new LogEntry(1, 1, EntryType.CONFIG,
                        ClusterConfig.ofVoters(java.util.Set.of("n1", "n2", "n3", "n4", "n5")).encode()),
                LogEntry.command(2, 2, Bytes.ofUtf8("old"))), new HardState(3, null));
        RaftCore core = new RaftCore(RaftConfig.builder("n1").preVote(false).build(), storage, new SplittableRandom(3));
        core.campaign();
        Ready rd = core.ready();
        storage.append(rd.entriesToPersist(), rd.hardState());
        core.step(rd.messagesAfterPersist().get(0));
        core.step(new RequestVoteResponse(G, "n2", "n1", 4, true, false));
        core.step(new RequestVoteResponse(G, "n3", "n1", 4, true, false));
        assertEquals(Role.LEADER, core.role());
        rd = core.ready();
        storage.append(rd.entriesToPersist(), rd.hardState());
        core.persisted(3, 4);
        // n2 and n3 now hold index 2 (term 2): with n1 that is a majority of five holding index 2.
        core.step(new AppendEntriesResponse(G, "n2", "n1", 4, true, 2, 0, 0, 0, 0));
        core.step(new AppendEntriesResponse(G, "n3", "n1", 4, true, 2, 0, 0, 0, 0));
        assertTrue(core.commitIndex() < 2, "an entry of term 2 must not be committed by counting replicas in term 4");
        // Once an entry of the current term reaches a majority, it and everything before it commit.
        core.step(new AppendEntriesResponse(G, "n2", "n1", 4, true, 3, 0, 0, 0, 0));
        core.step(new AppendEntriesResponse(G, "n3", "n1", 4, true, 3, 0, 0, 0, 0));
        assertEquals(3, core.commitIndex());
    }

    /**
     * Fast backtracking (thesis §5.3's optimisation): one rejection carrying the follower's
     * conflicting term moves the leader past that whole term. Were the leader to probe one entry
     * too far, each probe would be rejected again and the follower would catch up a round trip
     * per entry, or never while entries keep coming.
     */
    @Test
    void leaderSkipsTheFollowersConflictingTermInOneRoundTrip() {
        // n1's log: 1 config (t1), 2 t1, 3 t2, 4 t2, 5 to 7 t4; it leads term 5 (no-op at 8).
        RaftCore core = follower(RaftConfig.builder("n1").preVote(false).checkQuorum(false), 4, 1, 2, 2, 4, 4, 4);
        core.campaign();
        Ready rd = core.ready();
        storage.append(rd.entriesToPersist(), rd.hardState());
        core.step(rd.messagesAfterPersist().get(0));
        core.step(new RequestVoteResponse(G, "n2", "n1", 5, true, false));
        assertEquals(Role.LEADER, core.role());
        AppendEntries first = appendTo("n2", core.ready());
        assertEquals(7, first.prevLogIndex(), "a new leader first probes from its own last entry");

        // n2 holds term 2 from 3 to 7: the leader's last entry of term 2 is 4, so it probes from there.
        core.step(new AppendEntriesResponse(G, "n2", "n1", 5, false, 7, 3, 2, first.round(), 0));
        AppendEntries second = appendTo("n2", core.ready());
        assertEquals(4, second.prevLogIndex(), "right after this leader's last entry of the conflicting term");
        assertEquals(2, second.prevLogTerm());

        // n3 holds term 3 from 4 on, a term this leader never saw: skip it whole.
        core.step(new AppendEntriesResponse(G, "n3", "n1", 5, false, 7, 4, 3, first.round(), 0));
        AppendEntries third = appendTo("n3", core.ready());
        assertEquals(3, third.prevLogIndex(), "just before the follower's first entry of a term the leader lacks");
    }

    private static AppendEntries appendTo(String peer, Ready rd) {
        List<RaftMessage> to = sent(rd).stream().filter(m -> m instanceof AppendEntries && m.to().equals(peer)).toList();
        assertEquals(1, to.size(), "expected one AppendEntries to " + peer + " in " + sent(rd));
        return (AppendEntries) to.get(0);
    }

    @Test
    void leaderCountsItsOwnEntriesOnlyOnceDurable() {
        RaftCore core = follower(RaftConfig.builder("n1").preVote(false), 1);
        core.campaign();
        Ready rd = core.ready();
        storage.append(rd.entriesToPersist(), rd.hardState());
        core.step(rd.messagesAfterPersist().get(0));
        core.step(new RequestVoteResponse(G, "n2", "n1", 2, true, false));
        rd = core.ready();                                        // noop at 2, not yet durable here
        core.step(new AppendEntriesResponse(G, "n2", "n1", 2, true, 2, 0, 0, 0, 0));
        assertTrue(core.commitIndex() < 2, "the leader's own copy counts only once durable");
        storage.append(rd.entriesToPersist(), rd.hardState());
        core.persisted(2, 2);
        assertEquals(2, core.commitIndex());
    }
}

package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.HardState;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.message.TimeoutNow;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.raft4j.message.RaftMessage.MAX_TERM_OR_INDEX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The core drops, changing nothing and answering nothing, the messages no correct member sends and
 * that could break it: terms and indexes beyond {@link RaftMessage#MAX_TERM_OR_INDEX} (a node that
 * took term {@code Long.MAX_VALUE} could never campaign again, the next term overflowing), and
 * appends or snapshots whose terms cannot be those of a leader's log. Whatever the transport: an
 * embedder's own, or the in-memory one, checks nothing.
 */
class MalformedMessageTest {
    private static final String G = "default";
    private static final long OVER = MAX_TERM_OR_INDEX + 1;
    private static final SnapshotMeta SNAPSHOT = new SnapshotMeta(10, 5, ClusterConfig.ofVoters(Set.of("n1", "n2", "n3")));

    /** Follower "n1" of {n1,n2,n3} in term 5 that voted for n3, log: 1 (term 1, config), 2 (term 3), 3 (term 5). */
    private static RaftCore follower() {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        storage.append(List.of(
                new LogEntry(1, 1, EntryType.CONFIG, ClusterConfig.ofVoters(Set.of("n1", "n2", "n3")).encode()),
                LogEntry.command(2, 3, Bytes.ofUtf8("a")),
                LogEntry.command(3, 5, Bytes.ofUtf8("b"))), new HardState(5, "n3"));
        RaftCore core = new RaftCore(RaftConfig.builder("n1").checkQuorum(false).preVote(false).build(), storage,
                new SplittableRandom(1));
        core.ready();
        return core;
    }

    private static AppendEntries append(long term, long prevIndex, long prevTerm, long... entryTerms) {
        return appendAt(term, prevIndex, prevTerm, prevIndex + 1, entryTerms);
    }

    /** An append whose entries sit at {@code firstIndex}, {@code firstIndex + 2}, ... after the first. */
    private static AppendEntries appendAt(long term, long prevIndex, long prevTerm, long firstIndex, long... entryTerms) {
        List<LogEntry> entries = new ArrayList<>();
        for (int i = 0; i < entryTerms.length; i++) {
            long index = i == 0 ? firstIndex : firstIndex + 2L * i;
            entries.add(LogEntry.command(index, entryTerms[i], Bytes.ofUtf8("x")));
        }
        return new AppendEntries(G, "n2", "n1", term, prevIndex, prevTerm, entries, 0, 0);
    }

    static Stream<Arguments> toFollower() {
        return Stream.of(
                Arguments.of("append of term Long.MAX_VALUE", append(Long.MAX_VALUE, 3, 5)),
                Arguments.of("append of term 2^62 + 1", append(OVER, 3, 5)),
                Arguments.of("append of a negative term", append(-1, 3, 5)),
                Arguments.of("vote request of term 2^62 + 1", new RequestVote(G, "n2", "n1", OVER, 3, 5, false, false)),
                Arguments.of("pre-vote of term 2^62 + 1", new RequestVote(G, "n2", "n1", OVER, 3, 5, true, false)),
                Arguments.of("vote request with last index Long.MAX_VALUE",
                        new RequestVote(G, "n2", "n1", 6, Long.MAX_VALUE, 5, false, false)),
                Arguments.of("vote request with a last log term above its term",
                        new RequestVote(G, "n2", "n1", 6, 3, 7, false, false)),
                Arguments.of("timeout-now of term 2^62 + 1", new TimeoutNow(G, "n2", "n1", OVER)),
                Arguments.of("vote answer of term 2^62 + 1", new RequestVoteResponse(G, "n2", "n1", OVER, false, false)),
                Arguments.of("read-index request of a negative term", new ReadIndexRequest(G, "n2", "n1", -1, 1, false)),
                Arguments.of("append with prevLogIndex 2^62 + 1", append(6, OVER, 5)),
                Arguments.of("append with an entry at index 2^62 + 1", append(6, MAX_TERM_OR_INDEX, 5, 6)),
                Arguments.of("append with leaderCommit Long.MAX_VALUE",
                        new AppendEntries(G, "n2", "n1", 6, 3, 5, List.of(), Long.MAX_VALUE, 0)),
                Arguments.of("append with prevLogTerm above its term", append(6, 3, 7)),
                Arguments.of("append whose entry terms decrease", append(6, 3, 5, 6, 5)),
                Arguments.of("append with an entry term below prevLogTerm", append(6, 3, 5, 4)),
                Arguments.of("append with an entry term above its term", append(6, 3, 5, 6, 7)),
                Arguments.of("append with entries not contiguous", appendAt(6, 3, 5, 4, 6, 6)),
                Arguments.of("snapshot of a term above the message's",
                        new InstallSnapshot(G, "n2", "n1", 6, new SnapshotMeta(10, 7, SNAPSHOT.config()), 0,
                                Bytes.ofUtf8("s"), true, 0)),
                Arguments.of("snapshot at index Long.MAX_VALUE",
                        new InstallSnapshot(G, "n2", "n1", 6, new SnapshotMeta(Long.MAX_VALUE, 5, SNAPSHOT.config()), 0,
                                Bytes.ofUtf8("s"), true, 0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("toFollower")
    void followerDropsWithoutAnyChange(String name, RaftMessage m) {
        RaftCore core = follower();
        core.step(m);
        assertFalse(core.hasReady(), "nothing to persist, send or apply");
        assertEquals(5, core.term());
        assertEquals("n3", core.votedFor());
        assertEquals(Role.FOLLOWER, core.role());
        assertEquals(null, core.leaderId());
        assertEquals(3, core.lastIndex());
        assertEquals(5, core.termAt(3));
        assertEquals(0, core.commitIndex());
        assertEquals(1, core.malformedMessagesDropped());
    }

    static Stream<Arguments> toLeader() {
        return Stream.of(
                Arguments.of("append answer acknowledging index Long.MAX_VALUE",
                        (MessageAt) (to, from, term) -> new AppendEntriesResponse(G, from, to, term, true, Long.MAX_VALUE, 0, 0, 0, 0)),
                Arguments.of("append answer hinting index 2^62 + 1",
                        (MessageAt) (to, from, term) -> new AppendEntriesResponse(G, from, to, term, false, 1, OVER, 0, 0, 0)),
                Arguments.of("append answer hinting a negative term",
                        (MessageAt) (to, from, term) -> new AppendEntriesResponse(G, from, to, term, false, 1, 1, -1, 0, 0)),
                Arguments.of("append answer with a negative vote refusal window",
                        (MessageAt) (to, from, term) -> new AppendEntriesResponse(G, from, to, term, true, 1, 0, 0, 0, -1)),
                Arguments.of("snapshot answer for index Long.MAX_VALUE",
                        (MessageAt) (to, from, term) -> new InstallSnapshotResponse(G, from, to, term, Long.MAX_VALUE, 0, true, false)),
                Arguments.of("read-index answer of index 2^62 + 1",
                        (MessageAt) (to, from, term) -> new ReadIndexResponse(G, from, to, term, 1, OVER, false)),
                Arguments.of("append answer of term 2^62 + 1",
                        (MessageAt) (to, from, term) -> new AppendEntriesResponse(G, from, to, OVER, false, 1, 1, 0, 0, 0)));
    }

    /** A message to the leader from a follower, given the leader's current term. */
    interface MessageAt {
        RaftMessage of(String to, String from, long term);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("toLeader")
    void leaderDropsWithoutAnyChange(String name, MessageAt message) {
        CoreCluster cluster = new CoreCluster(3);
        String leaderId = cluster.awaitSettledLeader();
        String followerId = leaderId.equals("n1") ? "n2" : "n1";
        RaftCore leader = cluster.core(leaderId);
        long term = leader.term();
        long commit = leader.commitIndex();
        long match = leader.matchIndexOf(followerId);

        leader.step(message.of(leaderId, followerId, term));

        assertFalse(leader.hasReady(), "nothing to persist, send or apply");
        assertEquals(Role.LEADER, leader.role());
        assertEquals(term, leader.term());
        assertEquals(commit, leader.commitIndex());
        assertEquals(match, leader.matchIndexOf(followerId));
        assertEquals(1, leader.malformedMessagesDropped());
    }
}

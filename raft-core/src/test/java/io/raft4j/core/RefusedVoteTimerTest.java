package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.Bytes;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RequestVote;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Raft's Figure 2: a follower campaigns when an election timeout passes without hearing from the
 * leader or granting a vote. A vote request of a newer term that it refuses (the candidate's log
 * is behind) must not restart that timeout. It used to: in a simulation with clocks skewed (seed
 * 1579, 3 nodes, once read rounds no longer sent the leader back to probing, which changed the run)
 * the only voters with up-to-date logs ran slow, the two behind kept campaigning and restarting
 * their timers, and no leader was elected in the 400 ms after healing.
 */
class RefusedVoteTimerTest {

    @Test
    void aRefusedVoteRequestOfANewerTermDoesNotRestartTheElectionTimer() {
        RaftConfig config = RaftConfig.builder("n1").initialMembers("n1", "n2", "n3").electionTimeoutTicks(10)
                .preVote(false).checkQuorum(false).build();
        RandomGenerator noJitter = () -> 0L;   // every randomized election timeout is 10 ticks
        RaftCore core = new RaftCore(config, new InMemoryLogStorage(), noJitter);
        // n3 leads term 1 and replicates an entry n2 does not get.
        core.step(new AppendEntries(config.groupId(), "n3", "n1", 1, 0, 0,
                List.of(LogEntry.command(1, 1, Bytes.ofUtf8("x"))), 0, 1));
        assertEquals(1, core.lastIndex());
        for (int i = 0; i < 9; i++) {
            core.tick();
        }
        assertEquals(Role.FOLLOWER, core.role());

        core.step(new RequestVote(config.groupId(), "n2", "n1", 5, 0, 0, false, false));
        assertEquals(5, core.term());
        assertEquals(Role.FOLLOWER, core.role(), "the candidate's log is behind: refused");

        core.tick();
        assertEquals(Role.CANDIDATE, core.role(), "10 ticks without a leader or a vote granted");
    }
}

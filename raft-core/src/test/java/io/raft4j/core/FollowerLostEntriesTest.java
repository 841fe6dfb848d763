package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.LogEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A follower whose storage lost entries it had acknowledged (a damaged write-ahead log, a data
 * directory restored from an older copy) used to be probed at its old match index for ever: it
 * never caught up, and the leader reported it with no lag. The leader now sends the entries again.
 */
class FollowerLostEntriesTest {

    @Test
    void aFollowerThatLostAcknowledgedEntriesIsCaughtUpAgain() {
        CoreCluster c = new CoreCluster(3, 10);
        String leader = c.awaitLeader();
        for (int i = 0; i < 10; i++) {
            c.propose(leader, "v" + i);
        }
        c.tickAll(3);
        String follower = List.of(c.ids()).stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        long last = c.core(leader).lastIndex();
        assertEquals(last, c.core(leader).matchIndexOf(follower));
        assertEquals(0, c.core(leader).followerLogLosses());

        c.crash(follower);
        c.storages.put(follower, withoutLastEntries(c.storages.get(follower), 4));
        c.restart(follower);
        c.tickAll(10);

        assertEquals(last, c.core(follower).lastIndex(), "the lost entries were sent again");
        assertEquals(1, c.core(leader).followerLogLosses());
        assertEquals(last, c.core(leader).matchIndexOf(follower));
        c.propose(leader, "after");
        c.tickAll(3);
        assertEquals(c.applied.get(leader), c.applied.get(follower));
    }

    /** The follower's storage as a damaged one reopens: the same, less its last {@code count} entries. */
    private static InMemoryLogStorage withoutLastEntries(InMemoryLogStorage storage, int count) {
        InMemoryLogStorage shorter = new InMemoryLogStorage();
        List<LogEntry> kept = storage.entries(storage.firstIndex(), storage.lastIndex() + 1 - count, Long.MAX_VALUE);
        shorter.append(kept, storage.hardState());
        return shorter;
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node's log is its own: started on another node's, it would take over that node's vote. */
class StorageOwnershipTest {
    private final InMemoryTransport network = new InMemoryTransport();

    @AfterEach
    void closeNetwork() {
        network.close();
    }

    private RaftNode<String> build(String groupId, String nodeId, InMemoryLogStorage storage) {
        RaftConfig config = RaftConfig.builder(nodeId).groupId(groupId).initialMembers("n1", "n2", "n3").build();
        return RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                .transport(network).storage(storage).tickMillis(10).build();
    }

    @Test
    void aNewStorageBecomesTheFirstNodesAndTheSameNodeRestartsOnIt() {
        InMemoryLogStorage storage = new InMemoryLogStorage();

        build("g", "n1", storage).close();
        assertEquals(Optional.of(new LogOwner("g", "n1")), storage.reopen().owner());

        build("g", "n1", storage.reopen()).close(); // a restart of the same node
        assertEquals(Optional.of(new LogOwner("g", "n1")), storage.reopen().owner());
    }

    @Test
    void anotherNodeOrGroupIsRefusedAndNothingIsWritten() {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        storage.recordOwner(new LogOwner("g", "n1"));
        storage.append(List.of(), new HardState(7, "n1"));

        StorageException otherNode = assertThrows(StorageException.class, () -> build("g", "n2", storage));
        assertTrue(otherNode.getMessage().contains("belongs to node n1 of group g"), otherNode.getMessage());
        assertTrue(otherNode.getMessage().contains("given to node n2 of group g"), otherNode.getMessage());
        StorageException otherGroup = assertThrows(StorageException.class, () -> build("h", "n1", storage));
        assertTrue(otherGroup.getMessage().contains("belongs to node n1 of group g"), otherGroup.getMessage());

        assertEquals(new HardState(7, "n1"), storage.hardState());
        assertEquals(Optional.of(new LogOwner("g", "n1")), storage.owner());
    }

    @Test
    void aStorageTheCoreRefusesIsLeftWithoutAnOwner() {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        List<LogEntry> entries = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            entries.add(LogEntry.command(i, 1, Bytes.ofUtf8("e" + i)));
        }
        storage.append(entries, new HardState(1, "n1"));
        storage.compact(5, 1); // and no snapshot covers 1..5: no node can start on it

        assertThrows(IllegalStateException.class, () -> build("g", "n2", storage));

        assertEquals(Optional.empty(), storage.owner(), "a refused build records no owner");
    }

    @Test
    void aStorageWrittenBeforeOwnersWereRecordedIsClaimedByTheNodeThatStartsOnIt() {
        InMemoryLogStorage storage = new InMemoryLogStorage();
        storage.append(List.of(), new HardState(3, "n2"));

        build("g", "n2", storage).close();

        assertEquals(Optional.of(new LogOwner("g", "n2")), storage.reopen().owner());
        assertEquals(new HardState(3, "n2"), storage.hardState());
    }
}

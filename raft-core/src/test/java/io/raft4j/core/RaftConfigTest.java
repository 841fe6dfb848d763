package io.raft4j.core;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RaftConfigTest {

    private static String rejection(RaftConfig.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build).getMessage();
    }

    @Test
    void defaultsAreDocumentedValues() {
        RaftConfig c = RaftConfig.builder("n1").build();
        assertEquals("default", c.groupId());
        assertEquals(10, c.electionTimeoutTicks());
        assertEquals(1, c.heartbeatIntervalTicks());
        assertTrue(c.preVote());
        assertTrue(c.checkQuorum());
        assertEquals(1 << 20, c.maxMessageBytes());
        assertEquals(8 << 20, c.maxEntryBytes());
        assertEquals(8 << 20, c.largestMessagePayload());
        assertEquals(256, c.maxInflightMessages());
    }

    @Test
    void invalidValuesAreRejectedNamingTheField() {
        assertTrue(rejection(RaftConfig.builder("")).contains("nodeId"));
        assertTrue(rejection(RaftConfig.builder("n1").groupId("")).contains("groupId"));
        assertTrue(rejection(RaftConfig.builder("n1").electionTimeoutTicks(0)).contains("electionTimeoutTicks"));
        // Found by an operator: 2^31 - 1 overflowed the randomized timeout, and a node elected itself at once.
        assertTrue(rejection(RaftConfig.builder("n1").electionTimeoutTicks(Integer.MAX_VALUE))
                .contains("electionTimeoutTicks (2147483647) must be at most 1048576"));
        assertTrue(rejection(RaftConfig.builder("n1").heartbeatIntervalTicks(-1)).contains("heartbeatIntervalTicks"));
        assertTrue(rejection(RaftConfig.builder("n1").maxInflightMessages(0)).contains("maxInflightMessages"));
        // Found probing each setting with Integer.MAX_VALUE: accepted, it failed each node as it was
        // elected, allocating a ring of that many slots per follower on its event loop.
        assertTrue(rejection(RaftConfig.builder("n1").maxInflightMessages(Integer.MAX_VALUE))
                .contains("maxInflightMessages (2147483647) must be at most 65536"));
        assertEquals(RaftConfig.MAX_INFLIGHT_MESSAGES,
                RaftConfig.builder("n1").maxInflightMessages(1 << 16).build().maxInflightMessages());
        assertTrue(rejection(RaftConfig.builder("n1").maxApplyBatchBytes(0)).contains("maxApplyBatchBytes"));
        assertTrue(rejection(RaftConfig.builder("n1").maxEntryBytes(0)).contains("maxEntryBytes"));
        assertEquals("initialMembers: n2 is listed twice", assertThrows(IllegalArgumentException.class,
                () -> RaftConfig.builder("n1").initialMembers("n1", "n2", "n2")).getMessage());
    }

    /**
     * Ids are written into the log's configuration entries (at most 65,535 bytes each, so a longer
     * one stopped the node at its first start), log lines and error messages.
     */
    @Test
    void idsAndAddressesAreCheckedWhenBuilt() {
        assertTrue(rejection(RaftConfig.builder("n1 ")).contains("nodeId: an id must not begin or end with whitespace"));
        assertTrue(rejection(RaftConfig.builder("n\n1")).contains("nodeId: an id must not contain control characters"));
        assertTrue(rejection(RaftConfig.builder("x".repeat(257))).contains("at most 256 characters, not 257"));
        assertTrue(rejection(RaftConfig.builder("n1").groupId("g\u0000")).contains("groupId"));
        assertEquals("node one", RaftConfig.builder("node one").build().nodeId(), "opaque otherwise");
        assertTrue(rejection(RaftConfig.builder("n1").initialMembers(Map.of("n1", "", "n2\t", "")))
                .contains("member id 'n2\\u0009': an id must not contain control characters"));
        assertTrue(rejection(RaftConfig.builder("n1").initialMembers(Map.of("n1", "h".repeat(70_000))))
                .contains("address of member 'n1': an address must be at most 1024 characters, not 70000"));
        assertEquals(256, RaftConfig.builder("y".repeat(256)).build().nodeId().length());
        // Found probing with nulls: each was an NPE naming nothing (the last from deep in Map.copyOf).
        assertEquals("initialMembers", assertThrows(NullPointerException.class,
                () -> RaftConfig.builder("n1").initialMembers((Map<String, String>) null)).getMessage());
        assertEquals("initialMembers", assertThrows(NullPointerException.class,
                () -> RaftConfig.builder("n1").initialMembers((String[]) null)).getMessage());
        assertEquals("member id null: an id must be non-empty",
                rejection(RaftConfig.builder("n1").initialMembers("n1", null)));
    }

    @Test
    void invalidCombinationsAreRejectedNamingTheFields() {
        String m = rejection(RaftConfig.builder("n1").electionTimeoutTicks(5).heartbeatIntervalTicks(5));
        assertTrue(m.contains("heartbeatIntervalTicks") && m.contains("electionTimeoutTicks"), m);
        m = rejection(RaftConfig.builder("n1").maxMessageBytes(1 << 20).maxInflightBytes(1000));
        assertTrue(m.contains("maxInflightBytes") && m.contains("maxMessageBytes"), m);
        m = rejection(RaftConfig.builder("n1").maxEntryBytes(1 << 20).maxUncommittedBytes(1000));
        assertTrue(m.contains("maxUncommittedBytes") && m.contains("maxEntryBytes"), m);
        m = rejection(RaftConfig.builder("n1").initialMembers(Map.of("n2", "a", "n3", "b")));
        assertTrue(m.contains("initialMembers"), m);
    }

    /**
     * Every limit at its smallest legal value builds (the simulation runs such settings, see
     * {@code ExtremeConfig}), and one below it is refused naming the field.
     */
    @Test
    void eachLimitIsLegalAtItsSmallestValueAndRefusedBelowIt() {
        RaftConfig smallest = RaftConfig.builder("n1").electionTimeoutTicks(2).heartbeatIntervalTicks(1)
                .maxMessageBytes(1).maxEntryBytes(1).maxInflightMessages(1).maxInflightBytes(1).maxUncommittedBytes(1)
                .maxApplyBatchBytes(1).snapshotEveryEntries(1).snapshotEveryBytes(1).snapshotTrailingEntries(0)
                .snapshotChunkBytes(1).snapshotChunksInFlight(1).promoteWithinEntries(0).leaseClockDriftPercent(0)
                .build();
        assertEquals(1, smallest.leaseTicks(), "2 ticks less the tick a round may start late");
        assertEquals(0, smallest.toBuilder().leaseClockDriftPercent(50).build().leaseTicks(), "no lease");

        assertTrue(rejection(smallest.toBuilder().electionTimeoutTicks(1)).contains("electionTimeoutTicks (1)"));
        assertTrue(rejection(smallest.toBuilder().heartbeatIntervalTicks(0)).contains("heartbeatIntervalTicks"));
        assertTrue(rejection(smallest.toBuilder().maxMessageBytes(0)).contains("maxMessageBytes"));
        assertTrue(rejection(smallest.toBuilder().maxEntryBytes(0)).contains("maxEntryBytes"));
        assertTrue(rejection(smallest.toBuilder().maxInflightMessages(0)).contains("maxInflightMessages"));
        assertTrue(rejection(smallest.toBuilder().maxInflightBytes(0)).contains("maxInflightBytes"));
        assertTrue(rejection(smallest.toBuilder().maxUncommittedBytes(0)).contains("maxUncommittedBytes"));
        assertTrue(rejection(smallest.toBuilder().maxApplyBatchBytes(0)).contains("maxApplyBatchBytes"));
        assertTrue(rejection(smallest.toBuilder().snapshotEveryEntries(0)).contains("snapshotEveryEntries"));
        assertTrue(rejection(smallest.toBuilder().snapshotEveryBytes(0)).contains("snapshotEveryBytes"));
        assertTrue(rejection(smallest.toBuilder().snapshotTrailingEntries(-1)).contains("snapshotTrailingEntries"));
        assertTrue(rejection(smallest.toBuilder().snapshotChunkBytes(0)).contains("snapshotChunkBytes"));
        assertTrue(rejection(smallest.toBuilder().snapshotChunksInFlight(0)).contains("snapshotChunksInFlight"));
        assertTrue(rejection(smallest.toBuilder().promoteWithinEntries(-1)).contains("promoteWithinEntries"));
        assertTrue(rejection(smallest.toBuilder().leaseClockDriftPercent(-1)).contains("leaseClockDriftPercent"));
        assertTrue(rejection(smallest.toBuilder().leaseClockDriftPercent(51)).contains("leaseClockDriftPercent"));
        // The chunk bound, 64 messages' worth, exactly.
        assertEquals(64, smallest.toBuilder().snapshotChunkBytes(64).build().snapshotChunkBytes());
        assertTrue(rejection(smallest.toBuilder().snapshotChunkBytes(65)).contains("snapshotChunkBytes (65)"));
    }

    /** No limit on message size is legal: the chunk bound, 64 times it, must not wrap around. */
    @Test
    void unboundedMessagesAllowAnyChunkSize() {
        RaftConfig c = RaftConfig.builder("n1").maxMessageBytes(Long.MAX_VALUE).maxInflightBytes(Long.MAX_VALUE)
                .snapshotChunkBytes(Integer.MAX_VALUE).build();
        assertEquals(Integer.MAX_VALUE, c.snapshotChunkBytes());
    }
}

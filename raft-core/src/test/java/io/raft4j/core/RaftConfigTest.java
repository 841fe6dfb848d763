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
}

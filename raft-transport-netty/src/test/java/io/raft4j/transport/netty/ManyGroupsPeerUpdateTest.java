package io.raft4j.transport.netty;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Announcing one group's members costs work proportional to that group, not to every group the
 * process hosts: each of G nodes starting announced its members, and the transport merged every
 * group's addresses again each time (G² over a start of G groups, seen in a scale run).
 */
class ManyGroupsPeerUpdateTest {
    private static final int GROUPS = 2_000;

    @Test
    void oneGroupAnnouncingLooksOnlyAtItsOwnAddresses() {
        try (NettyTransport t = NettyTransport.start(NettyTransportConfig.builder("many").listen("127.0.0.1", 0)
                .build())) {
            Map<String, String> members = Map.of("n1", "127.0.0.1:1", "n2", "127.0.0.1:2", "n3", "127.0.0.1:3");
            for (int g = 0; g < GROUPS; g++) {
                t.updatePeers("g" + g, members);
            }
            long before = t.addressClaimsVisited();
            t.updatePeers("g" + GROUPS, members);
            long visited = t.addressClaimsVisited() - before;
            // Its own three, and the three it announced before if it had (none here): a bound that
            // does not grow with GROUPS.
            assertTrue(visited <= 2L * members.size(), "one group's announcement looked at " + visited
                    + " addresses with " + GROUPS + " groups hosted");
            t.updatePeers("g0", Map.of("n1", "127.0.0.1:1", "n2", "127.0.0.1:2", "n3", "127.0.0.1:3"));
            assertTrue(t.addressClaimsVisited() - before - visited <= 2L * members.size(), "an update of one");
        }
    }

    @Test
    void theAddressAnnouncedLastWinsAndAnIdKeepsItsAddressWhileAnyGroupNamesIt() {
        try (NettyTransport t = NettyTransport.start(NettyTransportConfig.builder("many").listen("127.0.0.1", 0)
                .peer("c", "127.0.0.1:9").build())) {
            t.updatePeers("g1", Map.of("x", "127.0.0.1:1"));
            t.updatePeers("g2", Map.of("x", "127.0.0.1:2"));
            assertEquals("127.0.0.1:2", t.addressOf("x"));
            t.updatePeers("g1", Map.of("x", "127.0.0.1:1"));
            assertEquals("127.0.0.1:1", t.addressOf("x"), "g1 spoke last");
            t.updatePeers("g1", Map.of());
            assertEquals("127.0.0.1:2", t.addressOf("x"), "g2 still names x");
            t.updatePeers("g2", Map.of("c", "127.0.0.1:3"));
            assertFalse(t.knowsPeer("x"), "no group names x");
            assertEquals("127.0.0.1:3", t.addressOf("c"), "a group overrides the configured address");
            t.updatePeers("g2", Map.of());
            assertEquals("127.0.0.1:9", t.addressOf("c"), "back to the configured one");
        }
    }
}

package io.raft4j.examples.kv;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Addresses classified from their text alone. {@link HostPort#isWildcard} runs on a client event
 * loop (RAFT.ADDNODE) and called {@code InetAddress.getByName} on any host with a colon, which for a
 * host that is not an IPv6 literal ({@code [zz:zz]:7001}) is a DNS lookup blocking the loop.
 */
class HostPortTest {
    private static final List<String> IPV6_LITERALS = List.of("::", "::1", "1::", "::0", "0:0:0:0:0:0:0:0",
            "0000:0000::0000", "::ffff:0.0.0.0", "::ffff:127.0.0.1", "::0.0.0.0", "2001:db8::1",
            "2001:DB8:0:0:8:800:200C:417A", "fe80::1:2:3:4:5:6", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4", "::255.255.255.255", "abcd:ef01:2345:6789:ABCD:EF01:2345:6789");
    private static final List<String> NOT_IPV6_LITERALS = List.of("zz:zz", ":", ":::", "1:2", "1::2::3",
            "1:2:3:4:5:6:7:8:9", "12345::", "1:::2", ":1::", "1::2:", "::1.2.3", "::1.2.3.256", "1.2.3.4::",
            "g::1", "::1 ", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5",
            "\u0661::1", "localhost:", "::-1");
    private static final List<String> WILDCARDS = List.of("::", "0:0:0:0:0:0:0:0", "0000:0000::0000", "::0",
            "::ffff:0.0.0.0", "::0.0.0.0", "::%1", "0.0.0.0", "0", "0.0", "00.0.000.0");
    private static final List<String> NOT_WILDCARDS = List.of("::1", "1::", "::ffff:0.0.0.1", "2001:db8::",
            "127.0.0.1", "0.0.0.1", "0.0.0.0.0", "0.", ".0", "localhost", "node-0.example", "zz:zz", "0:0",
            "::0.0.0.0.0");

    @Test
    void ipv6LiteralsAreRecognisedFromTheirTextAlone() {
        for (String literal : IPV6_LITERALS) {
            assertTrue(IpLiterals.isIpv6Literal(literal), literal);
        }
        for (String other : NOT_IPV6_LITERALS) {
            assertFalse(IpLiterals.isIpv6Literal(other), other);
        }
        assertTrue(IpLiterals.isIpv6Literal("fe80::1%eth0"), "an interface as scope");
        assertTrue(IpLiterals.isIpv6Literal("fe80::1%2"), "an interface index as scope");
        assertFalse(IpLiterals.isIpv6Literal("fe80::1%"), "an empty scope");
        assertFalse(IpLiterals.isIpv6Literal("fe80::1%a%b"));
        assertFalse(IpLiterals.isIpv6Literal("fe80::1%a b"));
    }

    @Test
    void wildcardsAreRecognisedFromTheirTextAlone() {
        for (String wildcard : WILDCARDS) {
            assertTrue(IpLiterals.isWildcard(wildcard), wildcard);
        }
        for (String other : NOT_WILDCARDS) {
            assertFalse(IpLiterals.isWildcard(other), other);
        }
    }

    /**
     * The pure reading agrees with Java's own parser of IPv6 literals, which a bracketed host with a
     * colon always goes to (never to a lookup: Java refuses it as an invalid IPv6 address instead).
     */
    @Test
    void agreesWithJavasParserOfBracketedLiterals() {
        for (String host : concat(IPV6_LITERALS, NOT_IPV6_LITERALS)) {
            assertTrue(host.contains(":"), "only literals Java parses without a lookup: " + host);
            InetAddress parsed;
            try {
                parsed = InetAddress.getByName("[" + host + "]");
            } catch (UnknownHostException e) {
                parsed = null;
            }
            assertEquals(parsed != null, IpLiterals.isIpv6Literal(host), host);
            assertEquals(parsed != null && parsed.isAnyLocalAddress(), IpLiterals.isWildcard(host), host);
        }
    }

    @Test
    void aBracketedHostThatIsNotAnIpv6LiteralIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostPort.parse("[zz:zz]:7001"));
        assertEquals("'[zz:zz]:7001': 'zz:zz' in brackets is not an IPv6 address", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("[localhost]:7001"));
        assertThrows(IllegalArgumentException.class, () -> HostPort.parse("[1::2::3]:7001"));
        assertEquals(new HostPort("::1", 7001), HostPort.parse("[::1]:7001"));
        assertEquals(new HostPort("fe80::1%eth0", 7001), HostPort.parse("[fe80::1%eth0]:7001"));
        assertTrue(HostPort.parse("[::]:7001").isWildcard());
        assertTrue(HostPort.parse("[0:0::0]:7001").isWildcard());
        assertTrue(HostPort.parse("0.0.0.0:7001").isWildcard());
        assertFalse(HostPort.parse("[::1]:7001").isWildcard());
        assertFalse(new HostPort("zz:zz", 7001).isWildcard(), "built without parse: still no lookup");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}

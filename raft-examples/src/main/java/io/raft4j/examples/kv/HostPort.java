package io.raft4j.examples.kv;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Set;

/**
 * A {@code host:port} address as given on the command line ({@code [::1]:7001} for IPv6).
 *
 * @param host name or literal address, without brackets
 * @param port 1..65535
 */
public record HostPort(String host, int port) {

    /**
     * Parses {@code host:port}.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static HostPort parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty address, expected host:port");
        }
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (!IpLiterals.isIpv6Literal(host)) {
                // Brackets are for IPv6 literals (RFC 3986); anything else in them would be looked up as a name.
                throw new IllegalArgumentException("'" + text + "': '" + host + "' in brackets is not an IPv6 address");
            }
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, like [::1]:7001");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' has an empty host");
        }
        String portText = s.substring(colon + 1);
        // ASCII digits only: Integer.parseInt also takes a sign and other scripts' digits ("+7001",
        // Arabic-Indic digits), which then went into the membership as written.
        if (portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + text + "': port '" + portText + "' is not a number");
        }
        int port = Integer.parseInt(portText);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + text + "': port " + port + " is outside 1..65535");
        }
        return new HostPort(host, port);
    }

    /**
     * Whether this and {@code other} name the same socket: the same port, and the same host or hosts
     * that resolve to a common address ({@code localhost:7001} and {@code 127.0.0.1:7001}). May block
     * on a name lookup; a name that does not resolve is taken as different.
     */
    public boolean sameEndpointAs(HostPort other) {
        if (port != other.port) {
            return false;
        }
        if (host.equalsIgnoreCase(other.host)) {
            return true;
        }
        try {
            // copyOf, not of: a name may resolve to the same address twice, which Set.of refuses.
            Set<InetAddress> mine = Set.copyOf(Arrays.asList(InetAddress.getAllByName(host)));
            for (InetAddress address : InetAddress.getAllByName(other.host)) {
                if (mine.contains(address)) {
                    return true;
                }
            }
            return false;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * Whether the host is the wildcard address ({@code 0.0.0.0}, {@code [::]}): where a node may
     * listen, never where another node reaches it. Decided from the text alone ({@link IpLiterals}),
     * never by a name lookup: it runs on client event loops (RAFT.ADDNODE), where a lookup of a host
     * like {@code zz:zz} blocked every connection of the loop for as long as DNS took.
     */
    public boolean isWildcard() {
        return IpLiterals.isWildcard(host);
    }

    /** Why {@code address}, given as where other nodes reach a member, cannot be that; null if it can. */
    static String problemAsMemberAddress(HostPort address) {
        return address.isWildcard() ? address + " is the wildcard address, where a node may listen but no other node"
                + " can reach it (they would dial themselves): give the member's reachable address" : null;
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}

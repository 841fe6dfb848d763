package io.raft4j.transport.netty;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** A {@code host:port} address ({@code [v6]:port} for IPv6 literals), parsed without resolving. */
record HostPort(String host, int port) {

    HostPort {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        if (port <= 0 || port > 65_535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    static HostPort parse(String address) {
        if (address == null) {
            throw new IllegalArgumentException("address is null");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("address must be host:port, was '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String portText = address.substring(colon + 1);
        // ASCII digits only: Integer.parseInt also takes a sign and other scripts' digits.
        if (portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("bad port in address '" + address + "'");
        }
        int port = Integer.parseInt(portText);
        return new HostPort(host, port);
    }

    /**
     * What is wrong with {@code address} as an address to dial a peer at, if anything: it must be
     * {@code host:port}, and not the wildcard (where a node may listen, never where others reach
     * it: every node would dial itself). Parsed, never resolved.
     */
    static Optional<String> problemAsPeerAddress(String address) {
        HostPort parsed;
        try {
            parsed = parse(address);
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        return parsed.isWildcard()
                ? Optional.of(address + " is the wildcard address, where a node may listen but no other node can"
                        + " reach it: give the member's reachable address")
                : Optional.empty();
    }

    /**
     * Whether the host is the wildcard address ({@code 0.0.0.0}, or an IPv6 literal of it such as
     * {@code ::}). Literals only: a name is never looked up here.
     */
    boolean isWildcard() {
        if (host.equals("0.0.0.0")) {
            return true;
        }
        if (!host.matches("[0-9a-fA-F:.]+") || !host.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(host).isAnyLocalAddress(); // an IPv6 literal: parsed, not looked up
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * An unresolved socket address: the dial resolves it through {@link OffLoopResolver}, on neither
     * the caller's thread nor an event loop.
     */
    InetSocketAddress unresolved() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}

package io.raft4j;

import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.Transport;

import java.util.Map;
import java.util.Optional;

/**
 * Asks the transport about members' addresses before they are used: a typo in an address would
 * otherwise be committed into the configuration, and the member behind it never reached (a voter so
 * added still counts toward the quorum).
 */
final class AddressCheck {
    private AddressCheck() {
    }

    /** The first problem the transport finds with one of {@code addresses} (id to address); empty if none. */
    static Optional<String> problemWithAddresses(Transport transport, Map<String, String> addresses) {
        return problemWithAddresses(transport, addresses, Map.of());
    }

    /**
     * The first problem the transport finds with an address {@code target} gives and {@code current}
     * does not (addresses already in the configuration are not asked about again: a change must not be
     * blocked by a member it leaves as it is); empty if none.
     */
    static Optional<String> problemWithNewAddresses(Transport transport, ClusterConfig current, ClusterConfig target) {
        return problemWithAddresses(transport, target.addresses(), current.addresses());
    }

    private static Optional<String> problemWithAddresses(Transport transport, Map<String, String> addresses,
                                                         Map<String, String> known) {
        for (Map.Entry<String, String> member : addresses.entrySet()) {
            String address = member.getValue();
            if (address.isEmpty() || address.equals(known.get(member.getKey()))) {
                continue;
            }
            Optional<String> problem = askTransport(transport, address);
            if (problem.isPresent()) {
                return Optional.of("address of member " + member.getKey() + ": " + problem.get());
            }
        }
        return Optional.empty();
    }

    private static Optional<String> askTransport(Transport transport, String address) {
        try {
            Optional<String> problem = transport.problemWithAddress(address);
            // A transport breaking its contract must fail this call only, not the loop it runs on.
            return problem == null ? Optional.of("the transport answered null about it") : problem;
        } catch (RuntimeException e) {
            return Optional.of("the transport failed to check it: " + e);
        }
    }
}

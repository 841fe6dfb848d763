package io.raft4j.examples.kv;

import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DialOverridesTest {
    /** Records what it is told to dial. */
    private static final class Recording implements Transport {
        final List<Map<String, String>> announced = new ArrayList<>();

        @Override
        public void register(String groupId, String localId, Inbound inbound) {
        }

        @Override
        public void unregister(String groupId, String localId) {
        }

        @Override
        public void send(RaftMessage message) {
        }

        @Override
        public void updatePeers(String groupId, Map<String, String> addresses) {
            announced.add(addresses);
        }

        @Override
        public Optional<String> problemWithAddress(String address) {
            return address.contains(":") ? Optional.empty() : Optional.of("no port");
        }
    }

    @Test
    void theOverriddenMembersAreDialledAtTheirOverridesWhateverTheMembershipAnnounces() {
        Recording inner = new Recording();
        Transport t = new DialOverrides(inner, Map.of("n2", "10.0.0.2:9002", "n9", "10.0.0.9:9009"));

        // As a snapshot installed from the leader, or a membership change, announces the membership.
        t.updatePeers("g", Map.of("n1", "h1:7001", "n2", "h2:7002", "n3", "h3:7003"));

        // n9 is no member: an override does not make a node one.
        assertEquals(List.of(Map.of("n1", "h1:7001", "n2", "10.0.0.2:9002", "n3", "h3:7003")), inner.announced);
    }

    /** The node asks its transport which addresses it can dial: the wrapper must not answer "any" for it. */
    @Test
    void theWrappedTransportJudgesAddresses() {
        Transport t = new DialOverrides(new Recording(), Map.of());
        assertEquals(Optional.of("no port"), t.problemWithAddress("h2"));
        assertEquals(Optional.empty(), t.problemWithAddress("h2:7002"));
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A membership change that gives a member an address the transport could never dial is refused
 * before it is proposed: committed, it would add a member no one reaches (a voter so added counts
 * toward the quorum while it never answers).
 */
class TransportAddressCheckTest {

    /** The in-memory network, with addresses as a dialling transport has them: "host:port" only. */
    private static final class Dialling extends ForwardingTransport {
        volatile boolean broken;

        Dialling() {
            super(new InMemoryTransport());
        }

        @Override
        public Optional<String> problemWithAddress(String address) {
            if (broken) {
                throw new IllegalStateException("a transport bug");
            }
            return address.matches("[a-z0-9.]+:[0-9]+") ? Optional.empty() : Optional.of("not host:port: " + address);
        }
    }

    private static final class Echo implements StateMachine<String> {
        @Override
        public String apply(long index, Bytes command) {
            return command.toUtf8();
        }
    }

    private final Dialling transport = new Dialling();

    private RaftNode<String> singleNodeLeader(Map<String, String> members) {
        RaftConfig config = RaftConfig.builder("n1").initialMembers(members).electionTimeoutTicks(10).build();
        RaftNode<String> node = RaftNode.builder(config, new Echo()).transport(transport)
                .storage(new InMemoryLogStorage()).tickMillis(5).build();
        node.start();
        LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
        return node;
    }

    @Test
    void anAddressTheTransportCannotDialIsRefusedAndTheLeaderLeadsOn() throws Exception {
        try (RaftNode<String> leader = singleNodeLeader(Map.of("n1", "host1:7001"))) {
            assertRefused(leader.addLearner("n2", "host2"), "address of member n2: not host:port: host2");
            assertRefused(leader.addVoter("n2", "host2 7002"), "address of member n2: not host:port: host2 7002");
            ClusterConfig moved = leader.status().config().withAddress("n1", "nowhere");
            assertRefused(leader.changeMembership(moved), "address of member n1: not host:port: nowhere");

            assertEquals(Map.of("n1", "host1:7001"), leader.status().config().addresses(), "nothing changed");
            assertTrue(leader.isLeader());
            assertEquals("w", leader.propose(Bytes.ofUtf8("w")).get(5, TimeUnit.SECONDS));

            ClusterConfig added = leader.addLearner("n2", "host2:7002").get(5, TimeUnit.SECONDS);
            assertEquals(Set.of("n2"), added.learners(), "a good address is taken");
            assertEquals(Set.of("n2", "n3"), leader.addLearner("n3", "").get(5, TimeUnit.SECONDS).learners(),
                    "no address (the transport knows where the member is) is not asked about");
        }
    }

    /** Only the addresses a change gives are asked about: one already in the configuration must not block changes. */
    @Test
    void anAddressAlreadyInTheConfigurationIsNotAskedAboutAgain() throws Exception {
        try (RaftNode<String> leader = singleNodeLeader(Map.of("n1", "host1:7001"))) {
            leader.addLearner("n2", "host2:7002").get(5, TimeUnit.SECONDS);
            transport.broken = true;

            assertEquals(Set.of(), leader.removeMember("n2").get(5, TimeUnit.SECONDS).learners(),
                    "a change giving no new address does not ask the transport");
            assertRefused(leader.addLearner("n3", "host3:7003"),
                    "address of member n3: the transport failed to check it: java.lang.IllegalStateException: a transport bug");
            assertFalse(leader.whenStopped().isDone(), "a transport failing to check fails the call, not the node");
            assertEquals("w", leader.propose(Bytes.ofUtf8("w")).get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void aNodeWhoseInitialMembersTheTransportCannotDialIsNotBuilt() {
        RaftConfig config = RaftConfig.builder("n1").initialMembers(Map.of("n1", "host1:7001", "n2", "host2"))
                .build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RaftNode.builder(config, new Echo()).transport(transport).storage(new InMemoryLogStorage())
                        .build());
        assertEquals("initialMembers: address of member n2: not host:port: host2", e.getMessage());
    }

    private static void assertRefused(CompletableFuture<ClusterConfig> call, String why) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertEquals(why, e.getCause().getMessage());
    }
}

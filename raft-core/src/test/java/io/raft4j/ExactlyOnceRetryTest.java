package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.session.AddingCounter;
import io.raft4j.session.ClientSession;
import io.raft4j.session.SessionResult;
import io.raft4j.session.SessionStateMachine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The case sessions exist for, on a running cluster: a leader loses its leadership after its
 * command reached the followers, so its caller learns nothing (IndeterminateException) while the
 * new leader commits the command. The caller's retry must not apply it a second time.
 */
class ExactlyOnceRetryTest {

    @Test
    void aCommandRetriedAfterAnIndeterminateOutcomeIsAppliedOnce() throws Exception {
        InMemoryTransport network = new InMemoryTransport();
        List<RaftNode<SessionResult<String>>> nodes = new ArrayList<>();
        List<AddingCounter> counters = new ArrayList<>();
        try {
            for (String id : List.of("n1", "n2", "n3")) {
                AddingCounter counter = new AddingCounter();
                counters.add(counter);
                RaftConfig config = RaftConfig.builder(id).initialMembers("n1", "n2", "n3")
                        .electionTimeoutTicks(10).build();
                RaftNode<SessionResult<String>> node = RaftNode.builder(config,
                                new SessionStateMachine<>(counter, SessionStateMachine.ResultCodec.UTF8))
                        .transport(network).storage(new InMemoryLogStorage()).tickMillis(10).build();
                node.start();
                nodes.add(node);
            }
            RaftNode<SessionResult<String>> leader = awaitLeader(nodes, null);
            ClientSession session = ClientSession.registered(
                    leader.propose(ClientSession.registration()).get(5, TimeUnit.SECONDS));
            ClientSession.Command warmUp = session.command(Bytes.ofUtf8("1"));
            assertEquals(SessionResult.Status.APPLIED, leader.propose(warmUp.bytes()).get(5, TimeUnit.SECONDS).status());
            session.finished(warmUp);

            // The followers receive the leader's appends, but their answers never reach it.
            for (RaftNode<SessionResult<String>> n : nodes) {
                if (n != leader) {
                    network.block(n.id(), leader.id());
                }
            }
            ClientSession.Command add10 = session.command(Bytes.ofUtf8("10"));
            CompletableFuture<SessionResult<String>> first = leader.propose(add10.bytes());
            ExecutionException unknown = assertThrows(ExecutionException.class, () -> first.get(10, TimeUnit.SECONDS));
            assertInstanceOf(IndeterminateException.class, unknown.getCause());

            RaftNode<SessionResult<String>> next = awaitLeader(nodes, leader);
            SessionResult<String> retry = next.propose(add10.bytes()).get(5, TimeUnit.SECONDS);
            session.finished(add10);
            assertEquals(SessionResult.Status.DUPLICATE, retry.status(), "the new leader had committed it already");
            assertEquals("11", retry.value(), "the retry is answered with the first application's result");

            network.heal();
            LocalCluster.await(Duration.ofSeconds(10), () -> counters.stream().allMatch(c -> c.count() == 11));
            assertEquals("11", next.query(Bytes.EMPTY).get(5, TimeUnit.SECONDS).value());
        } finally {
            nodes.forEach(RaftNode::close);
            network.close();
        }
    }

    private static RaftNode<SessionResult<String>> awaitLeader(List<RaftNode<SessionResult<String>>> nodes,
                                                               RaftNode<SessionResult<String>> notThis) {
        return LocalCluster.awaitSettledLeader(nodes.stream().filter(n -> n != notThis).toList());
    }
}

package io.raft4j.examples.kv;

import io.raft4j.LeadershipListener;
import io.raft4j.RaftNode;
import io.raft4j.examples.kv.resp.Reply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Makes a node that becomes leader record its client address in the replicated state, so that
 * followers can forward clients to it (or name it in a {@code -NOTLEADER} reply). Told by the
 * node's leadership listener once its state machine is current for the new term, so the check
 * whether the address is already there reads the latest state; a registration that fails while this
 * node still leads the same term (a leadership transfer refusing proposals for a while) is tried
 * again.
 */
final class ClientAddressRegistrar implements LeadershipListener {
    private static final Logger LOG = LoggerFactory.getLogger(ClientAddressRegistrar.class);
    private static final long RETRY_MILLIS = 50;

    private final String nodeId;
    private final String clientAddress;
    private final KvStateMachine stateMachine;
    private volatile RaftNode<Reply> raft;
    /** The term this node leads, or 0. */
    private volatile long leadingTerm;

    ClientAddressRegistrar(String nodeId, String clientAddress, KvStateMachine stateMachine) {
        this.nodeId = nodeId;
        this.clientAddress = clientAddress;
        this.stateMachine = stateMachine;
    }

    /** The node to propose through; set before it starts, so before it can lead. */
    void proposeThrough(RaftNode<Reply> node) {
        this.raft = node;
    }

    @Override
    public void leaderStarted(long term) {
        leadingTerm = term;
        LOG.info("{}: leader in term {}, serving clients at {}", nodeId, term, clientAddress);
        if (!clientAddress.equals(stateMachine.clientAddressOf(nodeId))) {
            register(term);
        }
        forgetNonMembers();
    }

    /**
     * Proposes to forget the client addresses of nodes that are no longer members (removed while
     * another node led, or before this one's removal call could). Best effort: one that fails is
     * tried again by the next leader.
     */
    void forgetNonMembers() {
        Set<String> members = raft.status().config().allMembers();
        for (String id : stateMachine.clientAddresses().keySet()) {
            if (!members.contains(id)) {
                forget(id);
            }
        }
    }

    /** Proposes to forget {@code id}'s client address (it was removed); best effort. */
    void forget(String id) {
        raft.propose(KvCodec.forget(id)).whenComplete((applied, failure) -> {
            if (failure != null) {
                LOG.debug("{}: forgetting the client address of removed {} failed: {}", nodeId, id, failure.toString());
            }
        });
    }

    @Override
    public void leaderStopped(long term) {
        leadingTerm = 0;
    }

    private void register(long term) {
        raft.propose(KvCodec.meta(nodeId, clientAddress)).whenComplete((applied, failure) -> {
            if (failure != null && leadingTerm == term) {
                LOG.debug("{}: registering the client address in term {} failed, trying again: {}", nodeId, term,
                        failure.toString());
                CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
                    if (leadingTerm == term) {
                        register(term);
                    }
                });
            }
        });
    }
}

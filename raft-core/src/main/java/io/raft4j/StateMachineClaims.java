package io.raft4j;

import io.raft4j.spi.StateMachine;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The state machines given to nodes so far in this process, so that none is given to a second node.
 * A node rebuilds its state machine's state from its snapshot and log; a state machine that already
 * holds state (a restarted node's, handed back to its successor) would apply every command after the
 * snapshot a second time, or all of them without one, and disagree with its peers, silently (found
 * by an embedder's review: a counter at 21 where its peers held 11).
 */
final class StateMachineClaims {
    /**
     * The claims, by the identity hash of their state machine; each weakly held, so a discarded state
     * machine is forgotten. By instance, not by {@code equals}/{@code hashCode} (a WeakHashMap): a
     * state machine whose hash follows its state (a map, a record of collections) was no longer
     * found once it had applied a command, and of two equal ones the second took the first's claim.
     */
    private static final Map<Integer, List<Claim>> CLAIMS = new HashMap<>();

    /** A claim: the instance, weakly, and who has it. */
    private record Claim(WeakReference<StateMachine<?>> instance, String node) {
    }

    private StateMachineClaims() {
    }

    /**
     * Records {@code stateMachine} as {@code node}'s.
     *
     * @throws IllegalStateException if this very instance was given to a node before
     */
    static synchronized void claim(StateMachine<?> stateMachine, String node) {
        // Nodes are built rarely: dropping every forgotten claim each time keeps the map small.
        CLAIMS.values().removeIf(claims -> {
            claims.removeIf(c -> c.instance().get() == null);
            return claims.isEmpty();
        });
        List<Claim> sameHash = CLAIMS.computeIfAbsent(System.identityHashCode(stateMachine), h -> new ArrayList<>());
        for (Claim previous : sameHash) {
            if (previous.instance().get() == stateMachine) {
                throw new IllegalStateException("this StateMachine instance was already given to node "
                        + previous.node() + ": give each node, also one restarted in the same process, a new state"
                        + " machine; it is rebuilt from the snapshot and the log, and the old instance's state would"
                        + " have commands applied twice");
            }
        }
        sameHash.add(new Claim(new WeakReference<>(stateMachine), node));
    }

    /** Withdraws the claim on {@code stateMachine}: the node it was claimed for could not be built. */
    static synchronized void release(StateMachine<?> stateMachine) {
        List<Claim> sameHash = CLAIMS.get(System.identityHashCode(stateMachine));
        if (sameHash != null) {
            sameHash.removeIf(c -> c.instance().get() == stateMachine);
        }
    }
}

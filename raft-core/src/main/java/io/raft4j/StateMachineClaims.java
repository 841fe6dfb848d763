package io.raft4j;

import io.raft4j.spi.StateMachine;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The state machines given to nodes so far in this process, so that none is given to a second node.
 * A node rebuilds its state machine's state from its snapshot and log; a state machine that already
 * holds state (a restarted node's, handed back to its successor) would apply every command after the
 * snapshot a second time, or all of them without one, and disagree with its peers, silently (found
 * by an embedder's review: a counter at 21 where its peers held 11).
 */
final class StateMachineClaims {
    /** The claimant of each state machine; weakly held, so a discarded state machine is forgotten. */
    private static final Map<StateMachine<?>, Claim> CLAIMS = new WeakHashMap<>();

    /** Kept as the map's value: the instance (for an identity check, as keys compare by equals) and who has it. */
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
        Claim previous = CLAIMS.get(stateMachine);
        if (previous != null && previous.instance().get() == stateMachine) {
            throw new IllegalStateException("this StateMachine instance was already given to node " + previous.node()
                    + ": give each node, also one restarted in the same process, a new state machine; it is"
                    + " rebuilt from the snapshot and the log, and the old instance's state would have commands"
                    + " applied twice");
        }
        CLAIMS.put(stateMachine, new Claim(new WeakReference<>(stateMachine), node));
    }
}

package io.raft4j.spi;

import io.raft4j.message.RaftMessage;

import java.util.Map;
import java.util.Optional;

/**
 * Carries {@link RaftMessage}s between the members of Raft groups. One transport may serve many
 * groups and many local nodes of a process; it routes inbound messages by group id and receiver.
 *
 * <p>The transport is unreliable by contract: Raft tolerates messages that are lost, duplicated,
 * delayed or reordered, and retries on its own. {@link #send} must therefore never block and never
 * throw; when a message cannot be delivered (peer unreachable, queue full), drop it and tell the
 * sender through {@link Inbound#peerUnreachable(String)} so it can slow down.
 */
public interface Transport {

    /**
     * Receives what the transport delivers to one local node. Called from the transport's threads,
     * or, for a message between two nodes of one process, possibly on the sender's.
     */
    interface Inbound {
        /** A message addressed to this node arrived. Must not block. */
        void receive(RaftMessage message);

        /** Messages to {@code peerId} are being dropped (no connection, or a full queue). */
        default void peerUnreachable(String peerId) {
        }

        /**
         * The transport was closed while this node was registered: nothing will be sent or
         * delivered any more (and a loop it lent is gone). Called once, on the closing thread;
         * must not block.
         */
        default void transportClosed() {
        }
    }

    /**
     * Starts delivering messages addressed to {@code localId} in {@code groupId} to {@code inbound}.
     *
     * @throws IllegalStateException if that node is already registered, or the transport is closed
     */
    void register(String groupId, String localId, Inbound inbound);

    /** Stops delivering to that node. Messages for it are dropped afterwards. */
    void unregister(String groupId, String localId);

    /** Sends {@code message} to {@code message.to()}. Never blocks, never throws; may drop. */
    void send(RaftMessage message);

    /**
     * The nodes {@code groupId}'s local node may send to, and their addresses, changed: its
     * configuration's members (both halves of a joint configuration) and, on a leader, members being
     * removed that it has not yet told of their removal. Called when that set changes (a membership
     * change appended, a removed member told or given up on). A transport that dials peers uses
     * these addresses; the default ignores them.
     */
    default void updatePeers(String groupId, Map<String, String> addresses) {
    }

    /**
     * What is wrong with {@code address} as a member's address on this transport, if anything; empty
     * if it can be dialled (or need not be: a transport without addresses accepts any). A node asks
     * before it proposes a membership change that gives a member a new address, and refuses the
     * change if this names a problem: a voter added at an address no one can dial would count
     * toward the quorum while it never answers. A node being built asks about the addresses of its
     * {@code initialMembers} too, on the thread building it. Never asked about {@code ""} (no address
     * given). Called on the node's loop, so it must not block (parse, do not resolve). Default: any
     * address.
     */
    default Optional<String> problemWithAddress(String address) {
        return Optional.empty();
    }

    /**
     * The largest message this transport carries, in encoded bytes (framing included); larger ones
     * are dropped. A node checks at build time that its entries and snapshot chunks fit with room for
     * the framing. Default: no limit.
     */
    default long maxMessageBytes() {
        return Long.MAX_VALUE;
    }

    /**
     * An event loop of this transport on which the node {@code localId} of {@code groupId} may run
     * its protocol logic, so that the messages it sends and receives need no hand-off between
     * threads; {@code null} (the default) when the transport has none, and the node runs a thread of
     * its own.
     */
    default EventLoop eventLoopFor(String groupId, String localId) {
        return null;
    }
}

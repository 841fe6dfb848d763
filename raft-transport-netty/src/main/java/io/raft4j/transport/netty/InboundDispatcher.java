package io.raft4j.transport.netty;

import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Routes inbound envelopes to the local nodes registered by (group id, node id), after checking
 * that the frame belongs here: the protocol version, the cluster id, a sender the connection's
 * certificate names (with the node-id check), a sender the transport knows (it has an address for
 * it, so it could answer) other than the receiver, and a receiver that is a local node.
 *
 * <p>Thread-safe: called from every event-loop thread, while nodes register and peers change.
 */
final class InboundDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(InboundDispatcher.class);

    private final String clusterId;
    private final Map<String, Map<String, Transport.Inbound>> byGroup = new ConcurrentHashMap<>();
    /** Every id ever registered here: a frame for one of them is ours even while it is unregistered. */
    private final Set<String> localIds = ConcurrentHashMap.newKeySet();
    /** The ids the transport has an address for: a live view, so it costs nothing to keep up to date. */
    private volatile Set<String> knownSenders;
    private final LongAdder delivered = new LongAdder();
    private final LongAdder droppedUnregistered = new LongAdder();
    private final Incarnations incarnations;

    InboundDispatcher(String clusterId, Set<String> knownSenders) {
        this(clusterId, knownSenders, new Incarnations(System::nanoTime));
    }

    InboundDispatcher(String clusterId, Set<String> knownSenders, Incarnations incarnations) {
        this.clusterId = clusterId;
        this.knownSenders = knownSenders;
        this.incarnations = incarnations;
    }

    void register(String groupId, String localId, Transport.Inbound inbound) {
        // Inside compute: an unregister dropping the group's emptied map at the same time must not
        // leave this node in a map no longer reachable.
        byGroup.compute(groupId, (g, group) -> {
            Map<String, Transport.Inbound> nodes = group == null ? new ConcurrentHashMap<>() : group;
            if (nodes.putIfAbsent(localId, inbound) != null) {
                throw new IllegalStateException(localId + " is already registered in group " + groupId);
            }
            return nodes;
        });
        localIds.add(localId);
    }

    /**
     * Unregisters that node; a group left without local nodes is forgotten.
     *
     * @return whether a local node of {@code groupId} is still registered
     */
    boolean unregister(String groupId, String localId) {
        Map<String, Transport.Inbound> left = byGroup.computeIfPresent(groupId, (g, group) -> {
            group.remove(localId);
            return group.isEmpty() ? null : group;
        });
        return left != null;
    }

    /** Unregisters every node; returns them. */
    List<Transport.Inbound> unregisterAll() {
        List<Transport.Inbound> all = new ArrayList<>();
        byGroup.values().forEach(group -> group.keySet().forEach(id -> {
            Transport.Inbound inbound = group.remove(id);
            if (inbound != null) {
                all.add(inbound);
            }
        }));
        return all;
    }

    /** The node registered as {@code localId} in {@code groupId}, or {@code null}. */
    Transport.Inbound lookup(String groupId, String localId) {
        Map<String, Transport.Inbound> group = byGroup.get(groupId);
        return group == null ? null : group.get(localId);
    }

    void knownSenders(Set<String> senders) {
        this.knownSenders = senders;
    }

    /**
     * Checks where a decoded message belongs and delivers it.
     *
     * @param version   the protocol version its envelope carried
     * @param clusterId the cluster id its envelope carried
     * @return {@code null} if the message was delivered (or dropped because its receiver is a local
     *         node that is not registered in that group right now), otherwise why the connection must
     *         be closed
     */
    String dispatch(int version, String clusterId, RaftMessage message) {
        return dispatch(version, clusterId, 0, null, null, message);
    }

    /**
     * As {@link #dispatch(int, String, RaftMessage)}, for a frame whose sender's transport stamped it
     * {@code incarnation} (0 if it did not), received on {@code connection}: refused while another
     * process under the same sender id is being served (see {@link Incarnations}), and, unless
     * {@code certified} is {@code null} (no TLS, or the node-id check is off), if its sender is not
     * among the ids the connection's certificate names.
     */
    String dispatch(int version, String clusterId, long incarnation, Incarnations.Connection connection,
                    CertifiedNodeIds certified, RaftMessage message) {
        if (version != NettyTransportConfig.PROTOCOL_VERSION) {
            return "unknown protocol version " + Integer.toUnsignedString(version);
        }
        if (!this.clusterId.equals(clusterId)) {
            // Said whole: which cluster dials which, and where the wrong address is (the sender's
            // configuration; the sender is told only the head of this, its own cluster id).
            String theirs = abbreviate(clusterId);
            return "wrong cluster id '" + theirs + "': a process of cluster '" + theirs + "' dials this process of"
                    + " cluster '" + abbreviate(this.clusterId) + "' as '" + abbreviate(message.to()) + "' (sender '"
                    + abbreviate(message.from()) + "'): one of its peer addresses points at this cluster. Correct it"
                    + " there (or its cluster id, if both were meant to be one cluster)";
        }
        // Before anything else is looked at or remembered for this sender: a frame its certificate
        // does not allow must not count as that member's (the incarnation check would serve it).
        if (certified != null && !certified.names(message.from())) {
            return notCertified(abbreviate(message.from()), certified, connection);
        }
        if (localIds.isEmpty()) {
            // No node has registered yet (a process starting, its peers already sending): this
            // transport cannot tell yet who belongs, and closing would only make the peers back off
            // and redial. Nothing is delivered, and Raft sends again.
            droppedUnregistered.increment();
            return null;
        }
        String sender = message.from();
        if (!knownSenders.contains(sender)) {
            return unknownSender(abbreviate(sender));
        }
        String receiver = message.to();
        if (sender.equals(receiver)) {
            // Never sent by a member (the core keeps a node's messages to itself in its process),
            // yet the receiver's id is among the known senders: a RaftNode announces every member,
            // itself included. The core would take it for a peer's (a vote, a leader's append).
            return "sender '" + abbreviate(sender) + "' is the receiver itself: a node's messages to itself never"
                    + " come over the network";
        }
        String otherProcess = incarnations.check(sender, incarnation, connection);
        if (otherProcess != null) {
            return otherProcess;
        }
        Transport.Inbound inbound = lookup(message.groupId(), receiver);
        if (inbound == null) {
            if (!localIds.contains(receiver)) {
                return unknownReceiver(abbreviate(sender), abbreviate(receiver));
            }
            // A local node between unregister and register (restarting), or a group not yet
            // created here: Raft retries, so dropping is enough.
            droppedUnregistered.increment();
            return null;
        }
        try {
            inbound.receive(message);
        } catch (RuntimeException e) {
            LOG.error("inbound of {} in group {} failed on {}", receiver, message.groupId(),
                    message.getClass().getSimpleName(), e);
        }
        delivered.increment();
        return null;
    }

    /**
     * The head, sent back, names only what the sender presented (its id and its certificate's ids);
     * the rest says which process, and the two ways it comes about.
     */
    private static String notCertified(String sender, CertifiedNodeIds certified, Incarnations.Connection connection) {
        return "sender '" + sender + "' is not named by its TLS certificate, which names " + certified.describe()
                + ": the member at " + (connection == null ? "?" : connection.describe()) + " sends as '" + sender
                + "'. Either it runs under an id it was not issued a certificate for (a node started with another's"
                + " id, or given another member's files), or its certificate lacks the URI subject alternative name "
                + CertifiedNodeIds.uriFor(sender)
                + " (see docs/transport.md on issuing member certificates)";
    }

    /**
     * Seen alone, "unknown sender" left operators guessing. The usual cause is a node being added
     * whose configured peers lack the leader: it refuses the leader's messages, so it never
     * receives the configuration it would learn the members from, and the addition times out
     * leaving a learner behind. The warning names that fix.
     */
    private static String unknownSender(String sender) {
        return "unknown sender '" + sender + "': not among this node's known peers (its configured peers and the"
                + " members of its groups). If '" + sender + "' is the cluster's leader, add it to this node's peers"
                + " (NettyTransportConfig peers; the KV node's --peers): a node learns the members from the"
                + " configuration the leader sends it, which is refused until then";
    }

    /**
     * Said alone, "unknown receiver" did not tell the operator that the sender's address for that
     * receiver is where this process listens (n2's address written with n3's port). Only this end
     * can say so in full: connections carry frames one way, and the sender is told only the head of
     * this (see {@link RefusalNotice}).
     */
    private String unknownReceiver(String sender, String receiver) {
        List<String> here = localIds.stream().sorted().limit(5).map(InboundDispatcher::abbreviate).toList();
        return "unknown receiver '" + receiver + "': no node '" + receiver + "' runs in this process (it runs "
                + String.join(", ", here) + (localIds.size() > here.size() ? ", ..." : "") + "): '" + sender
                + "' dials " + receiver + " at this process's address. Correct " + sender + "'s address for "
                + receiver + " (its configured peers, the KV node's --peers or --dial, or the address the"
                + " membership gives " + receiver + ")";
    }

    /** Groups with a local node registered here. */
    int groups() {
        return byGroup.size();
    }

    long delivered() {
        return delivered.sum();
    }

    long droppedUnregistered() {
        return droppedUnregistered.sum();
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}

package io.raft4j.transport.netty;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which frames are delivered, and what the warning of a refused one tells the operator. */
class InboundDispatcherTest {
    private static final int VERSION = NettyTransportConfig.PROTOCOL_VERSION;

    @Test
    void aSenderThisNodeDoesNotKnowIsRefusedWithWhatToDo() {
        // A joining node started with --peers n1 only, while n2 leads and sends it the log.
        InboundDispatcher dispatcher = new InboundDispatcher("c", Set.of("n1"));
        RecordingInbound atN4 = new RecordingInbound();
        dispatcher.register("g", "n4", atN4);

        String refusal = dispatcher.dispatch(VERSION, "c", TestMessages.numbered("g", "n2", "n4", 1, 0));

        assertTrue(refusal.startsWith("unknown sender 'n2': not among this node's known peers"), refusal);
        assertTrue(refusal.contains("If 'n2' is the cluster's leader, add it to this node's peers (NettyTransportConfig peers; the KV node's --peers)"),
                refusal);
        assertEquals(0, dispatcher.delivered());
    }

    @Test
    void aSenderLearnedFromAGroupsMembershipIsDelivered() {
        InboundDispatcher dispatcher = new InboundDispatcher("c", Set.of("n1"));
        RecordingInbound atN4 = new RecordingInbound();
        dispatcher.register("g", "n4", atN4);
        dispatcher.knownSenders(Set.of("n1", "n2")); // what updatePeers does once the configuration arrives

        assertNull(dispatcher.dispatch(VERSION, "c", TestMessages.numbered("g", "n2", "n4", 1, 0)));
        assertEquals(1, dispatcher.delivered());
    }

    /**
     * Found attacking the transport as a hostile peer: a frame naming the receiving node as its own
     * sender was delivered whenever the receiver's id was among the known senders, which it always
     * is under a RaftNode (it announces every member of its configuration, itself included). No
     * member ever sends such a frame (a node's messages to itself never leave its process), and the
     * core takes it as coming from a peer: a forged vote request has the node record a vote for
     * itself in a term it never campaigned in, a forged append makes it take itself for the leader.
     */
    @Test
    void aFrameClaimingToComeFromItsOwnReceiverIsRefused() {
        InboundDispatcher dispatcher = new InboundDispatcher("c", Set.of("n1", "n4"));
        RecordingInbound atN4 = new RecordingInbound();
        dispatcher.register("g", "n4", atN4);

        String refusal = dispatcher.dispatch(VERSION, "c",
                new io.raft4j.message.RequestVote("g", "n4", "n4", 9, 100, 8, false, false));

        assertEquals("sender 'n4' is the receiver itself: a node's messages to itself never come over the network",
                refusal);
        assertTrue(atN4.received.isEmpty(), "nothing delivered: " + atN4.received);
        assertEquals(0, dispatcher.delivered());
    }
}

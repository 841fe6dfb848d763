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
}

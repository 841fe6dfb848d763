package io.raft4j;

import io.raft4j.core.Role;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The event loop's half of leadership notices: turns the role, term and leader the core reports after
 * a change into the {@link LeadershipEvent}s since the last report. The core may pass through several
 * roles between two reports (elected and deposed in one batch of messages); comparing states instead
 * of replaying transitions still ends every leadership it began, before beginning the next.
 * Confined to the event loop (and to the thread stopping the node, once the loop has stopped).
 */
final class LeadershipTracker {
    private String knownLeader;
    private long knownTerm;
    /** The term this node leads, or 0. */
    private long leadingTerm;

    List<LeadershipEvent> observe(Role role, long term, String leaderId) {
        List<LeadershipEvent> events = new ArrayList<>(3);
        if (leadingTerm != 0 && (role != Role.LEADER || term != leadingTerm)) {
            events.add(new LeadershipEvent.LeadingEnded(leadingTerm));
            leadingTerm = 0;
        }
        // The same leader in a later term is news too: it was re-elected, and its earlier term ended.
        if (!Objects.equals(leaderId, knownLeader) || (leaderId != null && term != knownTerm)) {
            knownLeader = leaderId;
            knownTerm = term;
            events.add(new LeadershipEvent.LeaderKnown(leaderId, term));
        }
        if (role == Role.LEADER && leadingTerm == 0) {
            leadingTerm = term;
            events.add(new LeadershipEvent.LeadingBegan(term));
        }
        return events;
    }

    /** The node is stopping: ends the leadership it holds, if any. */
    List<LeadershipEvent> stopping() {
        if (leadingTerm == 0) {
            return List.of();
        }
        long ended = leadingTerm;
        leadingTerm = 0;
        return List.of(new LeadershipEvent.LeadingEnded(ended));
    }
}

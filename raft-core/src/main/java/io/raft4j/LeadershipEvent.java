package io.raft4j;

/**
 * A change of leadership seen by the event loop, carried to the apply thread in order with the
 * committed entries, where a {@link LeadershipNotifier} tells the user's listener.
 */
sealed interface LeadershipEvent {

    /** The node learned that {@code leaderId} leads {@code term}, or ({@code null}) that none is known. */
    record LeaderKnown(String leaderId, long term) implements LeadershipEvent {
    }

    /** The node was elected leader of {@code term}; it appended its no-op of the term. */
    record LeadingBegan(long term) implements LeadershipEvent {
    }

    /** The node no longer leads {@code term}: it stepped down or is stopping. */
    record LeadingEnded(long term) implements LeadershipEvent {
    }
}

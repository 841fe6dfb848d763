package io.raft4j.core;

import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Linearizable reads served by followers (Raft thesis §6.4): a follower asks its leader for a read
 * index; the leader confirms it still leads exactly as for its own reads and answers with the commit
 * index it recorded; the follower serves the read once it has applied that far. This keeps both
 * halves' bookkeeping: the reads a follower has asked about, and the reads a leader confirms on
 * followers' behalf.
 *
 * <p>An answer counts only in the term it was asked in (the core drops messages of older terms), so
 * the core has a follower give up its reads when its term moves on ({@link #abandonAsked}), and this
 * gives them up after an election timeout without an answer (the request or the answer was lost);
 * the caller then retries, as after any abandoned read.
 *
 * <p>An answered read is handed out only once the follower has committed up to its read index: from
 * there it needs nothing more from the leader (its state machine gets there by itself). Until then it
 * waits for the follower to receive the entries, and is given up if the follower's commit index stays
 * put for an election timeout: a follower cut off from its leader right after the answer would
 * otherwise keep its caller waiting for as long as the partition lasts, while a lagging follower that
 * is catching up still serves it.
 */
final class ReadRelay {
    /** A read a leader confirms for a follower, under a leader-local id. */
    private record Origin(String follower, long requestId) {
    }

    /** Follower: the reads asked of the leader, by request id, with the tick they were asked at. */
    private final Map<Long, Long> asked = new LinkedHashMap<>();
    /** Follower: answered reads whose read index is beyond its commit index, lowest index first. */
    private final PriorityQueue<ReadState> awaitingCommit = new PriorityQueue<>(
            Comparator.comparingLong(ReadState::readIndex));
    /** The commit index last seen while reads await it, and the tick it was first seen at. */
    private long commitSeen;
    private long commitSeenAt;
    private final List<ReadState> answered = new ArrayList<>();
    private final List<Long> abandoned = new ArrayList<>();

    /** Leader: the reads confirmed on followers' behalf, by leader-local id (negative: apart from the caller's). */
    private final Map<Long, Origin> relayed = new HashMap<>();
    private long lastRelayId;

    // ---- follower half ------------------------------------------------------------------------

    /** Records a read asked of {@code leader} in {@code term}; returns the request to send it. */
    ReadIndexRequest ask(String groupId, String self, String leader, long term, long requestId, boolean lease,
                         long now) {
        asked.put(requestId, now);
        return new ReadIndexRequest(groupId, self, leader, term, requestId, lease);
    }

    /**
     * The leader's answer, already known to be of the current term (asked in it, or given up), at
     * tick {@code now}, when this node has committed up to {@code committed}.
     */
    void onAnswer(ReadIndexResponse r, long committed, long now) {
        if (asked.remove(r.requestId()) == null) {
            return; // a duplicate, or a read already given up
        }
        if (r.refused()) {
            abandoned.add(r.requestId());
            return;
        }
        ReadState read = new ReadState(r.requestId(), r.readIndex());
        if (read.readIndex() <= committed) {
            answered.add(read);
            return;
        }
        if (awaitingCommit.isEmpty()) {
            commitSeen = committed;
            commitSeenAt = now;
        }
        awaitingCommit.add(read);
    }

    /** Hands out the answered reads whose read index this node has now committed. */
    private void releaseCommitted(long committed) {
        while (!awaitingCommit.isEmpty() && awaitingCommit.peek().readIndex() <= committed) {
            answered.add(awaitingCommit.poll());
        }
    }

    /** The term moved on: no answer to what was asked can arrive any more. */
    void abandonAsked() {
        abandoned.addAll(asked.keySet());
        asked.clear();
    }

    /**
     * Gives up reads asked at least {@code timeoutTicks} ago and not answered, and the answered ones
     * still beyond {@code committed} if it has not moved for {@code timeoutTicks}.
     */
    void expire(long now, long timeoutTicks, long committed) {
        if (!awaitingCommit.isEmpty()) {
            if (committed > commitSeen) {
                commitSeen = committed;
                commitSeenAt = now;
            } else if (now - commitSeenAt >= timeoutTicks) {
                while (!awaitingCommit.isEmpty()) {
                    abandoned.add(awaitingCommit.poll().requestId());
                }
            }
        }
        if (asked.isEmpty()) {
            return;
        }
        for (Iterator<Map.Entry<Long, Long>> it = asked.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Long> e = it.next();
            if (now - e.getValue() < timeoutTicks) {
                break; // asked in order: the rest are younger
            }
            abandoned.add(e.getKey());
            it.remove();
        }
    }

    boolean hasOutput(long committed) {
        return !answered.isEmpty() || !abandoned.isEmpty()
                || (!awaitingCommit.isEmpty() && awaitingCommit.peek().readIndex() <= committed);
    }

    /** Reads answered, whose read index is within {@code committed}, since the last call; clears them. */
    List<ReadState> takeAnswered(long committed) {
        releaseCommitted(committed);
        return take(answered);
    }

    /** Reads given up since the last call; clears them. */
    List<Long> takeAbandoned() {
        return take(abandoned);
    }

    // ---- leader half --------------------------------------------------------------------------

    /** Registers a follower's read; returns the leader-local id to confirm it under. */
    long relay(ReadIndexRequest request) {
        long id = --lastRelayId;
        relayed.put(id, new Origin(request.from(), request.requestId()));
        return id;
    }

    /**
     * Splits reads the leader confirmed: its own are returned, those of followers are answered
     * through {@code send}.
     */
    List<ReadState> answerRelayed(List<ReadState> confirmed, String groupId, String self, long term,
                                  Consumer<ReadIndexResponse> send) {
        List<ReadState> own = new ArrayList<>(confirmed.size());
        for (ReadState rs : confirmed) {
            Origin origin = relayed.remove(rs.requestId());
            if (origin == null) {
                own.add(rs);
            } else {
                send.accept(new ReadIndexResponse(groupId, self, origin.follower(), term, origin.requestId(),
                        rs.readIndex(), false));
            }
        }
        return own;
    }

    /** Whether the leader holds reads of followers not yet confirmed. */
    boolean relaysAny() {
        return !relayed.isEmpty();
    }

    /** Whether {@code id} is a leader-local id of a follower's read. */
    static boolean isRelayed(long id) {
        return id < 0;
    }

    /** The leader will not confirm the follower's read held under {@code id}: tells the follower so. */
    void refuseRelayed(long id, String groupId, String self, long term, Consumer<ReadIndexResponse> send) {
        Origin origin = relayed.remove(id);
        if (origin != null) {
            send.accept(ReadIndexResponse.refusal(groupId, self, origin.follower(), term, origin.requestId()));
        }
    }

    private static <T> List<T> take(List<T> list) {
        if (list.isEmpty()) {
            return List.of();
        }
        List<T> taken = new ArrayList<>(list);
        list.clear();
        return taken;
    }
}

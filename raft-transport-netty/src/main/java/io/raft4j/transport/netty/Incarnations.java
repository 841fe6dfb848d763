package io.raft4j.transport.netty;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Tells apart two processes sending under one node id, by the incarnation each transport stamps on
 * its frames (random, drawn at its start). One node id started twice is an operator's mistake that
 * nothing else catches: both processes dial the peers, and a peer would take the frames of both for
 * one member's (a vote request from each, one voter counted twice).
 *
 * <p>Per sender id, the incarnation served is the one that spoke first. Another incarnation of the
 * same id is refused (its connection closed) while the served one is still there: its connection
 * open and a frame from it less than {@link #OVERLAP_NANOS} ago. Otherwise the newcomer is a restart
 * (the old process's connections closed when it ended, or went quiet when its host did) and is
 * served from then on. A restart is thus never refused once its predecessor's connection closed,
 * and for at most {@link #OVERLAP_NANOS} after its last frame if it lingers half-open.
 *
 * <p>A refusal alone may be a restart racing its predecessor's last frames, so it is a warning of
 * the refused connection. Two incarnations interleaving is not: when the served one sent again after
 * the newcomer was first refused, two processes are alive under one id, and that is logged as an
 * error (once per {@link #ERROR_EVERY_NANOS} per id). Frames without an incarnation (an older peer)
 * are not checked.
 *
 * <p>What it cannot do: peers that dial the two processes at different addresses each serve the one
 * they heard first, and a vote granted before the second was heard stands (docs/operations.md).
 *
 * <p>Thread-safe: called from every event-loop thread.
 */
final class Incarnations {
    private static final Logger LOG = LoggerFactory.getLogger(Incarnations.class);

    /**
     * How recently the served incarnation must have sent for a newcomer to be refused. Live members
     * exchange frames many times a second (heartbeats and their answers); a restart takes longer than
     * this, so it is hardly ever refused even while the old connection lingers.
     */
    static final long OVERLAP_NANOS = TimeUnit.SECONDS.toNanos(2);
    static final long ERROR_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** The accepted connection a frame came on. */
    interface Connection {
        boolean isOpen();

        /** Where it comes from, for the log. */
        String describe();
    }

    private final LongSupplier nanoClock;
    private final Map<String, Served> served = new HashMap<>();   // guarded by this

    /** The incarnation served for one sender id, and the newcomer last refused. */
    private static final class Served {
        long incarnation;
        Connection connection;
        long lastFrameNanos;
        long refused;
        long refusedSinceNanos;
        boolean errorLogged;
        long errorLoggedNanos;

        Served(long incarnation, Connection connection, long now) {
            serve(incarnation, connection, now);
        }

        void serve(long incarnation, Connection connection, long now) {
            this.incarnation = incarnation;
            this.connection = connection;
            this.lastFrameNanos = now;
            this.refused = 0;
        }
    }

    Incarnations(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /**
     * Checks a frame from {@code sender} stamped {@code incarnation} that came on {@code connection}.
     *
     * @return {@code null} to deliver it, otherwise why its connection is closed
     */
    synchronized String check(String sender, long incarnation, Connection connection) {
        if (incarnation == 0) {
            return null;
        }
        long now = nanoClock.getAsLong();
        Served s = served.get(sender);
        if (s == null) {
            served.put(sender, new Served(incarnation, connection, now));
            return null;
        }
        if (s.incarnation == incarnation) {
            s.connection = connection;   // the same process, maybe on a new connection after a reconnect
            s.lastFrameNanos = now;
            return null;
        }
        long quietNanos = now - s.lastFrameNanos;
        if (!s.connection.isOpen() || quietNanos > OVERLAP_NANOS) {
            LOG.info("node {} restarted: a new process under its id sends from {} (incarnation {}), the previous one"
                            + " ({}) {}", sender, connection.describe(), hex(incarnation), hex(s.incarnation),
                    s.connection.isOpen() ? "has been silent for " + TimeUnit.NANOSECONDS.toMillis(quietNanos) + " ms"
                            : "closed its connection");
            s.serve(incarnation, connection, now);
            return null;
        }
        // Interleaving: the served one sent after this newcomer was already refused once.
        boolean interleaved = s.refused == incarnation && s.lastFrameNanos - s.refusedSinceNanos > 0;
        if (s.refused != incarnation) {
            s.refused = incarnation;
            s.refusedSinceNanos = now;
        }
        if (interleaved && (!s.errorLogged || now - s.errorLoggedNanos > ERROR_EVERY_NANOS)) {
            s.errorLogged = true;
            s.errorLoggedNanos = now;
            LOG.error("two processes claim to be node {}: one sends from {} (incarnation {}), another from {}"
                            + " (incarnation {}), both alive. A node id must run in one process only, or a voter may"
                            + " be counted twice in one election: stop the one started by mistake (and check that"
                            + " every member has the same address for {}). Only the first one heard is served here",
                    sender, s.connection.describe(), hex(s.incarnation), connection.describe(), hex(incarnation),
                    sender);
        }
        return "another process under the id '" + sender + "' is served here: it (incarnation " + hex(s.incarnation)
                + ", at " + s.connection.describe() + ") sent " + TimeUnit.NANOSECONDS.toMillis(quietNanos) + " ms ago on a"
                + " connection still open: this one (incarnation " + hex(incarnation) + ") is refused until that one"
                + " closes or stays silent for " + TimeUnit.NANOSECONDS.toMillis(OVERLAP_NANOS) + " ms (a restart"
                + " racing its old connection gets through then; two processes started under one id do not)";
    }

    private static String hex(long incarnation) {
        return Long.toHexString(incarnation);
    }
}

package io.raft4j.examples.kv;

import io.netty.util.concurrent.EventExecutor;

/**
 * Per-connection settings and identity. Touched only on the connection's event loop.
 */
public final class Session {
    /** How a follower answers a command that must run on the leader. */
    public enum FollowerMode {
        /** Relay it to the leader and the answer back (default). */
        FORWARD,
        /** Answer {@code -NOTLEADER <leader client address>} for clients that route themselves. */
        REDIRECT,
        /**
         * The connection of another node forwarding to this one: never forward again and never
         * wait for a leader; answer {@code -NOTLEADER} or {@code -TRYAGAIN} at once.
         */
        FORWARDED
    }

    /** How reads are served. */
    public enum ReadMode {
        /** Through ReadIndex on the leader (default). */
        LINEARIZABLE,
        /**
         * On the leader without a round trip while it holds a lease (raft-core's
         * {@code ReadConsistency.LEASE}): linearizable as long as clock drift stays under the
         * configured bound; otherwise like LINEARIZABLE.
         */
        LEASE,
        /** From this node's state as it is, without any round trip: may be stale. */
        STALE
    }

    final long id;
    final EventExecutor executor;
    final String remoteAddress;
    FollowerMode followerMode;
    ReadMode readMode;
    String name = "";

    Session(long id, EventExecutor executor, String remoteAddress, FollowerMode followerMode, ReadMode readMode) {
        this.id = id;
        this.executor = executor;
        this.remoteAddress = remoteAddress;
        this.followerMode = followerMode;
        this.readMode = readMode;
    }
}

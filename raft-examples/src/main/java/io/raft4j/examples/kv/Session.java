package io.raft4j.examples.kv;

import io.netty.util.concurrent.EventExecutor;
import io.raft4j.examples.kv.resp.ClientInputAccount;

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
         * wait for a leader; answer {@code -NOTLEADER} or {@code -TRYAGAIN} at once. Never
         * evicted for the client input budget either ({@link #forwarded}).
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
    /** What this connection's input holds in the node's budget. */
    final ClientInputAccount input;
    FollowerMode followerMode;
    ReadMode readMode;
    String name = "";

    Session(long id, EventExecutor executor, String remoteAddress, ClientInputAccount input, FollowerMode followerMode,
            ReadMode readMode) {
        this.id = id;
        this.executor = executor;
        this.remoteAddress = remoteAddress;
        this.input = input;
        this.followerMode = followerMode;
        this.readMode = readMode;
    }

    /**
     * The connection announced {@code RAFT.FORWARDED}: another node forwards its clients' commands
     * over it. Besides never forwarding again, it is exempt from eviction for the client input
     * budget, as Redis exempts its replication links: it multiplexes many clients, so it is typically
     * the biggest holder, and evicting it would make the forwarding node answer every write it
     * carried {@code -UNCERTAIN} at once. Its input still counts. There is no authentication here,
     * as for every command of this example: any client that sends it is exempt too.
     */
    void forwarded() {
        followerMode = FollowerMode.FORWARDED;
        input.exemptFromEviction();
    }
}

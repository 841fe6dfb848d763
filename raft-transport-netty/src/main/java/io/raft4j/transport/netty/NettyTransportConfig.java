package io.raft4j.transport.netty;

import io.raft4j.message.ClusterConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The settings of one {@link NettyTransport}: immutable, validated when built.
 *
 * <p>Memory per peer is bounded by {@code maxQueuedBytes} (appends with entries and snapshot
 * chunks waiting for the connection), {@code maxQueuedMessages} small messages (every other kind,
 * which have an allowance of their own so that groups streaming data never crowd them out) and
 * {@link #WRITE_BUFFER_HIGH_WATER_BYTES} (encoded frames handed to the socket but not yet
 * written); beyond that the transport drops and reports the peer unreachable.
 *
 * @param clusterId            identifies the cluster; every member uses the same id, and frames
 *                             carrying another are refused. Required; an id as
 *                             {@link ClusterConfig#problemWithId} describes (at most 256 characters,
 *                             no control characters, unpaired surrogates or whitespace at either end)
 * @param listenHost           address the server binds; default {@code 127.0.0.1}
 * @param listenPort           port the server binds; 0 (the default) picks a free one, see
 *                             {@link NettyTransport#localPort()}
 * @param peers                member id to {@code host:port} it listens on; the only addresses the
 *                             transport dials. Overridden per id by {@link NettyTransport#updatePeers}
 * @param maxFrameBytes        largest frame sent or accepted (length prefix excluded); a larger
 *                             inbound frame closes the connection, a larger outbound message is
 *                             dropped. Default 16 MiB, at least 1,024; must exceed the core's
 *                             {@code maxEntryBytes}, {@code maxMessageBytes} and
 *                             {@code snapshotChunkBytes} with room for the envelope (a
 *                             {@code RaftNode} checks this when built). Use the same value on every
 *                             member
 * @param maxQueuedMessages    appends with entries and snapshot chunks queued per peer before new
 *                             ones are dropped, and separately, other (small) messages queued per
 *                             peer before new ones are dropped; default 8,192
 * @param maxQueuedBytes       bytes of appends with entries and snapshot chunks queued per peer (by
 *                             {@code RaftMessage.sizeBytes()}) before new ones are dropped; small
 *                             messages do not count. Default 64 MiB; at least {@code maxFrameBytes}
 *                             so a maximal message always fits an empty queue
 * @param connectTimeoutMillis how long one dial may take; default 2,000
 * @param reconnectMinMillis   first delay after a failed dial; doubles per failure; default 50
 * @param reconnectMaxMillis   cap of the reconnect delay; default 5,000. Each delay is drawn at
 *                             random in [delay/2, delay] so peers do not dial in lockstep
 * @param inboundIdleTimeoutMillis an accepted connection on which neither a frame nor 64 KiB of
 *                             one arrives for this long is closed: its peer is gone or stuck (it
 *                             connected and went silent, stopped mid-frame, or trickles a frame a
 *                             byte at a time), and would otherwise hold the connection and its
 *                             buffered bytes forever. Live peers keep their connections busy (a
 *                             leader's heartbeats, the followers' answers); one that carries
 *                             nothing for this long, such as between two followers, is closed too,
 *                             and its peer redials on its next send. Default 30,000 (300 heartbeats
 *                             and 15 maximal election timeouts at the core's defaults); at least
 *                             1,000, and keep it well above the heartbeat interval
 *                             ({@code heartbeatIntervalTicks} x {@code tickMillis})
 * @param ioThreads            Netty event-loop threads; default half the available processors,
 *                             at least 1 and at most 4. Fewer is often faster: with one thread, the
 *                             connection that receives a peer's messages and the one that sends to
 *                             it share a thread, so an answer needs no hand-off between threads
 *                             (1.5x the round trips of two threads in the loopback benchmark on 2 cores);
 *                             at most {@link #MAX_IO_THREADS}
 * @param preferNative         use native epoll when it loads (Linux), NIO otherwise; default true
 * @param tls                  mutual TLS, or {@code null} (default) for plain TCP; with TLS, each member's
 *                             certificate names its node ids by default (see {@link TlsSettings})
 */
public record NettyTransportConfig(String clusterId, String listenHost, int listenPort,
                                   Map<String, String> peers, int maxFrameBytes, int maxQueuedMessages,
                                   long maxQueuedBytes, int connectTimeoutMillis, long reconnectMinMillis,
                                   long reconnectMaxMillis, long inboundIdleTimeoutMillis, int ioThreads,
                                   boolean preferNative, TlsSettings tls) {

    /** Protocol version of the frames this module writes; frames of any other version are refused. */
    public static final int PROTOCOL_VERSION = 1;

    /** The most {@code ioThreads}: far more than a transport can use (a few are faster, see {@code ioThreads}). */
    public static final int MAX_IO_THREADS = 256;

    /** Default {@code maxFrameBytes}: 16 MiB. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;

    /**
     * Encoded bytes buffered in a peer's socket channel before the transport stops draining its
     * queue into it (Netty's write-buffer high-water mark); it resumes below half of this.
     */
    public static final int WRITE_BUFFER_HIGH_WATER_BYTES = 4 << 20;

    /** Default {@code inboundIdleTimeoutMillis}: 30 s. */
    public static final long DEFAULT_INBOUND_IDLE_TIMEOUT_MILLIS = 30_000;

    /**
     * Smallest {@code inboundIdleTimeoutMillis}. Shorter would cut connections between heartbeats at
     * common settings (a tick of 100 ms to 1 s), and a dialler whose connection dies within a
     * second takes the peer for failing and backs off, dropping what it sends meanwhile.
     */
    public static final long MIN_INBOUND_IDLE_TIMEOUT_MILLIS = 1_000;

    public NettyTransportConfig {
        if (clusterId == null || clusterId.isEmpty()) {
            throw new IllegalArgumentException("clusterId must be a non-empty string");
        }
        // Every frame carries it, in UTF-8: one with half a surrogate pair reached the peers as '?'
        // and every frame was refused for a cluster id its sender did not have; 70,000 characters
        // went out in every frame. The rules of a group id, then.
        ClusterConfig.problemWithId(clusterId).ifPresent(problem -> {
            throw new IllegalArgumentException("clusterId: " + problem.replace("an id", "a cluster id"));
        });
        Objects.requireNonNull(listenHost, "listenHost");
        if (listenPort < 0 || listenPort > 65_535) {
            throw new IllegalArgumentException("listenPort out of range: " + listenPort);
        }
        peers = Map.copyOf(peers);
        peers.forEach((id, address) -> HostPort.problemAsPeerAddress(address).ifPresent(problem -> {
            throw new IllegalArgumentException("peer " + id + ": " + problem);
        }));
        if (maxFrameBytes < 1024) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 1024, was " + maxFrameBytes);
        }
        requirePositive(maxQueuedMessages, "maxQueuedMessages");
        if (maxQueuedBytes < maxFrameBytes) {
            throw new IllegalArgumentException("maxQueuedBytes (" + maxQueuedBytes
                    + ") must be at least maxFrameBytes (" + maxFrameBytes + ")");
        }
        requirePositive(connectTimeoutMillis, "connectTimeoutMillis");
        requirePositive(reconnectMinMillis, "reconnectMinMillis");
        if (reconnectMaxMillis < reconnectMinMillis) {
            throw new IllegalArgumentException("reconnectMaxMillis must be >= reconnectMinMillis");
        }
        if (inboundIdleTimeoutMillis < MIN_INBOUND_IDLE_TIMEOUT_MILLIS) {
            throw new IllegalArgumentException("inboundIdleTimeoutMillis must be at least "
                    + MIN_INBOUND_IDLE_TIMEOUT_MILLIS + ", was " + inboundIdleTimeoutMillis);
        }
        requirePositive(ioThreads, "ioThreads");
        if (ioThreads > MAX_IO_THREADS) {
            // Each is an event loop with its own selector, created at start: Integer.MAX_VALUE ran
            // the process out of file descriptors or memory there.
            throw new IllegalArgumentException("ioThreads must be at most " + MAX_IO_THREADS + ", was " + ioThreads);
        }
        if (tls != null) {
            tls.checkFiles();
        }
    }

    private static void requirePositive(long value, String field) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, was " + value);
        }
    }

    /** A builder with the documented defaults. */
    public static Builder builder(String clusterId) {
        return new Builder(clusterId);
    }

    /** Builds a {@link NettyTransportConfig}; each setter documents its field on the record. */
    public static final class Builder {
        private final String clusterId;
        private String listenHost = "127.0.0.1";
        private int listenPort;
        private final Map<String, String> peers = new LinkedHashMap<>();
        private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
        private int maxQueuedMessages = 8192;
        private long maxQueuedBytes = 64L << 20;
        private int connectTimeoutMillis = 2000;
        private long reconnectMinMillis = 50;
        private long reconnectMaxMillis = 5000;
        private long inboundIdleTimeoutMillis = DEFAULT_INBOUND_IDLE_TIMEOUT_MILLIS;
        private int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
        private boolean preferNative = true;
        private TlsSettings tls;

        private Builder(String clusterId) {
            this.clusterId = clusterId;
        }

        /** Where the server listens. */
        public Builder listen(String host, int port) {
            this.listenHost = host;
            this.listenPort = port;
            return this;
        }

        /** Where the server listens, as {@code host:port}. */
        public Builder listen(String hostPort) {
            HostPort hp = HostPort.parse(hostPort);
            return listen(hp.host(), hp.port());
        }

        /** Adds or replaces one peer's address ({@code host:port}). */
        public Builder peer(String id, String hostPort) {
            peers.put(id, hostPort);
            return this;
        }

        /** Adds or replaces peers' addresses. */
        public Builder peers(Map<String, String> addresses) {
            peers.putAll(addresses);
            return this;
        }

        /** Largest frame sent or accepted; default 16 MiB; the same on every member. See {@link NettyTransportConfig}. */
        public Builder maxFrameBytes(int bytes) {
            this.maxFrameBytes = bytes;
            return this;
        }

        /**
         * Appends with entries and snapshot chunks queued per peer before new ones are dropped, and
         * as many other (small) messages; default 8,192.
         */
        public Builder maxQueuedMessages(int messages) {
            this.maxQueuedMessages = messages;
            return this;
        }

        /**
         * Bytes of appends with entries and snapshot chunks queued per peer before new ones are
         * dropped; default 64 MiB, at least {@code maxFrameBytes}.
         */
        public Builder maxQueuedBytes(long bytes) {
            this.maxQueuedBytes = bytes;
            return this;
        }

        /** How long one dial may take; default 2,000 ms. */
        public Builder connectTimeoutMillis(int millis) {
            this.connectTimeoutMillis = millis;
            return this;
        }

        /** The reconnect delay range: doubling from {@code minMillis} up to {@code maxMillis}. */
        public Builder reconnectBackoff(long minMillis, long maxMillis) {
            this.reconnectMinMillis = minMillis;
            this.reconnectMaxMillis = maxMillis;
            return this;
        }

        /** An accepted connection silent this long is closed; default 30,000 ms. See {@link NettyTransportConfig}. */
        public Builder inboundIdleTimeoutMillis(long millis) {
            this.inboundIdleTimeoutMillis = millis;
            return this;
        }

        /** Netty event-loop threads; default half the processors, 1 to 4 (fewer is often faster). */
        public Builder ioThreads(int threads) {
            this.ioThreads = threads;
            return this;
        }

        /** Whether to use native epoll where it loads (Linux), NIO otherwise; default true. */
        public Builder preferNative(boolean preferNative) {
            this.preferNative = preferNative;
            return this;
        }

        /** Enables mutual TLS; {@code null} turns it off. */
        public Builder tls(TlsSettings tls) {
            this.tls = tls;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws IllegalArgumentException naming the field if a value is invalid
         */
        public NettyTransportConfig build() {
            return new NettyTransportConfig(clusterId, listenHost, listenPort, peers, maxFrameBytes,
                    maxQueuedMessages, maxQueuedBytes, connectTimeoutMillis, reconnectMinMillis,
                    reconnectMaxMillis, inboundIdleTimeoutMillis, ioThreads, preferNative, tls);
        }
    }
}

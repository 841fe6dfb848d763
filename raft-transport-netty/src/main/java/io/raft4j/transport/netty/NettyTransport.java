package io.raft4j.transport.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;

/**
 * A {@link Transport} over TCP with Netty: protobuf frames (see {@code raft4j_wire.proto}), one
 * outbound connection per peer shared by all Raft groups of the process, optional mutual TLS.
 *
 * <pre>{@code
 * NettyTransport transport = NettyTransport.start(NettyTransportConfig.builder("prod-cluster")
 *         .listen("0.0.0.0", 7001)
 *         .peer("n2", "10.0.0.2:7001").peer("n3", "10.0.0.3:7001")
 *         .build());
 * RaftNode<String> node = RaftNode.builder(raftConfig, stateMachine).transport(transport)...build();
 * }</pre>
 *
 * <h2>Connections</h2>
 * Each process dials each peer it sends to, at the address configured for that peer (or announced
 * by {@link #updatePeers}), and only there; it accepts connections from peers dialling it. Dialled
 * connections carry this process's messages out; accepted ones carry peers' messages in. An
 * inbound message is attributed to the sender id in its envelope, never to the connection's
 * source address. Peers' host names are looked up off the event loops (see {@link OffLoopResolver}),
 * so a slow DNS lookup delays only the dial that needs it. See {@link PeerConnection} for queueing,
 * flush coalescing and reconnecting.
 *
 * <h2>What is refused</h2>
 * An inbound connection is closed, with a logged reason, and nothing more from it is delivered,
 * when a frame is longer than {@code maxFrameBytes} or empty, does not parse, carries an invalid
 * message, another protocol version or cluster id, a sender this transport has no address for or
 * that is the receiver itself, a receiver that is not a local node, or a sender id whose frames
 * another live process is sending too (one node id started twice: see {@link Incarnations}). With TLS, a peer without a
 * certificate from a trusted authority fails the handshake and sends nothing, and with the node-id
 * check ({@link TlsSettings#checkNodeIds()}, the default) a frame whose sender id the peer's
 * certificate does not name is refused; a dialled server whose certificate does not name the id
 * dialled is sent nothing. An inbound
 * connection on which neither a frame nor 64 KiB of one arrives for {@code inboundIdleTimeoutMillis}
 * is closed as well (see {@link InboundIdleTimeout}).
 *
 * <p>{@link #send} never blocks and never throws. Inbound messages are delivered on Netty's
 * event-loop threads; a message to another node registered with this transport is handed to it
 * directly, on the sending thread.
 */
public final class NettyTransport implements Transport, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NettyTransport.class);

    private final NettyTransportConfig config;
    private final boolean nativeTransport;
    private final EventLoopGroup group;
    private final SslContext serverSsl;
    private final SslContext clientSsl;
    /** Whether peers' certificates must name their node ids (TLS with {@link TlsSettings#checkNodeIds()}). */
    private final boolean checkNodeIds;
    /** The node ids this member's certificate names (none without TLS). */
    private final CertifiedNodeIds ownIds;
    private final InboundDispatcher dispatcher;
    private final ConnectionGuard guard;
    private final ChannelGroup inboundChannels;
    private final AtomicInteger inboundCount = new AtomicInteger();
    private final OffLoopResolver resolver;
    private final Bootstrap clientBootstrap;
    private final Channel serverChannel;
    private final Map<String, PeerConnection> connections = new ConcurrentHashMap<>();
    /** The configured peers and each hosted group's member addresses (guarded by {@code this}). */
    private final PeerAddressBook addressBook;
    /** What {@link #addressBook} says, parsed, for the send path; written under {@code this}. */
    private final Map<String, HostPort> addresses = new ConcurrentHashMap<>();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;
    /** Stamped on every frame sent: tells this process from another started under the same node id. */
    private final long incarnation = newIncarnation();

    /** Most inbound connections served at once; more are refused (each may buffer one frame). */
    static final int MAX_INBOUND_CONNECTIONS = 1024;

    private NettyTransport(NettyTransportConfig config, OffLoopResolver.Lookup lookup) {
        this.config = config;
        this.addressBook = new PeerAddressBook(config.peers());
        config.peers().forEach((id, address) -> addresses.put(id, HostPort.parse(address)));
        String name = "raft transport of cluster " + config.clusterId();
        this.dispatcher = new InboundDispatcher(config.clusterId(), addresses.keySet());
        this.guard = new ConnectionGuard(name);
        String listen = config.listenHost() + ":" + config.listenPort();
        this.nativeTransport = config.preferNative() && Epoll.isAvailable();
        DefaultThreadFactory threads = new DefaultThreadFactory("raft-netty", true);
        this.group = nativeTransport ? new EpollEventLoopGroup(config.ioThreads(), threads)
                : new NioEventLoopGroup(config.ioThreads(), threads);
        this.resolver = new OffLoopResolver(lookup);
        try {
            this.serverSsl = config.tls() == null ? null : serverContext(config.tls());
            this.clientSsl = config.tls() == null ? null : clientContext(config.tls());
            this.checkNodeIds = config.tls() != null && config.tls().checkNodeIds();
            this.ownIds = config.tls() == null ? new CertifiedNodeIds(java.util.Set.of())
                    : TlsSelfCheck.verify(config.tls(), serverSsl, clientSsl);
            this.inboundChannels = new DefaultChannelGroup("raft-inbound", GlobalEventExecutor.INSTANCE);
            WriteBufferWaterMark waterMark = new WriteBufferWaterMark(
                    NettyTransportConfig.WRITE_BUFFER_HIGH_WATER_BYTES / 2,
                    NettyTransportConfig.WRITE_BUFFER_HIGH_WATER_BYTES);
            this.clientBootstrap = new Bootstrap().group(group)
                    .channel(nativeTransport ? EpollSocketChannel.class : NioSocketChannel.class)
                    .resolver(resolver)   // peer names are looked up off the event loops
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, config.connectTimeoutMillis())
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark);
            Class<? extends ServerChannel> serverClass =
                    nativeTransport ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
            this.serverChannel = new ServerBootstrap().group(group).channel(serverClass)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            initInbound(ch);
                        }
                    })
                    .bind(config.listenHost(), config.listenPort()).syncUninterruptibly().channel();
        } catch (Exception e) {
            // Also what Netty throws without declaring it, such as a checked bind error.
            resolver.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw new IllegalStateException("cannot start " + name + " on " + listen + ": " + e + rootCauseNote(e), e);
        }
        LOG.info("raft transport for cluster {} listening on {} ({}{})", config.clusterId(),
                serverChannel.localAddress(), nativeTransport ? "epoll" : "nio", clientSsl != null
                        ? ", mutual TLS" + (checkNodeIds ? ", certificate names " + ownIds.describe() : "") : "");
        if (config.tls() != null && !checkNodeIds) {
            // Opted out: said once, loudly, since nothing else shows what a member's certificate may do.
            LOG.warn("raft transport for cluster {}: TLS without the node-id check (TlsSettings.withoutNodeIdCheck()):"
                    + " any holder of a certificate from a trusted authority may send as any member. Issue member"
                    + " certificates naming their ids ({}<id>) and drop the opt-out", config.clusterId(),
                    CertifiedNodeIds.URI_PREFIX);
        }
    }

    /**
     * The innermost cause, where it is not {@code e}: what Netty wraps often says what is wrong
     * ("File does not contain valid private key" is a wrong password only in its third cause).
     */
    private static String rootCauseNote(Throwable e) {
        Throwable root = Causes.root(e);
        return root == e ? "" : " (" + root + ")";
    }

    /**
     * Starts a transport: binds its server socket (throwing {@link IllegalStateException} if that
     * fails) and returns at once; peers are dialled on first use.
     */
    public static NettyTransport start(NettyTransportConfig config) {
        return new NettyTransport(config, InetAddress::getAllByName);
    }

    /** As {@link #start(NettyTransportConfig)}, looking peers' host names up with {@code lookup} (tests). */
    static NettyTransport start(NettyTransportConfig config, OffLoopResolver.Lookup lookup) {
        return new NettyTransport(config, lookup);
    }

    private static SslContext serverContext(TlsSettings tls) throws SSLException {
        return SslContextBuilder.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile(),
                        tls.privateKeyPassword())
                .sslProvider(SslProvider.JDK)
                .trustManager(tls.trustedCertificates().toFile())
                .clientAuth(ClientAuth.REQUIRE)
                .build();
    }

    private static SslContext clientContext(TlsSettings tls) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .keyManager(tls.certificateChain().toFile(), tls.privateKey().toFile(), tls.privateKeyPassword())
                .trustManager(tls.trustedCertificates().toFile())
                .build();
    }

    private void initInbound(Channel ch) {
        if (closed) {
            ch.close();   // accepted while the server closes
            return;
        }
        if (inboundCount.incrementAndGet() > MAX_INBOUND_CONNECTIONS) {
            inboundCount.decrementAndGet();
            guard.refuse(ch, MAX_INBOUND_CONNECTIONS + " inbound connections open");
            return;
        }
        ch.closeFuture().addListener(f -> inboundCount.decrementAndGet());
        inboundChannels.add(ch);
        InboundIdleTimeout idle = new InboundIdleTimeout(config.inboundIdleTimeoutMillis());
        ch.pipeline().addLast("idle", idle);
        if (serverSsl != null) {
            ch.pipeline().addLast("tls", serverSsl.newHandler(ch.alloc()));
        }
        InboundHandler.addTo(ch.pipeline(), config.maxFrameBytes(), dispatcher, guard, idle::progressed, checkNodeIds);
    }

    /** The pipeline of a dialled connection to {@code peer}. */
    ChannelInitializer<Channel> clientInitializer(PeerConnection peer) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (clientSsl != null) {
                    HostPort a = peer.address();
                    ch.pipeline().addLast("tls", clientSsl.newHandler(ch.alloc(), a.host(), a.port()));
                }
                ch.pipeline().addLast("peer", peer.new ClientHandler(clientSsl != null));
            }
        };
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException also if this transport is closed: nothing could be sent or
     *                               delivered, and a node would run on unaware of it; and, with the
     *                               node-id check, if this member's certificate does not name
     *                               {@code localId}: every peer would refuse its frames
     */
    @Override
    public void register(String groupId, String localId, Inbound inbound) {
        refuseIfClosed(groupId, localId);
        problemWithLocalId(localId).ifPresent(problem -> {
            throw new IllegalStateException("cannot register " + localId + " in group " + groupId + ": " + problem);
        });
        dispatcher.register(groupId, localId, inbound);
        // Checked again after: a close that ran in between did not see this node, and told it nothing.
        if (closed) {
            dispatcher.unregister(groupId, localId);
            refuseIfClosed(groupId, localId);
        }
    }

    /**
     * What {@link #register} would refuse {@code localId} for, other than a closed transport or an
     * id registered already: with TLS and {@link TlsSettings#checkNodeIds()}, that this member's
     * certificate does not name it, so every peer would refuse its frames. Lets an application
     * check an id before it creates anything for the node.
     *
     * @return the problem, empty if this transport may run {@code localId}
     */
    public Optional<String> problemWithLocalId(String localId) {
        if (!checkNodeIds || ownIds.names(localId)) {
            return Optional.empty();
        }
        return Optional.of("this member's TLS certificate " + config.tls().certificateChain() + " names "
                + ownIds.describe() + ", not " + localId + ", so its peers would refuse every frame it sends. Issue it"
                + " a certificate that also names " + CertifiedNodeIds.uriFor(localId) + " (a URI subject alternative"
                + " name), or start this node under an id the certificate names");
    }

    private void refuseIfClosed(String groupId, String localId) {
        if (closed) {
            throw new IllegalStateException("cannot register " + localId + " in group " + groupId + ": the raft"
                    + " transport of cluster " + config.clusterId() + " is closed");
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>When the last local node of {@code groupId} unregisters, the addresses that group announced
     * are forgotten, and a peer no other hosted group nor the configuration names is disconnected
     * (as {@link #updatePeers} does): a process that hosts many groups over its life does not keep
     * every member it ever had. A node of that group registering again announces its members anew.
     */
    @Override
    public synchronized void unregister(String groupId, String localId) {
        if (!dispatcher.unregister(groupId, localId)) {
            apply(addressBook.retire(groupId));
        }
    }

    /**
     * Members are dialled at {@code host:port} ({@code [v6]:port} for IPv6 literals), and not at the
     * wildcard address ({@code 0.0.0.0}, {@code [::]}: where a node listens, never where others reach
     * it; every node would dial itself): any other address is refused, so a membership change cannot
     * add a member no one can dial.
     */
    @Override
    public Optional<String> problemWithAddress(String address) {
        return HostPort.problemAsPeerAddress(address);
    }

    /** {@code maxFrameBytes}: a larger message is dropped when sent and refused when received. */
    @Override
    public long maxMessageBytes() {
        return config.maxFrameBytes();
    }

    /**
     * One of this transport's I/O threads (chosen round-robin per node): the node's protocol logic
     * then runs where its frames are read and written. With one I/O thread (the default on two
     * cores) that is also the thread of every peer connection, so a message read from a socket is
     * stepped, and the answer queued for its socket, without waking any other thread.
     */
    @Override
    public io.raft4j.spi.EventLoop eventLoopFor(String groupId, String localId) {
        return new NettyEventLoop(group.next());
    }

    @Override
    public void send(RaftMessage message) {
        try {
            if (closed) {
                dropped.increment();
                return;
            }
            PeerConnection peer = connections.get(message.to());
            if (peer == null) {
                Inbound local = dispatcher.lookup(message.groupId(), message.to());
                if (local != null) {
                    local.receive(message);   // a node of this process: no network needed
                    return;
                }
                peer = connectionTo(message.to());
            }
            if (peer == null) {
                dropped.increment();
                reportUnreachable(message);
                return;
            }
            peer.send(message);
        } catch (RuntimeException e) {
            // The contract: never throw into the Raft loop. Nothing here should throw; if it does,
            // the message is lost like any other, and the log says why.
            dropped.increment();
            LOG.error("dropping message to {}: unexpected failure", message.to(), e);
        }
    }

    private PeerConnection connectionTo(String peerId) {
        PeerConnection peer = connections.get(peerId);
        if (peer != null) {
            return peer;
        }
        HostPort address = addresses.get(peerId);
        if (address == null) {
            return null;
        }
        PeerConnection created = connections.computeIfAbsent(peerId,
                id -> new PeerConnection(id, address, this, clientBootstrap, config));
        if (!created.address().equals(addresses.get(peerId))) {
            // updatePeers moved the peer while this connection was being created: drop it; the
            // next send creates one at the new address.
            if (connections.remove(peerId, created)) {
                created.close();
            }
            return null;
        }
        return created;
    }

    /**
     * Takes the addresses of {@code groupId}'s members. They override the configured peers (per
     * id); a peer whose address changed is redialled at the new one, and a peer no group nor the
     * configuration names any more is disconnected and its frames are refused from then on.
     */
    @Override
    public synchronized void updatePeers(String groupId, Map<String, String> peerAddresses) {
        Map<String, String> valid = new HashMap<>();
        peerAddresses.forEach((id, address) -> {
            if (address.isEmpty()) {
                return;   // none given: the configured peers say where that member is
            }
            try {
                HostPort.parse(address);
                valid.put(id, address);
            } catch (IllegalArgumentException e) {
                LOG.warn("group {}: ignoring address of {}: {}", groupId, id, e.getMessage());
            }
        });
        Set<String> changed = addressBook.announce(groupId, valid, (id, address, earlier) -> LOG.warn(
                "group {} gives {} the address {}, another group {}: using {}", groupId, id, address, earlier,
                address));
        apply(changed);
    }

    /**
     * Brings the addresses dialled and accepted up to date for {@code ids}, and disconnects those of
     * them that moved or are named no more. Only the ids given: the cost of an announcement is its
     * group's, not the process's.
     */
    private void apply(Set<String> ids) {
        for (String id : ids) {
            String address = addressBook.addressOf(id);
            HostPort now = address == null ? null : HostPort.parse(address);
            if (now == null) {
                addresses.remove(id);
            } else {
                addresses.put(id, now);
            }
            PeerConnection peer = connections.get(id);
            if (peer != null && !peer.address().equals(now) && connections.remove(id, peer)) {
                if (now != null) {
                    LOG.info("peer {} moved from {} to {}", id, peer.address(), now);
                } else {
                    LOG.info("peer {} at {} is no longer a member: disconnected", id, peer.address());
                }
                peer.close();
            }
        }
    }

    private static long newIncarnation() {
        java.security.SecureRandom random = new java.security.SecureRandom();
        long drawn;
        do {
            drawn = random.nextLong();
        } while (drawn == 0);   // 0 is "none" on the wire
        return drawn;
    }

    long incarnation() {
        return incarnation;
    }

    /** Logs a message the core handed over that is too large for one frame. */
    void tooLarge(RaftMessage message, int size) {
        LOG.warn("dropping {} to {}: {} bytes encoded, above maxFrameBytes {}", message.getClass().getSimpleName(),
                message.to(), size, config.maxFrameBytes());
    }

    /** Tells the sender of {@code message}, if it is registered here, that its peer is unreachable. */
    void reportUnreachable(RaftMessage message) {
        if (closed) {
            return;   // what a closing transport drops is not news to nodes that still send
        }
        try {
            // The lookup inside the try as well: a message that failed to encode may lack its ids,
            // and this runs in a drain, where an exception would cost the rest of the batch.
            Inbound sender = dispatcher.lookup(message.groupId(), message.from());
            if (sender != null) {
                sender.peerUnreachable(message.to());
            }
        } catch (RuntimeException e) {
            LOG.error("peerUnreachable of {} failed", message.from(), e);
        }
    }

    void countDrop() {
        dropped.increment();
    }

    NettyTransportConfig config() {
        return config;
    }

    /** Whether a dialled server's certificate must name the id dialled. */
    boolean checksNodeIds() {
        return checkNodeIds;
    }

    /** The address the server is bound to. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The port the server is bound to (the chosen one if the configuration said 0). */
    public int localPort() {
        return localAddress().getPort();
    }

    /** Whether native epoll is in use (otherwise NIO). */
    public boolean usesNativeTransport() {
        return nativeTransport;
    }

    /** Messages delivered to local nodes from the network so far. */
    public long deliveredMessages() {
        return dispatcher.delivered();
    }

    /**
     * Messages dropped on the way out so far (no address, not connected, queue full, too large, or
     * failed to encode).
     */
    public long droppedMessages() {
        return dropped.sum();
    }

    /**
     * Messages that arrived for a local node not registered at the time (one restarting, or before
     * any node registered here) and were dropped quietly: Raft sends again.
     */
    public long droppedOnArrival() {
        return dispatcher.droppedUnregistered();
    }

    /** Inbound connections closed so far because of what they sent. */
    public long rejectedConnections() {
        return guard.rejectedConnections();
    }

    /** Whether this transport has an address for {@code peerId} (configured, or from a hosted group). */
    boolean knowsPeer(String peerId) {
        return addresses.containsKey(peerId);
    }

    /** Group member addresses looked at by updatePeers and unregister so far (tests: the work they do). */
    synchronized long addressClaimsVisited() {
        return addressBook.claimsVisited();
    }

    /** The address dialled for {@code peerId}, {@code host:port}, or {@code null} (tests). */
    String addressOf(String peerId) {
        HostPort a = addresses.get(peerId);
        return a == null ? null : a.toString();
    }

    /** Groups with a local node registered here. */
    int hostedGroups() {
        return dispatcher.groups();
    }

    /** Whether the outbound connection to {@code peerId} is established. */
    public boolean isConnected(String peerId) {
        PeerConnection peer = connections.get(peerId);
        return peer != null && peer.isConnected();
    }

    /** Accepted connections currently open. */
    int inboundConnections() {
        return inboundCount.get();
    }

    /** Messages waiting in the queue to {@code peerId}. */
    int queuedMessages(String peerId) {
        PeerConnection peer = connections.get(peerId);
        return peer == null ? 0 : peer.queuedMessages();
    }

    /** The state of the connection to {@code peerId}, for diagnostics. */
    String describe(String peerId) {
        PeerConnection peer = connections.get(peerId);
        return peer == null ? peerId + ": no connection" : peer.describe();
    }

    /** Cuts every connection, dialled and accepted, as a network failure would (tests). */
    void cutConnections() {
        connections.values().forEach(PeerConnection::disconnect);
        inboundChannels.close();
    }

    /**
     * Stops the server, closes every connection and the event loops; queued messages are dropped.
     * Nodes still registered are unregistered and told ({@link Inbound#transportClosed()}): a
     * {@code RaftNode} then stops with a failure. Close the nodes first.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        tellRegisteredNodes();
        ChannelFuture server = serverChannel.close();
        connections.values().forEach(PeerConnection::close);
        connections.clear();
        resolver.close();
        ChannelGroupFuture inbound = inboundChannels.close();
        Future<?> loops = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        if (calledOnOwnLoop()) {
            // A node on a lent loop, or an Inbound callback, closing the process: waiting here for
            // the loops to end would wait for this very thread forever. They end once it returns.
            LOG.info("raft transport for cluster {} on {} closing from its own event loop", config.clusterId(),
                    serverChannel.localAddress());
            return;
        }
        server.syncUninterruptibly();
        inbound.syncUninterruptibly();
        loops.syncUninterruptibly();
        LOG.info("raft transport for cluster {} on {} closed", config.clusterId(), serverChannel.localAddress());
    }

    /**
     * Nodes still registered (closed after their transport, not before) are told, so they stop
     * with a failure that says why instead of standing still on an event loop that is gone.
     */
    private void tellRegisteredNodes() {
        for (Inbound inbound : dispatcher.unregisterAll()) {
            try {
                inbound.transportClosed();
            } catch (RuntimeException e) {
                LOG.error("telling a node that its transport closed failed", e);
            }
        }
    }

    private boolean calledOnOwnLoop() {
        for (EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                return true;
            }
        }
        return false;
    }
}

package io.raft4j.examples.kv.resp;

import io.netty.channel.Channel;
import io.netty.util.internal.PlatformDependent;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The node-wide bound on the memory clients' input holds (Redis's {@code maxmemory-clients}): the
 * buffers of requests partly received, and the arguments of requests decoded but not answered yet,
 * of all connections together. Each connection counts its own in a {@link ClientInputAccount}.
 *
 * <p>Per-connection limits alone did not bound this: each of up to {@code --max-clients}
 * connections may hold a request of up to {@code --max-request-bytes} half sent, and some fifty
 * connections each sending 15 MB of a 16 MB argument ran a node with {@code -Xmx512m} out of direct
 * memory, failing other clients' connections and the writes they forwarded.
 *
 * <p>When a connection's input would take the total above the limit, the connections holding the
 * most are evicted, biggest first, until it fits ({@link BiggestHoldersFirst}); if the connection
 * asking holds the most itself, it is refused instead. Refusing whoever asked last, as this node
 * first did, let a client that sent most of a large request and stalled keep its share for ever,
 * while every other client's large request was refused.
 *
 * <p>Connections forwarding from other nodes ({@code RAFT.FORWARDED}) are never evicted
 * ({@link ClientInputAccount#exemptFromEviction}), as Redis never evicts its replication links: each
 * carries many clients' writes, which its eviction would fail all at once. Their input counts all
 * the same; the connections evicted are the biggest of the others.
 *
 * <p>Thread-safe: connections on every event loop share one budget. Under the limit, taking and
 * giving back are atomic additions; the open accounts are looked through only to make room.
 */
public final class ClientInputBudget {
    private final long limitBytes;
    private final AtomicLong usedBytes = new AtomicLong();
    private final AtomicLong closedConnections = new AtomicLong();
    private final AtomicLong evictedConnections = new AtomicLong();
    private final AtomicLong accountsOpened = new AtomicLong();
    private final BiggestHoldersFirst eviction = new BiggestHoldersFirst(this);

    /** @param limitBytes most bytes all clients' input may hold together; 0 for no limit */
    public ClientInputBudget(long limitBytes) {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("client input limit: must be 0 (no limit) or positive, was " + limitBytes);
        }
        this.limitBytes = limitBytes;
    }

    /** A budget without a limit that still counts. */
    public static ClientInputBudget unlimited() {
        return new ClientInputBudget(0);
    }

    /**
     * A quarter of the memory clients' input is held in: received bytes wait in Netty's buffers,
     * direct memory where the allocator prefers it (the default), decoded arguments on the heap; the
     * smaller bounds both. The rest is left to Raft (its log cache and messages, snapshots), the
     * replies being written, and the slack of buffers that grow by copying.
     */
    public static long defaultLimit() {
        long heap = Runtime.getRuntime().maxMemory();
        long buffers = PlatformDependent.directBufferPreferred() ? PlatformDependent.maxDirectMemory() : heap;
        return Math.min(heap, buffers) / 4;
    }

    /**
     * Opens the account of a new connection. If the connection is evicted to make room for another's
     * input, its event loop is handed a {@link ClientInputEvicted} event through its pipeline, then
     * closes it.
     */
    public ClientInputAccount openAccount(Channel channel) {
        return openAccount(String.valueOf(channel.remoteAddress()), why -> ClientInputEvicted.closeOnItsLoop(channel, why));
    }

    /**
     * Opens the account of a connection named {@code client} (in the log); {@code evict} closes it
     * when it is evicted, given its {@code -ERR} reason. It is called once, on whichever thread made
     * room, so it must hand the close to the connection's own thread.
     */
    ClientInputAccount openAccount(String client, Consumer<String> evict) {
        ClientInputAccount account = new ClientInputAccount(this, client, accountsOpened.incrementAndGet(), evict);
        eviction.opened(account);
        return account;
    }

    /** Opens the account of a connection that is never evicted, for a decoder alone (tests, an unlimited budget). */
    ClientInputAccount openAccount() {
        return openAccount("a connection", why -> {
        });
    }

    /** The limit; 0 for none. */
    public long limitBytes() {
        return limitBytes;
    }

    /** Bytes all open connections' input holds now. */
    public long usedBytes() {
        return usedBytes.get();
    }

    /**
     * Connections closed so far for the limit: refused, as their own input would have gone over it
     * while they held the most, or evicted ({@link #evictedConnections}). Each counted once.
     */
    public long closedConnections() {
        return closedConnections.get();
    }

    /** Of {@link #closedConnections}, those evicted, holding the most, to make room for another's input. */
    public long evictedConnections() {
        return evictedConnections.get();
    }

    /** Takes {@code bytes} if they fit under the limit; otherwise takes nothing. */
    boolean tryTake(long bytes) {
        while (true) {
            long used = usedBytes.get();
            if (limitBytes > 0 && used + bytes > limitBytes) {
                return false;
            }
            if (usedBytes.compareAndSet(used, used + bytes)) {
                return true;
            }
        }
    }

    /** Whether {@code bytes} more fit under the limit now. */
    boolean fits(long bytes) {
        return limitBytes == 0 || usedBytes.get() + bytes <= limitBytes;
    }

    /**
     * Adds {@code delta} (negative to give back) whatever the limit, as memory already held is
     * counted; false if the total is then over the limit.
     */
    boolean add(long delta) {
        long used = usedBytes.addAndGet(delta);
        return limitBytes == 0 || used <= limitBytes;
    }

    /**
     * {@code bytes} more of {@code asker}'s input do not fit: evicts the connection holding the most
     * of those that may be evicted (not exempt), if it holds more than the asker would. True if they
     * may fit now (try again); false if no other such connection holds more than the asker would,
     * which is then to be refused itself.
     */
    boolean makeRoom(ClientInputAccount asker, long bytes) {
        return eviction.makeRoom(asker, bytes);
    }

    /** {@code account} closed, or was evicted, holding {@code heldBytes}: they are given back. */
    void closed(ClientInputAccount account, long heldBytes) {
        add(-heldBytes);
        eviction.forget(account);
    }

    void refused() {
        closedConnections.incrementAndGet();
    }

    void evicted() {
        closedConnections.incrementAndGet();
        evictedConnections.incrementAndGet();
    }

    /** Why a connection was refused, for its {@code -ERR} reply. */
    String refusal() {
        return "client input over --max-client-input-bytes: this connection's unfinished request would take the"
                + " memory held by all clients' requests above " + limitBytes + " bytes, and no other connection that"
                + " may be evicted holds more than it; connection closed, nothing of that request was done. Send it"
                + " again later";
    }

    /** Why a connection holding {@code heldBytes} was evicted, for its {@code -ERR} reply. */
    String eviction(long heldBytes) {
        return "client input over --max-client-input-bytes: this connection held the most memory of the clients'"
                + " requests that may be evicted (" + heldBytes + " bytes) when another's input needed room under "
                + limitBytes + " bytes; connection closed, nothing of its unfinished request was done. Send it again"
                + " later";
    }
}

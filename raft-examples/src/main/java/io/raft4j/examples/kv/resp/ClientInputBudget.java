package io.raft4j.examples.kv.resp;

import io.netty.util.internal.PlatformDependent;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The node-wide bound on the memory clients' input holds (Redis's {@code maxmemory-clients}): the
 * buffers of requests partly received, and the arguments of requests decoded but not answered yet,
 * of all connections together. Each connection counts its own in a {@link ClientInputAccount}.
 *
 * <p>Per-connection limits alone did not bound this: each of up to {@code --max-clients}
 * connections may hold a request of up to {@code --max-request-bytes} half sent, and some fifty
 * connections each sending 15 MB of a 16 MB argument ran a node with {@code -Xmx512m} out of direct
 * memory, failing other clients' connections and the writes they forwarded. A connection whose
 * input would take the total above the limit is refused instead, alone.
 *
 * <p>Thread-safe: connections on every event loop share one budget.
 */
public final class ClientInputBudget {
    private final long limitBytes;
    private final AtomicLong usedBytes = new AtomicLong();
    private final AtomicLong closedConnections = new AtomicLong();

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

    /** Opens the account of a new connection. */
    public ClientInputAccount openAccount() {
        return new ClientInputAccount(this);
    }

    /** The limit; 0 for none. */
    public long limitBytes() {
        return limitBytes;
    }

    /** Bytes all open connections' input holds now. */
    public long usedBytes() {
        return usedBytes.get();
    }

    /** Connections closed so far because their input would have gone over the limit. */
    public long closedConnections() {
        return closedConnections.get();
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

    /**
     * Adds {@code delta} (negative to give back) whatever the limit, as memory already held is
     * counted; false if the total is then over the limit.
     */
    boolean add(long delta) {
        long used = usedBytes.addAndGet(delta);
        return limitBytes == 0 || used <= limitBytes;
    }

    void connectionClosedForTheLimit() {
        closedConnections.incrementAndGet();
    }

    /** Why a connection was refused, for its {@code -ERR} reply. */
    String refusal() {
        return "client input over --max-client-input-bytes: this connection's unfinished request would take the"
                + " memory held by all clients' requests above " + limitBytes + " bytes; connection closed, nothing of"
                + " that request was done. Send it again later";
    }
}

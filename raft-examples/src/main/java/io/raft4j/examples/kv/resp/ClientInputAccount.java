package io.raft4j.examples.kv.resp;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What one connection's input holds, counted in the node's {@link ClientInputBudget}: the bytes its
 * decoder buffers (a request partly received), set by {@link RespRequestDecoder}, and the arguments
 * of its requests decoded but not answered yet ("owed"), added and paid off by the connection.
 *
 * <p>Changed on the connection's event loop only; but another connection's loop may evict it, taking
 * back at once all it counts ({@link #giveBack}), so what it counts in the budget is one atomic
 * figure that either side closes exactly once. The owner changes the budget's total before its
 * account when it grows and after when it shrinks, and the eviction closes the account before it
 * gives the bytes back: the total is never less than the open accounts hold, so no race can take it
 * below 0, and none can give bytes back twice (a leak either way would shut all clients out over
 * time, or lift the bound). Changes after the close touch only this account, never the budget.
 *
 * <p>A connection another node forwards its clients' commands over ({@code RAFT.FORWARDED}) is
 * {@link #exemptFromEviction exempt from eviction}, as Redis never evicts its master and replica
 * links: it multiplexes many clients, so it is typically the biggest holder, and evicting it would
 * fail all the writes it carries at once ({@code -UNCERTAIN} on the follower). Its input still
 * counts, so the bound holds: when it does not fit, it evicts others or is refused like any.
 */
public final class ClientInputAccount {
    /**
     * {@link #counted} once the account is closed: what it held was given back. Far enough below 0
     * that the changes the owner still adds after the close (each at most a request or a buffer, by
     * atomic addition, not to pay for a compare-and-set loop) can never bring it back to 0 or overflow.
     */
    private static final long CLOSED = Long.MIN_VALUE / 2;

    /** {@link #evictionState}: may be evicted. */
    private static final int EVICTABLE = 0;
    /** {@link #evictionState}: never evicted, a connection forwarding from another node; may still be refused. */
    private static final int EXEMPT = 1;
    /** {@link #evictionState}: refused or evicted for the limit, once; never chosen for an eviction again. */
    private static final int CLOSED_FOR_THE_LIMIT = 2;

    /**
     * What a decoded argument takes in the heap beyond its bytes: the array's header, its padding
     * and the reference to it, rounded up.
     */
    private static final int ARGUMENT_OVERHEAD = 24;

    private final ClientInputBudget budget;
    /** Names the connection in the log; its remote address. */
    private final String client;
    /** Orders accounts opened one after another, to break ties between equal holders. */
    private final long openedAs;
    private final Consumer<String> evict;
    /** Bytes counted in the budget; negative (CLOSED and what was added since) once closed. Any thread. */
    private final AtomicLong counted = new AtomicLong();
    /**
     * {@link #EVICTABLE}, {@link #EXEMPT} or {@link #CLOSED_FOR_THE_LIMIT}. One atomic state, not two
     * flags: the exemption is set on the connection's own event loop while another loop may be
     * choosing it for an eviction, and only one of the two may win (an exemption announced after an
     * eviction began comes too late; one announced before is never overridden).
     */
    private final AtomicInteger evictionState = new AtomicInteger(EVICTABLE);
    private long bufferedBytes;
    private long owedBytes;

    ClientInputAccount(ClientInputBudget budget, String client, long openedAs, Consumer<String> evict) {
        this.budget = budget;
        this.client = client;
        this.openedAs = openedAs;
        this.evict = evict;
    }

    /**
     * What a command owed a reply holds beyond its arguments, as its connection counts it: its slot
     * in the connection's queue, the list of its arguments, the objects that parse and run it (a
     * write's future, its retry timer, its entry in the leader's bookkeeping) and its reply once
     * ready, some hundreds of bytes of heap, rounded up. Counted by their arguments alone, tiny
     * commands counted a tenth of what they held, and clients pipelining them without reading held
     * gigabytes while the budget saw a few hundred megabytes.
     */
    public static final int COMMAND_OVERHEAD = 512;

    /**
     * What a decoded argument of {@code length} bytes holds, as its connection counts it: its bytes
     * and what an array takes beyond them. Counted by their bytes alone, empty arguments counted
     * nothing: a pipeline of commands with a million of them each, some 24 MB of heap a command,
     * was read on as if it held nothing.
     */
    public static long argumentBytes(int length) {
        return (long) length + ARGUMENT_OVERHEAD;
    }

    /**
     * Takes {@code bytes} more for the decoder's buffers ahead of a read. If they do not fit in the
     * budget, the connections holding more than this one would are evicted, biggest first, until they
     * do; false (taking nothing) if they still do not, and this connection must be refused before its
     * buffer grows. True without counting anything once the account is closed.
     */
    boolean reserveBuffered(long bytes) {
        if (bytes <= 0 || isClosed()) {
            return true;
        }
        if (!takeEvictingBiggerHolders(bytes)) {
            // Evicted meanwhile by another connection's input: not refused as well, its eviction closes it.
            return isClosed();
        }
        if (addUnlessClosed(bytes)) {
            bufferedBytes += bytes;
        } else {
            budget.add(-bytes);
        }
        return true;
    }

    /**
     * Records that the decoder's buffers hold exactly {@code bytes} now, whatever the limit, as the
     * memory is held already. If they grew and the total is over the limit (Netty grows a buffer by
     * more than the read it takes, beyond what {@link #reserveBuffered} could know), the connections
     * holding more than this one are evicted, biggest first, until it is not; false if it still is,
     * and this connection must be refused.
     */
    boolean settleBuffered(long bytes) {
        long delta = bytes - bufferedBytes;
        bufferedBytes = bytes;
        return count(delta) || takeEvictingBiggerHolders(0) || isClosed();
    }

    /**
     * {@code bytes} of arguments counted as buffered at the last {@link #settleBuffered} leave the
     * decoder, in a request decoded whole, before the connection {@link #owe owes} them.
     */
    void unbuffer(long bytes) {
        bufferedBytes -= bytes;
        count(-bytes);
    }

    /** A decoded request of {@code bytes} of arguments waits for its reply. */
    public void owe(long bytes) {
        owedBytes += bytes;
        count(bytes);
    }

    /** A reply was written for a request of {@code bytes} of arguments. */
    public void paid(long bytes) {
        owedBytes -= bytes;
        count(-bytes);
    }

    /** Arguments of the requests decoded and not answered yet. */
    public long owedBytes() {
        return owedBytes;
    }

    /** Everything this connection holds in the budget now; 0 once closed. Any thread. */
    public long heldBytes() {
        return Math.max(0, counted.get());
    }

    /** Whether what this account held was given back: its connection closed, or is evicted. Any thread. */
    public boolean isClosed() {
        return counted.get() < 0;
    }

    /**
     * Counts this connection as closed for the limit, if it was not already (evicted meanwhile), and
     * says why.
     */
    String refuse() {
        if (evictionState.getAndSet(CLOSED_FOR_THE_LIMIT) != CLOSED_FOR_THE_LIMIT) {
            budget.refused();
        }
        return budget.refusal();
    }

    /**
     * This connection forwards another node's clients' commands ({@code RAFT.FORWARDED}): it is never
     * chosen for an eviction from now on. Its input still counts in the budget, and when its own does
     * not fit it still evicts connections holding more than it would, or is refused. Without effect
     * if it is closed for the limit already (an eviction that began first goes on). Any thread; its
     * own event loop in practice.
     *
     * @return whether it is exempt now; false if it was closed for the limit first
     */
    public boolean exemptFromEviction() {
        return evictionState.compareAndSet(EVICTABLE, EXEMPT) || evictionState.get() == EXEMPT;
    }

    /**
     * A new account, in the same budget, for what this connection's evicted commands still hold:
     * the arguments of those already running, which go on after the eviction (a write retried while
     * no leader is known, one forwarded to a slow leader) and which the eviction therefore cannot
     * free, though it counted them out with the rest. Exempt from eviction, as evicting it would
     * free nothing either. The connection counts them there ({@link #owe}, {@link #paid}) and
     * closes it once they have finished. On the connection's event loop.
     */
    public ClientInputAccount successor() {
        ClientInputAccount next = budget.openAccount(client + " (evicted; its commands still running)", why -> {
        });
        next.exemptFromEviction();
        return next;
    }

    /** The connection closed and nothing runs on its behalf any more: gives back all it held. Idempotent. */
    public void close() {
        giveBack();
    }

    /**
     * Adds {@code delta} bytes (negative to give back) to this account and the budget, unless closed;
     * false if it grew and the total is over the limit.
     */
    private boolean count(long delta) {
        if (delta == 0 || isClosed()) {
            return true;
        }
        if (delta > 0) {
            boolean withinLimit = budget.add(delta);
            if (!addUnlessClosed(delta)) {
                budget.add(-delta);
                return true;
            }
            return withinLimit;
        }
        if (addUnlessClosed(delta)) {
            budget.add(delta);
        }
        return true;
    }

    /**
     * Takes {@code bytes} (0: only checks the total is within the limit), evicting the connections
     * that hold more than this one would, biggest first, while they do not fit; false if they still do
     * not, or if this account was evicted meanwhile, having taken nothing.
     */
    private boolean takeEvictingBiggerHolders(long bytes) {
        while (!budget.tryTake(bytes)) {
            if (isClosed() || !budget.makeRoom(this, bytes)) {
                return false;
            }
        }
        return true;
    }

    /** Adds {@code delta} to what this account counts; false if it is closed (and what it counts does not matter). */
    private boolean addUnlessClosed(long delta) {
        return counted.getAndAdd(delta) >= 0;
    }

    /**
     * Closes the account and gives all it counted back to the budget; -1 if it was closed already.
     * Any thread: the owner's close, or an eviction.
     */
    long giveBack() {
        long held = counted.getAndSet(CLOSED);
        if (held < 0) {
            return -1;
        }
        budget.closed(this, held);
        return held;
    }

    /**
     * Marks this connection as closed for the limit, to be evicted; false if it may not be: refused
     * by its own loop, or evicted by another connection's input, already; or exempt, which it may
     * have become since it was chosen.
     */
    boolean markForEviction() {
        return evictionState.compareAndSet(EVICTABLE, CLOSED_FOR_THE_LIMIT);
    }

    /** Whether this connection may be chosen for an eviction: neither exempt nor closed for the limit already. */
    boolean evictable() {
        return evictionState.get() == EVICTABLE;
    }

    /** Hands the close of this connection, evicted, to its own thread; {@code why} is its {@code -ERR} reason. */
    void evict(String why) {
        evict.accept(why);
    }

    String client() {
        return client;
    }

    long openedAs() {
        return openedAs;
    }
}

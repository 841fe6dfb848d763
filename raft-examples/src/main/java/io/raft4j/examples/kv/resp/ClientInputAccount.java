package io.raft4j.examples.kv.resp;

/**
 * What one connection's input holds, counted in the node's {@link ClientInputBudget}: the bytes its
 * decoder buffers (a request partly received), set by {@link RespRequestDecoder}, and the arguments
 * of its requests decoded but not answered yet ("owed"), added and paid off by the connection.
 *
 * <p>Used on the connection's event loop only. {@link #close} gives everything counted back at once
 * when the connection closes; changes after that touch only this account, never the budget, so a
 * reply completing after the close cannot give back twice (a leak either way would shut all
 * clients out over time).
 */
public final class ClientInputAccount {
    private final ClientInputBudget budget;
    private long bufferedBytes;
    private long owedBytes;
    private boolean closed;

    ClientInputAccount(ClientInputBudget budget) {
        this.budget = budget;
    }

    /**
     * Takes {@code bytes} more for the decoder's buffers ahead of a read, if they fit in the budget:
     * false (taking nothing) if they do not, and the connection must be refused before its buffer
     * grows.
     */
    boolean reserveBuffered(long bytes) {
        if (bytes <= 0 || closed) {
            return true;
        }
        if (!budget.tryTake(bytes)) {
            return false;
        }
        bufferedBytes += bytes;
        return true;
    }

    /**
     * Records that the decoder's buffers hold exactly {@code bytes} now. False if they grew and the
     * total is over the limit: Netty grows a buffer by more than the read it takes, beyond what
     * {@link #reserveBuffered} could know.
     */
    boolean settleBuffered(long bytes) {
        long delta = bytes - bufferedBytes;
        bufferedBytes = bytes;
        if (closed || delta == 0) {
            return true;
        }
        return budget.add(delta) || delta < 0;
    }

    /** A decoded request of {@code bytes} of arguments waits for its reply. */
    public void owe(long bytes) {
        owedBytes += bytes;
        if (!closed) {
            budget.add(bytes);
        }
    }

    /** A reply was written for a request of {@code bytes} of arguments. */
    public void paid(long bytes) {
        owedBytes -= bytes;
        if (!closed) {
            budget.add(-bytes);
        }
    }

    /** Arguments of the requests decoded and not answered yet. */
    public long owedBytes() {
        return owedBytes;
    }

    /** Everything this connection holds in the budget now. */
    public long heldBytes() {
        return closed ? 0 : bufferedBytes + owedBytes;
    }

    /** Counts this connection as closed for the limit, and says why. */
    String refuse() {
        budget.connectionClosedForTheLimit();
        return budget.refusal();
    }

    /** The connection closed: gives back all it held. Idempotent. */
    public void close() {
        if (!closed) {
            closed = true;
            budget.add(-(bufferedBytes + owedBytes));
        }
    }
}

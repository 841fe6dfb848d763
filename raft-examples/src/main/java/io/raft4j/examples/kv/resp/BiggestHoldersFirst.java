package io.raft4j.examples.kv.resp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a {@link ClientInputBudget} makes room, as Redis's {@code maxmemory-clients} does: by
 * evicting the connection that holds the most client input, one at a time, while the input asking
 * does not fit; never one holding no more than the connection asking would (ties keep the others:
 * that one is refused instead, as it was before evictions).
 *
 * <p>Knows every open account, and looks through them only when input does not fit, so the common
 * path, under the limit, stays an atomic addition. Evictions run one at a time: two event loops
 * short of room at once would otherwise both choose the same biggest holder, or both evict one
 * where one eviction made room for both. An evicted account gives its bytes back at once, so the
 * connection asking may go on; its own event loop closes the connection, freeing that memory,
 * moments later.
 */
final class BiggestHoldersFirst {
    private static final Logger LOG = LoggerFactory.getLogger(BiggestHoldersFirst.class);

    private final ClientInputBudget budget;
    private final Set<ClientInputAccount> open = ConcurrentHashMap.newKeySet();

    BiggestHoldersFirst(ClientInputBudget budget) {
        this.budget = budget;
    }

    void opened(ClientInputAccount account) {
        open.add(account);
    }

    void forget(ClientInputAccount account) {
        open.remove(account);
    }

    /**
     * {@code bytes} more of {@code asker}'s input do not fit: true if they fit now, another eviction
     * having made room meanwhile, or once the connection holding the most, more than the asker would,
     * is evicted; false if no other connection holds more than the asker would.
     */
    synchronized boolean makeRoom(ClientInputAccount asker, long bytes) {
        if (budget.fits(bytes)) {
            return true;
        }
        long askerWouldHold = asker.heldBytes() + bytes;
        ClientInputAccount biggest = null;
        long biggestHeld = askerWouldHold;
        for (ClientInputAccount a : open) {
            if (a == asker || a.closedForTheLimit()) {
                continue;
            }
            long held = a.heldBytes();
            // Equal holders: the one opened last goes, so which goes does not depend on the set's order.
            if (held > biggestHeld || (biggest != null && held == biggestHeld && a.openedAs() > biggest.openedAs())) {
                biggest = a;
                biggestHeld = held;
            }
        }
        if (biggest == null) {
            return false;
        }
        evict(biggest, asker, bytes);
        return true;
    }

    private void evict(ClientInputAccount victim, ClientInputAccount asker, long bytes) {
        if (!victim.markForEviction()) {
            return; // refused by its own event loop meanwhile: closing already, and not to be chosen again
        }
        long total = budget.usedBytes() + bytes;
        long held = victim.giveBack();
        if (held < 0) {
            return; // closed meanwhile: what it held is back
        }
        budget.evicted();
        LOG.warn("client {}: evicted, holding {} bytes of clients' input, the most of any connection: client {}'s input"
                        + " (holding {} bytes, asking {} more) took the total ({} bytes) over --max-client-input-bytes {}",
                victim.client(), held, asker.client(), asker.heldBytes(), bytes, total, budget.limitBytes());
        victim.evict(budget.eviction(held));
    }
}

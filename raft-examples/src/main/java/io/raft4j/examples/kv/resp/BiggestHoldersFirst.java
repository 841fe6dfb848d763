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
 * <p>Connections forwarding from other nodes ({@link ClientInputAccount#exemptFromEviction}) are
 * never chosen, as Redis never evicts its replication links: the victim is the biggest
 * <em>evictable</em> holder, and if none holds more than the asker would, the asker is refused,
 * even when an exempt connection holds more. Each multiplexes many clients' writes, and evicting one
 * would fail them all at once; the asker refused is one client, which may send again.
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
     * is evicted; false if no other connection that may be evicted holds more than the asker would.
     * The asker may be exempt itself: it then evicts others as any connection does.
     */
    synchronized boolean makeRoom(ClientInputAccount asker, long bytes) {
        if (budget.fits(bytes)) {
            return true;
        }
        long askerWouldHold = asker.heldBytes() + bytes;
        ClientInputAccount biggest = null;
        long biggestHeld = askerWouldHold;
        for (ClientInputAccount a : open) {
            // Exempt connections are skipped, not only closed ones: the next evictable holder is chosen.
            if (a == asker || !a.evictable()) {
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
            // Refused by its own event loop meanwhile (closing already), or exempted since it was
            // chosen: not to be chosen again; the caller tries again, and the next holder is looked for.
            return;
        }
        long total = budget.usedBytes() + bytes;
        long held = victim.giveBack();
        if (held < 0) {
            return; // closed meanwhile: what it held is back
        }
        budget.evicted();
        LOG.warn("client {}: evicted, holding {} bytes of clients' input, the most of any evictable connection:"
                        + " client {}'s input (holding {} bytes, asking {} more) took the total ({} bytes) over"
                        + " --max-client-input-bytes {}",
                victim.client(), held, asker.client(), asker.heldBytes(), bytes, total, budget.limitBytes());
        victim.evict(budget.eviction(held));
    }
}

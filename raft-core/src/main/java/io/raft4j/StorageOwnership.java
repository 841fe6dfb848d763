package io.raft4j;

import io.raft4j.spi.LogOwner;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Ties a log storage to the one node that may use it. A node started on another node's log (a
 * data directory copied or mounted at the wrong node) would take over that node's term and vote
 * and forget its own: it could vote twice in one term and elect two leaders. A store records its
 * owner once a node has been built on it; afterwards only that node may use it.
 */
final class StorageOwnership {
    private static final Logger LOG = LoggerFactory.getLogger(StorageOwnership.class);

    private StorageOwnership() {
    }

    /**
     * Checks, reading only, that {@code storage} is {@code self}'s or no one's.
     *
     * @return whether it records no owner yet (then {@link #record} once the node is built)
     * @throws StorageException if it belongs to another node or group
     */
    static boolean check(LogStorage storage, LogOwner self) {
        Optional<LogOwner> recorded = storage.owner();
        if (recorded.isPresent() && !recorded.get().equals(self)) {
            throw new StorageException("the log storage given to " + self + " belongs to " + recorded.get()
                    + ": each node needs its own storage, since its term, vote and log are its own"
                    + " (was a data directory copied or mounted at the wrong node?); refusing to start");
        }
        return recorded.isEmpty();
    }

    /** Records {@code self} as the owner of a store that had none, once a node was built on it. */
    static void record(LogStorage storage, LogOwner self) {
        if (storage.lastIndex() > 0 || storage.hardState().term() > 0) {
            // Written before owners were recorded: it cannot be checked, only claimed from now on.
            LOG.info("{}: its log storage records no owner; recording this node as its owner", self.nodeId());
        }
        storage.recordOwner(self);
    }
}

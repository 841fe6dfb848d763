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
 * owner the first time a node starts on it; afterwards only that node may.
 */
final class StorageOwnership {
    private static final Logger LOG = LoggerFactory.getLogger(StorageOwnership.class);

    private StorageOwnership() {
    }

    /**
     * Records {@code groupId}/{@code nodeId} as the owner of a store that has none, or checks that
     * it is the recorded one.
     *
     * @throws StorageException if the store belongs to another node or group
     */
    static void claim(LogStorage storage, String groupId, String nodeId) {
        LogOwner self = new LogOwner(groupId, nodeId);
        Optional<LogOwner> recorded = storage.owner();
        if (recorded.isEmpty()) {
            if (storage.lastIndex() > 0 || storage.hardState().term() > 0) {
                // Written before owners were recorded: it cannot be checked, only claimed from now on.
                LOG.info("{}: its log storage records no owner; recording this node as its owner", nodeId);
            }
            storage.recordOwner(self);
        } else if (!recorded.get().equals(self)) {
            throw new StorageException("the log storage given to " + self + " belongs to " + recorded.get()
                    + ": each node needs its own storage, since its term, vote and log are its own"
                    + " (was a data directory copied or mounted at the wrong node?); refusing to start");
        }
    }
}

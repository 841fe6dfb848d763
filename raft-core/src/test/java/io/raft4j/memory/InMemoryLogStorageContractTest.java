package io.raft4j.memory;

import io.raft4j.spi.LogStorage;
import io.raft4j.spi.LogStorageContractTest;

/** The {@link LogStorage} contract on {@link InMemoryLogStorage}; "reopen" hands back the same object. */
class InMemoryLogStorageContractTest extends LogStorageContractTest {

    @Override
    protected LogStorage open() {
        return new InMemoryLogStorage();
    }

    @Override
    protected LogStorage reopen(LogStorage storage) {
        storage.close();
        return ((InMemoryLogStorage) storage).reopen();
    }
}

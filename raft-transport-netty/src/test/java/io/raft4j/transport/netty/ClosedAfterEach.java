package io.raft4j.transport.netty;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test started (transports, servers, logs), closed newest first once the test ends, whatever
 * its outcome: {@code @RegisterExtension final ClosedAfterEach toClose = new ClosedAfterEach();}.
 */
final class ClosedAfterEach implements AfterEachCallback {
    private final List<AutoCloseable> started = new ArrayList<>();

    /** Closes {@code resource} after the test; returns it. */
    <T extends AutoCloseable> T add(T resource) {
        started.add(resource);
        return resource;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
        started.clear();
    }
}

package io.raft4j;

import io.raft4j.message.RaftMessage;
import io.raft4j.spi.EventLoop;
import io.raft4j.spi.Transport;

import java.util.Map;
import java.util.Optional;

/** Forwards every call to another transport (its defaults too); a test overrides what it breaks or watches. */
class ForwardingTransport implements Transport {
    final Transport delegate;

    ForwardingTransport(Transport delegate) {
        this.delegate = delegate;
    }

    @Override public void register(String g, String id, Inbound in) { delegate.register(g, id, in); }
    @Override public void unregister(String g, String id) { delegate.unregister(g, id); }
    @Override public void send(RaftMessage m) { delegate.send(m); }
    @Override public void updatePeers(String g, Map<String, String> a) { delegate.updatePeers(g, a); }
    @Override public Optional<String> problemWithAddress(String a) { return delegate.problemWithAddress(a); }
    @Override public long maxMessageBytes() { return delegate.maxMessageBytes(); }
    @Override public EventLoop eventLoopFor(String g, String id) { return delegate.eventLoopFor(g, id); }
}

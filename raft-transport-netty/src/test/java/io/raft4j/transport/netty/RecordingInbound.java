package io.raft4j.transport.netty;

import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An inbound that queues what it receives and the peers reported unreachable. */
final class RecordingInbound implements Transport.Inbound {
    final BlockingQueue<RaftMessage> received = new LinkedBlockingQueue<>();
    final BlockingQueue<String> unreachable = new LinkedBlockingQueue<>();

    @Override
    public void receive(RaftMessage message) {
        received.add(message);
    }

    @Override
    public void peerUnreachable(String peerId) {
        unreachable.add(peerId);
    }

    /** The next message, waiting up to {@code timeout}; fails the test if none arrives. */
    RaftMessage next(Duration timeout) throws InterruptedException {
        RaftMessage m = received.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (m == null) {
            throw new AssertionError("no message within " + timeout);
        }
        return m;
    }

    /** The next peer reported unreachable, waiting up to {@code timeout}. */
    String nextUnreachable(Duration timeout) throws InterruptedException {
        String peer = unreachable.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (peer == null) {
            throw new AssertionError("no peerUnreachable within " + timeout);
        }
        return peer;
    }
}

package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A state machine that is not idempotent on purpose: a command is a number to add, its result the
 * new total, so applying a command twice shows in the count and in later results.
 */
public final class AddingCounter implements StateMachine<String> {
    private volatile long count;

    public long count() {
        return count;
    }

    @Override
    public String apply(long index, Bytes command) {
        count += Long.parseLong(command.toUtf8());
        return Long.toString(count);
    }

    @Override
    public String query(Bytes query) {
        return Long.toString(count);
    }

    @Override
    public Snapshot snapshot() {
        long frozen = count;
        return out -> new DataOutputStream(out).writeLong(frozen);
    }

    @Override
    public void restore(InputStream in) throws IOException {
        count = new DataInputStream(in).readLong();
    }
}

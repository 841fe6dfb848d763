package io.raft4j.session;

import io.raft4j.message.Bytes;

import java.util.Objects;
import java.util.TreeSet;
import java.util.UUID;

/**
 * A client's side of a session: numbers its commands for a {@link SessionStateMachine}, which
 * applies each number at most once.
 *
 * <p>Propose {@link Command#bytes()} and, whatever happens (an {@code IndeterminateException}, a
 * timeout, a new leader), retry with <em>the same bytes</em> until a result comes back; then call
 * {@link #finished}. Commands may be outstanding concurrently (from several threads). Each result
 * stays in every replica's memory until the session's later commands tell it the command is
 * finished, so call {@link #finished} for every command, also for one you give up on.
 *
 * <p>Thread-safe. A session lives as long as its client process: a restarted client starts a new
 * one (its old one ages out of the state machine).
 */
public final class ClientSession {
    private final UUID id;
    private long lastSequence;
    /** Numbers handed out and not yet finished; its first is what the state machine may keep back to. */
    private final TreeSet<Long> unfinished = new TreeSet<>();

    /** A command of a session: propose {@link #bytes()}, and the same bytes again on every retry. */
    public record Command(UUID session, long sequence, Bytes bytes) {
    }

    /** A session with {@code id}, which must be unique among all clients of the group. */
    public ClientSession(UUID id) {
        this.id = Objects.requireNonNull(id, "id");
    }

    /** A session with a random id. */
    public static ClientSession create() {
        return new ClientSession(UUID.randomUUID());
    }

    public UUID id() {
        return id;
    }

    /** Numbers {@code payload} as this session's next command. */
    public synchronized Command command(Bytes payload) {
        Objects.requireNonNull(payload, "payload");
        long sequence = ++lastSequence;
        unfinished.add(sequence);
        return new Command(id, sequence, SessionFrame.session(id, sequence, unfinished.first(), payload));
    }

    /**
     * Declares {@code command} done: its result arrived, or the caller gave up on it. The state
     * machine forgets its result once a later command of this session carries the news.
     */
    public synchronized void finished(Command command) {
        if (!command.session().equals(id)) {
            throw new IllegalArgumentException("command " + command.sequence() + " belongs to session "
                    + command.session() + ", not " + id);
        }
        unfinished.remove(command.sequence());
    }
}

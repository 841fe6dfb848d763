package io.raft4j.session;

import io.raft4j.message.Bytes;

import java.util.Objects;
import java.util.TreeSet;

/**
 * A client's side of a session: numbers its commands for a {@link SessionStateMachine}, which
 * applies each number at most once.
 *
 * <p>A session starts with a registration: propose {@link #registration()} (retrying as often as
 * needed) and build the session from the {@link SessionResult.Status#REGISTERED} answer with
 * {@link #registered}. Its id is the log index of that registration, so no two sessions ever share
 * one. Then, for each command, propose {@link Command#bytes()} and, whatever happens (an
 * {@code IndeterminateException}, a timeout, a new leader), retry with <em>the same bytes</em> until
 * a result comes back; then call {@link #finished}.
 *
 * <p>Commands may be outstanding concurrently (from several threads). Every replica keeps each
 * result from the session's lowest unfinished command on, until later commands tell it the client
 * has them, so call {@link #finished} for every command, also for one you give up on (it is then
 * applied at most once, perhaps never).
 *
 * <p>Thread-safe. A session lives as long as its client process: a restarted client registers a
 * new one (its old one ages out of the state machine).
 */
public final class ClientSession {
    private final long id;
    private long lastSequence;
    /** Numbers handed out and not yet finished; the first is what the state machine must keep back to. */
    private final TreeSet<Long> unfinished = new TreeSet<>();

    /** A command of a session: propose {@link #bytes()}, and the same bytes again on every retry. */
    public record Command(long session, long sequence, Bytes bytes) {
    }

    ClientSession(long id) {
        if (id < 1) {
            throw new IllegalArgumentException("session ids are log indexes, from 1: " + id);
        }
        this.id = id;
    }

    /**
     * The command that registers a new session. Retrying it is safe: every copy that commits
     * registers a session, and those nobody uses age out.
     */
    public static Bytes registration() {
        return SessionFrame.REGISTRATION;
    }

    /**
     * The session that a registration's answer created.
     *
     * @throws IllegalArgumentException if {@code answer} is not {@link SessionResult.Status#REGISTERED}
     */
    public static ClientSession registered(SessionResult<?> answer) {
        Objects.requireNonNull(answer, "answer");
        if (answer.status() != SessionResult.Status.REGISTERED) {
            throw new IllegalArgumentException("not the answer to a registration: " + answer);
        }
        return new ClientSession(answer.session());
    }

    /**
     * A command numbered by the client itself, for a gateway that relays a remote client's session
     * id and numbers (the KV example's {@code RAFT.ONCE}): the remote client keeps the rules of
     * {@link #command} and {@link #finished}, and tells its lowest unfinished number with each.
     *
     * @throws IllegalArgumentException unless {@code session}, {@code sequence} and
     *         {@code lowestUnfinished} are at least 1 and {@code lowestUnfinished <= sequence}
     */
    public static Command relayed(long session, long sequence, long lowestUnfinished, Bytes payload) {
        Objects.requireNonNull(payload, "payload");
        if (session < 1 || sequence < 1 || lowestUnfinished < 1 || lowestUnfinished > sequence) {
            throw new IllegalArgumentException("session " + session + ", sequence " + sequence + ", lowest unfinished "
                    + lowestUnfinished + ": each must be at least 1, and the lowest unfinished at most the sequence");
        }
        return new Command(session, sequence, SessionFrame.session(session, sequence, lowestUnfinished, payload));
    }

    /** The session's id: the log index of its registration. */
    public long id() {
        return id;
    }

    /**
     * Numbers {@code payload} as this session's next command.
     *
     * @throws IllegalStateException if {@link SessionStateMachine#MAX_RESULTS_PER_SESSION} commands
     *         would then lie between the oldest unfinished one and this: the replicas keep every
     *         result from the oldest unfinished on, and would end the session (call
     *         {@link #finished} for that one, or give each thread a session of its own)
     */
    public synchronized Command command(Bytes payload) {
        Objects.requireNonNull(payload, "payload");
        long next = lastSequence + 1;
        long oldest = unfinished.isEmpty() ? next : unfinished.first();
        if (next - oldest >= SessionStateMachine.MAX_RESULTS_PER_SESSION) {
            throw new IllegalStateException("session " + id + ": command " + oldest + " is still unfinished and "
                    + SessionStateMachine.MAX_RESULTS_PER_SESSION + " commands have been numbered since it began; the"
                    + " replicas would end the session. Call finished() for it (its result, or giving up), or give"
                    + " each thread a session of its own");
        }
        long sequence = ++lastSequence;
        unfinished.add(sequence);
        return new Command(id, sequence, SessionFrame.session(id, sequence, unfinished.first(), payload));
    }

    /**
     * Declares {@code command} done: its result arrived, or the caller gave up on it. The replicas
     * forget its result once a later command of this session carries the news.
     */
    public synchronized void finished(Command command) {
        Objects.requireNonNull(command, "command");
        if (command.session() != id) {
            throw new IllegalArgumentException("command " + command.sequence() + " belongs to session "
                    + command.session() + ", not " + id);
        }
        unfinished.remove(command.sequence());
    }
}

package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A parsed client command, ready to run.
 */
interface Command {
    /** What a command does to the replicated state, which decides how commands of a connection are ordered. */
    enum Kind {
        /** Answered by this node without the replicated state (PING, INFO, CLIENT, ...). */
        LOCAL,
        /** Reads the replicated state. */
        READ,
        /** Changes the replicated state or the membership. */
        WRITE
    }

    Kind kind();

    /** Runs the command for {@code session}; called on the session's event loop. */
    CompletableFuture<Reply> run(Session session);

    /** Whether the connection is closed once the reply is written (QUIT). */
    default boolean closesConnection() {
        return false;
    }

    /** A command of {@code kind} that runs {@code body}. */
    static Command of(Kind kind, Function<Session, CompletableFuture<Reply>> body) {
        return new Plain(kind, body, false);
    }

    /** A local command whose reply is known at once. */
    static Command immediate(Reply reply) {
        CompletableFuture<Reply> done = CompletableFuture.completedFuture(reply);
        return of(Kind.LOCAL, session -> done);
    }

    /** A local command answered at once with {@code reply}, after which the connection closes (QUIT). */
    static Command closing(Reply reply) {
        CompletableFuture<Reply> done = CompletableFuture.completedFuture(reply);
        return new Plain(Kind.LOCAL, session -> done, true);
    }

    /** A command made of its parts, for the commands that need no state of their own. */
    record Plain(Kind kind, Function<Session, CompletableFuture<Reply>> body, boolean closesConnection) implements Command {
        @Override
        public CompletableFuture<Reply> run(Session session) {
            return body.apply(session);
        }
    }
}

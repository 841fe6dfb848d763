package io.raft4j.examples.kv;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The node's command line run in this JVM on a thread of its own, as {@code java -jar raft-kv.jar}
 * runs it (the command blocks until the node stops); {@link #close} stops it as SIGTERM would.
 */
final class InProcessNode implements AutoCloseable {
    private final NodeCommand command = new NodeCommand();
    private final StringWriter err = new StringWriter();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    InProcessNode(String... args) {
        CommandLine cl = Main.commandLine(command);
        cl.setErr(new PrintWriter(err, true));
        cl.setOut(new PrintWriter(new StringWriter(), true));
        Thread runner = new Thread(() -> {
            try {
                exit.complete(cl.execute(args));
            } catch (Throwable t) {
                exit.completeExceptionally(t);
            }
        }, "raft-kv-command");
        runner.setDaemon(true);
        runner.start();
    }

    /** How the node started, once it runs; fails the test with its error output if it exited instead. */
    StartMode awaitStarted() throws Exception {
        CompletableFuture.anyOf(command.started, exit).get(60, TimeUnit.SECONDS);
        if (!command.started.isDone()) {
            fail("the node exited with " + exit.join() + " instead of starting: " + err);
        }
        return command.started.join();
    }

    /** The status the command ended with by itself (the node was removed, or failed). */
    int awaitExit() throws Exception {
        return exit.get(60, TimeUnit.SECONDS);
    }

    /** Stops the node as SIGTERM does and checks that the command ended with status 0. */
    @Override
    public void close() throws Exception {
        command.stop();
        if (command.started.isDone()) {
            assertEquals(0, exit.get(60, TimeUnit.SECONDS), "exit status after the stop; stderr: " + err);
        }
    }
}

package io.raft4j.transport.netty;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What the transport logs while it is open: slf4j-simple, the tests' binding, writes to the
 * {@code System.err} of the moment, which this replaces until closed.
 */
final class CapturedLog implements AutoCloseable {
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    CapturedLog() {
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    /** Everything logged so far. */
    synchronized String text() {
        System.err.flush();
        return captured.toString(StandardCharsets.UTF_8);
    }

    /** The lines logged so far that contain {@code fragment}. */
    java.util.List<String> linesWith(String fragment) {
        return text().lines().filter(l -> l.contains(fragment)).toList();
    }

    @Override
    public void close() {
        System.setErr(original);
        original.print(text());   // still shown with the test's output
    }
}

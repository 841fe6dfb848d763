package io.raft4j.examples.kv;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turning a failure into what a client is told. */
final class Failures {
    private Failures() {
    }

    /** The cause under the wrappers a future adds. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** {@code s} on one line (a RESP error or status must not contain CR or LF); "" for null. */
    static String oneLine(String s) {
        return s == null ? "" : s.replace('\r', ' ').replace('\n', ' ');
    }
}

package io.raft4j.transport.netty;

/** The innermost cause of a failure: what Netty and the JDK wrap often says best what is wrong. */
final class Causes {
    private Causes() {
    }

    /** The innermost cause of {@code t} ({@code t} itself if it has none). */
    static Throwable root(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** The innermost cause of {@code t} as "SimpleClassName: message", for a log line or an error. */
    static String rootMessage(Throwable t) {
        Throwable root = root(t);
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}

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

    /** How the strict membership check of raft-core ends its refusal: a setting a KV node does not offer. */
    static final String STRICT_CHECK_OVERRIDE = "; RaftConfig.strictMembershipChecks(false) skips this check";
    /**
     * What a KV operator is told instead. Turning the check off would only let the change in, not
     * commit it: the group would then wait for the missing voters, leaderless, so a KV node offers
     * no way to.
     */
    static final String STRICT_CHECK_FOR_KV = "; a KV node always makes this check (the change could not commit"
            + " without them): to take out a voter that is down, RAFT.REMOVENODE the voter that is down first";

    /** A refused membership change as a KV operator is told it: no advice about settings they cannot reach. */
    static String membershipRefusal(String message) {
        return oneLine(message).replace(STRICT_CHECK_OVERRIDE, STRICT_CHECK_FOR_KV);
    }

    /** {@code s} on one line (a RESP error or status must not contain CR or LF); "" for null. */
    static String oneLine(String s) {
        return s == null ? "" : s.replace('\r', ' ').replace('\n', ' ');
    }
}

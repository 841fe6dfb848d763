package io.raft4j.core;

import io.raft4j.message.AppendEntries;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which bootstrap of its group this node belongs to ({@link io.raft4j.message.HardState#bootstrapFingerprint()}),
 * and the check of every vote request, append and snapshot chunk against it.
 *
 * <p>Nodes of one group started with different initial members each bootstrap it with a first
 * configuration of their own, at index 1 of term 1: the same index and term with different
 * contents, which Raft's log matching takes for one entry. Each side then counts majorities of its
 * own list, so both may elect leaders and commit, and messages between them mix two histories (a
 * leader of one replacing the other's entries, or stopping a node that finds an entry it knows
 * committed contradicted). So the fingerprint of the bootstrap,
 * a hash of the group id and its first voters, goes with those messages, and a node that knows
 * another one drops them and logs why: the two sides stay two groups, each whole, until an operator
 * stops the one that should not exist.
 */
final class BootstrapFingerprint {
    private static final Logger LOG = LoggerFactory.getLogger(BootstrapFingerprint.class);

    private final String id;
    private long value;
    private long refused;

    /**
     * @param id     this node's id, for the log
     * @param stored the fingerprint its storage holds, 0 for none
     */
    BootstrapFingerprint(String id, long stored) {
        this.id = id;
        this.value = stored;
    }

    /** The fingerprint of {@code groupId} bootstrapped with {@code voters}: never 0. */
    static long of(String groupId, Set<String> voters) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        sha.update(groupId.getBytes(StandardCharsets.UTF_8));
        for (String voter : new TreeSet<>(voters)) {
            sha.update((byte) 0); // no two lists of ids hash the same bytes
            sha.update(voter.getBytes(StandardCharsets.UTF_8));
        }
        byte[] digest = sha.digest();
        long fingerprint = 0;
        for (int i = 0; i < 8; i++) {
            fingerprint = (fingerprint << 8) | (digest[i] & 0xFF);
        }
        return fingerprint == 0 ? 1 : fingerprint;
    }

    /** The fingerprint carried by {@code m}; 0 for a message of a type that carries none, or of an older sender. */
    static long carriedBy(RaftMessage m) {
        if (m instanceof AppendEntries a) {
            return a.bootstrapFingerprint();
        }
        if (m instanceof RequestVote v) {
            return v.bootstrapFingerprint();
        }
        if (m instanceof InstallSnapshot s) {
            return s.bootstrapFingerprint();
        }
        return 0;
    }

    /** This node's fingerprint, 0 while unknown. */
    long value() {
        return value;
    }

    /**
     * Takes {@code fingerprint} as this node's if it knows none yet: its own bootstrap, the first
     * configuration of a log stored before fingerprints were, or its leader's (a node that joined).
     *
     * @return whether it changed, and must be stored
     */
    boolean learn(long fingerprint) {
        if (value != 0 || fingerprint == 0) {
            return false;
        }
        value = fingerprint;
        return true;
    }

    /**
     * Whether {@code m} may be handled: not if it carries the fingerprint of another bootstrap. The
     * first such message, and then each time their count doubles, is logged as an error.
     */
    boolean admits(RaftMessage m) {
        long theirs = carriedBy(m);
        if (theirs == 0 || value == 0 || theirs == value) {
            return true;
        }
        refused++;
        if ((refused & (refused - 1)) == 0) {
            LOG.error("{}: dropping {} from {}: it comes from another bootstrap of group {} (fingerprint {}, this"
                    + " node's {}; {} such messages dropped so far). The nodes of one group were started with"
                    + " different initial members, or {} runs on another cluster's data: compare each node's"
                    + " 'bootstrapped group ... with voters' line, and stop the side that should not exist",
                    id, m.getClass().getSimpleName(), m.from(), m.groupId(), Long.toHexString(theirs),
                    Long.toHexString(value), refused, m.from());
        }
        return false;
    }

    /** Messages dropped for carrying another bootstrap's fingerprint. */
    long refused() {
        return refused;
    }
}

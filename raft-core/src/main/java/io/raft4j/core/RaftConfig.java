package io.raft4j.core;

import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The protocol settings of one node of one Raft group: immutable and validated when built.
 * Times are in ticks; the runtime decides how long a tick is (see {@code RaftNode.Builder#tickMillis}).
 * Every count, size and time must be positive unless its description says otherwise.
 *
 * <p>The classic rule (Raft §5.6): broadcast time &#8810; election timeout &#8810; MTBF. The
 * heartbeat interval must be well below the election timeout so followers hear from a live leader
 * several times before they would start an election.
 *
 * @param groupId                  the Raft group this node belongs to; default {@code "default"}; an id
 *                                 as {@link ClusterConfig#problemWithId} describes
 * @param nodeId                   this node's id, unique in the group; required; non-empty, at most 256
 *                                 characters, no control characters, unpaired surrogates or
 *                                 whitespace at either end
 * @param initialMembers           voters (id to address) of a brand-new cluster; used only when the
 *                                 node's storage is empty; must include {@code nodeId}. Empty for a
 *                                 node that will be added to an existing cluster. Default empty
 * @param electionTimeoutTicks     minimum election timeout; the actual one is drawn at random in
 *                                 {@code [electionTimeoutTicks, 2 * electionTimeoutTicks)}; default 10,
 *                                 at most {@link #MAX_ELECTION_TIMEOUT_TICKS}. A node refuses votes for
 *                                 this long after hearing from its leader (with {@code checkQuorum}),
 *                                 and tells its leader so: a leader's lease follows its voters' windows
 * @param heartbeatIntervalTicks   how often a leader sends heartbeats; default 1; must be below
 *                                 {@code electionTimeoutTicks}
 * @param preVote                  run a pre-vote before each election so a node that cannot win
 *                                 (e.g. partitioned) does not raise terms (thesis §9.6); default true
 * @param checkQuorum              a leader that has not heard from a quorum within an election
 *                                 timeout steps down; followers then also refuse to vote while they
 *                                 hear from a live leader (thesis §6.2, §9.6); default true. A leader's
 *                                 lease reads rely on a quorum of voters having it on
 * @param maxMessageBytes          maximum bytes of entries in one append message (at least one entry
 *                                 is always sent); default 1 MiB
 * @param maxEntryBytes            largest command a proposal may carry: a larger one is refused at
 *                                 once, since an entry that no transport message can carry would stop
 *                                 replication at it; default 8 MiB
 * @param maxInflightMessages      append messages in flight per follower (pipelining); default 256,
 *                                 at most {@link #MAX_INFLIGHT_MESSAGES}
 * @param maxInflightBytes         bytes of entries in flight per follower; default 32 MiB, at least
 *                                 {@code maxMessageBytes}
 * @param maxUncommittedBytes      bytes of commands a leader holds accepted but not yet committed and
 *                                 handed to its state machine; beyond it, proposals are refused until
 *                                 commits and applies catch up (a majority unreachable or too slow, or
 *                                 a state machine slower than the commits, would otherwise make the
 *                                 leader's log, memory and disk grow without end). The runtime counts
 *                                 the proposals made and not yet taken up by its event loop against it
 *                                 too, and refuses beyond it as they are made; at least
 *                                 {@code maxEntryBytes}; default 64 MiB
 * @param maxApplyBatchBytes       bytes of committed entries handed out for apply at once; default 8 MiB.
 *                                 The runtime lets about four such batches wait for its apply
 *                                 thread; more committed entries stay in the log until it catches up
 * @param snapshotEveryEntries     take a snapshot once this many entries were applied since the last
 *                                 one (if the state machine supports snapshots); default 100,000
 * @param snapshotEveryBytes       ... or once this many bytes of entries were applied; default 256 MiB
 * @param snapshotTrailingEntries  entries kept in the log behind a snapshot, so slightly lagging
 *                                 followers catch up from the log rather than by snapshot; default
 *                                 1,024; 0 or more
 * @param snapshotChunkBytes       size of the chunks a snapshot is streamed in; default 1 MiB, at
 *                                 most 64 times {@code maxMessageBytes}. Each chunk's message also
 *                                 carries the snapshot's configuration: where the two would exceed
 *                                 {@link #largestMessagePayload()}, the chunks are made smaller
 * @param snapshotChunksInFlight   unacknowledged chunks per follower (flow control); default 4
 * @param promoteWithinEntries     a learner added to become a voter is promoted once its log is
 *                                 within this many entries of the leader's; default 100; 0 or more
 * @param leaseClockDriftPercent   the bound on clock drift between nodes that lease reads assume, in
 *                                 percent of the election timeout: a leader serves lease reads for
 *                                 {@code electionTimeoutTicks * (100 - drift) / 100 - 1} ticks after a
 *                                 heartbeat round a quorum acknowledged (only with
 *                                 {@code checkQuorum}: without it there are no leases); default 10
 *                                 (0 to 50). That is the lease with every node on these settings;
 *                                 each follower announces how long it refuses votes in real time, and
 *                                 a leader counts a shorter window of a quorum's (a follower with a
 *                                 shorter timeout or tick, or without {@code checkQuorum}). A node
 *                                 restarted with a shorter window first honours the one it stored
 *                                 ({@code HardState#voteRefusalMicros}); a store written by an
 *                                 earlier build holds none: do not shorten it in the restart that
 *                                 upgrades the node
 * @param strictMembershipChecks   refuse a membership change whose new voters would not include a
 *                                 majority that answered the leader lately (within the last two heartbeat
 *                                 intervals; the leader counts if it stays a voter): such a change could
 *                                 never commit, and would leave the group without a leader until the
 *                                 missing voters come back; default true (as etcd's strict reconfig check)
 * @param maxQueuedReads           reads ({@code RaftNode.query}) made and not yet taken up by the
 *                                 node's event loop; beyond it a read fails at once with
 *                                 {@code OverloadedException}, so that a caller firing reads while the
 *                                 loop is held up (a slow sync on the loop, a GC pause, a slow
 *                                 callback) cannot grow the loop's queue without end; default 65,536
 */
public record RaftConfig(String groupId, String nodeId, Map<String, String> initialMembers,
                         int electionTimeoutTicks, int heartbeatIntervalTicks, boolean preVote,
                         boolean checkQuorum, long maxMessageBytes, long maxEntryBytes, int maxInflightMessages,
                         long maxInflightBytes, long maxUncommittedBytes, long maxApplyBatchBytes, long snapshotEveryEntries,
                         long snapshotEveryBytes, long snapshotTrailingEntries, int snapshotChunkBytes,
                         int snapshotChunksInFlight, long promoteWithinEntries, int leaseClockDriftPercent,
                         boolean strictMembershipChecks, int maxQueuedReads) {
    /** The largest {@link #electionTimeoutTicks}: 2^20 ticks (about 29 hours at 100 ms per tick). */
    public static final int MAX_ELECTION_TIMEOUT_TICKS = 1 << 20;
    /**
     * The largest {@link #maxInflightMessages}: 65,536. A leader keeps a ring of that many slots per
     * follower (16 bytes each), allocated when it is elected.
     */
    public static final int MAX_INFLIGHT_MESSAGES = 1 << 16;
    /** The smallest a chunk is made to leave room for its snapshot's configuration (see {@link #snapshotChunkBytesBeside}). */
    static final int MIN_SHRUNK_CHUNK_BYTES = 4 << 10;

    public RaftConfig {
        requireValidId(groupId, "groupId");
        requireValidId(nodeId, "nodeId");
        Objects.requireNonNull(initialMembers, "initialMembers");
        // Checked before the copy, whose NPE for a null id or address named neither.
        ClusterConfig.ofVoters(initialMembers);
        initialMembers = Map.copyOf(initialMembers);
        if (!initialMembers.isEmpty() && !initialMembers.containsKey(nodeId)) {
            throw new IllegalArgumentException("initialMembers must include this node (nodeId "
                    + nodeId + ") or be empty for a node that joins later");
        }
        requirePositive(electionTimeoutTicks, "electionTimeoutTicks");
        if (electionTimeoutTicks > MAX_ELECTION_TIMEOUT_TICKS) {
            // The randomized timeout runs up to twice this in an int; far beyond any sane timeout anyway.
            throw new IllegalArgumentException("electionTimeoutTicks (" + electionTimeoutTicks + ") must be at most "
                    + MAX_ELECTION_TIMEOUT_TICKS);
        }
        requirePositive(heartbeatIntervalTicks, "heartbeatIntervalTicks");
        if (heartbeatIntervalTicks >= electionTimeoutTicks) {
            throw new IllegalArgumentException("heartbeatIntervalTicks (" + heartbeatIntervalTicks
                    + ") must be less than electionTimeoutTicks (" + electionTimeoutTicks + ")");
        }
        requirePositive(maxMessageBytes, "maxMessageBytes");
        requirePositive(maxEntryBytes, "maxEntryBytes");
        requirePositive(maxInflightMessages, "maxInflightMessages");
        if (maxInflightMessages > MAX_INFLIGHT_MESSAGES) {
            // Accepted, Integer.MAX_VALUE failed every node as it was elected (two 16 GiB arrays per follower).
            throw new IllegalArgumentException("maxInflightMessages (" + maxInflightMessages + ") must be at most "
                    + MAX_INFLIGHT_MESSAGES);
        }
        requirePositive(maxInflightBytes, "maxInflightBytes");
        if (maxInflightBytes < maxMessageBytes) {
            throw new IllegalArgumentException("maxInflightBytes (" + maxInflightBytes
                    + ") must be at least maxMessageBytes (" + maxMessageBytes + ")");
        }
        if (maxUncommittedBytes < maxEntryBytes) {
            throw new IllegalArgumentException("maxUncommittedBytes (" + maxUncommittedBytes
                    + ") must be at least maxEntryBytes (" + maxEntryBytes + ")");
        }
        requirePositive(maxApplyBatchBytes, "maxApplyBatchBytes");
        requirePositive(snapshotEveryEntries, "snapshotEveryEntries");
        requirePositive(snapshotEveryBytes, "snapshotEveryBytes");
        if (snapshotTrailingEntries < 0) {
            throw new IllegalArgumentException("snapshotTrailingEntries must be >= 0, was " + snapshotTrailingEntries);
        }
        requirePositive(snapshotChunkBytes, "snapshotChunkBytes");
        // Compared as chunk / 64 rather than as 64 times maxMessageBytes, which wraps around for a
        // maxMessageBytes beyond Long.MAX_VALUE / 64 and then refused every chunk size.
        if ((snapshotChunkBytes + 63L) / 64 > maxMessageBytes) {
            throw new IllegalArgumentException("snapshotChunkBytes (" + snapshotChunkBytes
                    + ") is implausibly large compared with maxMessageBytes (" + maxMessageBytes + ")");
        }
        requirePositive(snapshotChunksInFlight, "snapshotChunksInFlight");
        if (promoteWithinEntries < 0) {
            throw new IllegalArgumentException("promoteWithinEntries must be >= 0, was " + promoteWithinEntries);
        }
        if (leaseClockDriftPercent < 0 || leaseClockDriftPercent > 50) {
            throw new IllegalArgumentException("leaseClockDriftPercent must be within 0..50, was " + leaseClockDriftPercent);
        }
        requirePositive(maxQueuedReads, "maxQueuedReads");
    }

    /**
     * How long after the start of a heartbeat round that a quorum acknowledged the leader may serve
     * lease reads, in ticks; 0 if leases are impossible (they need {@link #checkQuorum()}, whose leader
     * stickiness is what keeps other nodes from electing a new leader during the lease).
     */
    public int leaseTicks() {
        if (!checkQuorum) {
            return 0;
        }
        return Math.max(0, electionTimeoutTicks * (100 - leaseClockDriftPercent) / 100 - 1);
    }

    /**
     * The most entry and chunk bytes one message may carry: an append holds entries up to
     * {@link #maxMessageBytes()}, or a single entry up to {@link #maxEntryBytes()}; a snapshot message
     * one chunk, together with the snapshot's configuration (chunks are made smaller to leave it room).
     * A transport must carry this much plus its own framing.
     */
    public long largestMessagePayload() {
        return Math.max(Math.max(maxMessageBytes, maxEntryBytes), snapshotChunkBytes);
    }

    /**
     * The bytes of snapshot in each chunk of a snapshot whose configuration is {@code config}:
     * {@link #snapshotChunkBytes()}, or fewer where the chunk and the configuration, which every
     * chunk's message carries too, would exceed {@link #largestMessagePayload()}, the most a transport
     * is known to carry besides its envelope. At least {@link #MIN_SHRUNK_CHUNK_BYTES} (a
     * configuration may take all of {@link #maxEntryBytes()}), which the envelope allowance covers.
     * With chunks of the largest payload, a configuration of 100 KiB (400 learners with long ids) made
     * every chunk's frame too large for the transport: dropped at every resend, the follower never
     * received the snapshot.
     */
    int snapshotChunkBytesBeside(ClusterConfig config) {
        long room = largestMessagePayload() - config.encode().length();
        return (int) Math.min(snapshotChunkBytes, Math.max(MIN_SHRUNK_CHUNK_BYTES, room));
    }

    /**
     * Refuses a command larger than {@link #maxEntryBytes()}: no message could carry such an entry
     * to the followers, and replication would stop at it.
     *
     * @throws IllegalArgumentException saying so
     */
    public void checkCommandSize(Bytes command) {
        if (command.length() > maxEntryBytes) {
            throw new IllegalArgumentException("command of " + command.length() + " bytes is larger than maxEntryBytes ("
                    + maxEntryBytes + "); nothing was proposed");
        }
    }

    /** A builder with the documented defaults. */
    public static Builder builder(String nodeId) {
        return new Builder(nodeId);
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder(nodeId);
        b.groupId = groupId;
        b.initialMembers = new LinkedHashMap<>(initialMembers);
        b.electionTimeoutTicks = electionTimeoutTicks;
        b.heartbeatIntervalTicks = heartbeatIntervalTicks;
        b.preVote = preVote;
        b.checkQuorum = checkQuorum;
        b.maxMessageBytes = maxMessageBytes;
        b.maxEntryBytes = maxEntryBytes;
        b.maxInflightMessages = maxInflightMessages;
        b.maxInflightBytes = maxInflightBytes;
        b.maxUncommittedBytes = maxUncommittedBytes;
        b.maxApplyBatchBytes = maxApplyBatchBytes;
        b.snapshotEveryEntries = snapshotEveryEntries;
        b.snapshotEveryBytes = snapshotEveryBytes;
        b.snapshotTrailingEntries = snapshotTrailingEntries;
        b.snapshotChunkBytes = snapshotChunkBytes;
        b.snapshotChunksInFlight = snapshotChunksInFlight;
        b.promoteWithinEntries = promoteWithinEntries;
        b.leaseClockDriftPercent = leaseClockDriftPercent;
        b.strictMembershipChecks = strictMembershipChecks;
        b.maxQueuedReads = maxQueuedReads;
        return b;
    }

    private static void requireValidId(String value, String field) {
        ClusterConfig.problemWithId(value).ifPresent(problem -> {
            throw new IllegalArgumentException(field + ": " + problem);
        });
    }

    private static void requirePositive(long value, String field) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, was " + value);
        }
    }

    /** Builds a {@link RaftConfig}; every setter documents its field on {@link RaftConfig}. */
    public static final class Builder {
        private String groupId = "default";
        private final String nodeId;
        private Map<String, String> initialMembers = new LinkedHashMap<>();
        private int electionTimeoutTicks = 10;
        private int heartbeatIntervalTicks = 1;
        private boolean preVote = true;
        private boolean checkQuorum = true;
        private long maxMessageBytes = 1 << 20;
        private long maxEntryBytes = 8L << 20;
        private int maxInflightMessages = 256;
        private long maxInflightBytes = 32L << 20;
        private long maxUncommittedBytes = 64L << 20;
        private long maxApplyBatchBytes = 8L << 20;
        private long snapshotEveryEntries = 100_000;
        private long snapshotEveryBytes = 256L << 20;
        private long snapshotTrailingEntries = 1024;
        private int snapshotChunkBytes = 1 << 20;
        private int snapshotChunksInFlight = 4;
        private long promoteWithinEntries = 100;
        private int leaseClockDriftPercent = 10;
        private boolean strictMembershipChecks = true;
        private int maxQueuedReads = 1 << 16;

        private Builder(String nodeId) {
            this.nodeId = nodeId;
        }

        /** The Raft group this node belongs to; default {@code "default"}. */
        public Builder groupId(String v) { groupId = v; return this; }

        /** Initial voters with their addresses, for bootstrapping a new cluster. */
        public Builder initialMembers(Map<String, String> v) {
            initialMembers = new LinkedHashMap<>(Objects.requireNonNull(v, "initialMembers"));
            return this;
        }

        /**
         * Initial voters without addresses (in-memory transports need none).
         *
         * @throws IllegalArgumentException if an id is listed twice (a typo for another member would
         *                                  otherwise give a cluster one voter short of what was meant)
         */
        public Builder initialMembers(String... ids) {
            Objects.requireNonNull(ids, "initialMembers");
            initialMembers = new LinkedHashMap<>();
            for (String id : ids) {
                if (initialMembers.put(id, "") != null) {
                    throw new IllegalArgumentException("initialMembers: " + id + " is listed twice");
                }
            }
            return this;
        }

        /** Minimum election timeout in ticks (the actual one is drawn from {@code [v, 2v)}); default 10. */
        public Builder electionTimeoutTicks(int v) { electionTimeoutTicks = v; return this; }

        /** How often a leader sends heartbeats, in ticks; default 1; must be below the election timeout. */
        public Builder heartbeatIntervalTicks(int v) { heartbeatIntervalTicks = v; return this; }

        /** Whether a pre-vote precedes each election, so a partitioned node does not raise terms; default true. */
        public Builder preVote(boolean v) { preVote = v; return this; }

        /** Whether a leader that heard from no quorum within an election timeout steps down; default true. */
        public Builder checkQuorum(boolean v) { checkQuorum = v; return this; }

        /** Most bytes of entries in one append message (at least one entry is sent); default 1 MiB. */
        public Builder maxMessageBytes(long v) { maxMessageBytes = v; return this; }

        /** Largest command a proposal may carry (a larger one is refused at once); default 8 MiB. */
        public Builder maxEntryBytes(long v) { maxEntryBytes = v; return this; }

        /** Append messages in flight per follower (pipelining); default 256, at most 65,536. */
        public Builder maxInflightMessages(int v) { maxInflightMessages = v; return this; }

        /** Bytes of entries in flight per follower; default 32 MiB. */
        public Builder maxInflightBytes(long v) { maxInflightBytes = v; return this; }

        /** Bytes of commands a leader holds accepted but not committed before refusing proposals; default 64 MiB. */
        public Builder maxUncommittedBytes(long v) { maxUncommittedBytes = v; return this; }

        /** Bytes of committed entries handed out for apply at once; default 8 MiB. */
        public Builder maxApplyBatchBytes(long v) { maxApplyBatchBytes = v; return this; }

        /** Snapshot once this many entries were applied since the last one; default 100,000. */
        public Builder snapshotEveryEntries(long v) { snapshotEveryEntries = v; return this; }

        /** Snapshot once this many bytes of entries were applied since the last one; default 256 MiB. */
        public Builder snapshotEveryBytes(long v) { snapshotEveryBytes = v; return this; }

        /** Entries kept in the log behind a snapshot, for followers that lag a little; default 1,024. */
        public Builder snapshotTrailingEntries(long v) { snapshotTrailingEntries = v; return this; }

        /** Size of the chunks a snapshot is sent in; default 1 MiB. */
        public Builder snapshotChunkBytes(int v) { snapshotChunkBytes = v; return this; }

        /** Unacknowledged snapshot chunks per follower; default 4. */
        public Builder snapshotChunksInFlight(int v) { snapshotChunksInFlight = v; return this; }

        /** How close to the leader's log a learner being added must come before it is promoted; default 100. */
        public Builder promoteWithinEntries(long v) { promoteWithinEntries = v; return this; }

        /** Clock drift bound lease reads assume, in percent of the election timeout; default 10 (0 to 50). */
        public Builder leaseClockDriftPercent(int v) { leaseClockDriftPercent = v; return this; }

        /** Whether a membership change without an answering majority among its voters is refused; default true. */
        public Builder strictMembershipChecks(boolean v) { strictMembershipChecks = v; return this; }

        /** Reads made and not yet taken up by the node's event loop before more are refused; default 65,536. */
        public Builder maxQueuedReads(int v) { maxQueuedReads = v; return this; }

        /** @throws IllegalArgumentException naming the field if a value or combination is invalid */
        public RaftConfig build() {
            return new RaftConfig(groupId, nodeId, initialMembers, electionTimeoutTicks,
                    heartbeatIntervalTicks, preVote, checkQuorum, maxMessageBytes, maxEntryBytes, maxInflightMessages,
                    maxInflightBytes, maxUncommittedBytes, maxApplyBatchBytes, snapshotEveryEntries, snapshotEveryBytes,
                    snapshotTrailingEntries, snapshotChunkBytes, snapshotChunksInFlight, promoteWithinEntries,
                    leaseClockDriftPercent, strictMembershipChecks, maxQueuedReads);
        }
    }
}

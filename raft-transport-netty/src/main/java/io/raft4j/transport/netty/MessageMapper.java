package io.raft4j.transport.netty;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raft4j.message.AppendEntries;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.InstallSnapshot;
import io.raft4j.message.InstallSnapshotResponse;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;
import io.raft4j.message.TimeoutNow;
import io.raft4j.transport.netty.proto.RaftWire;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Maps the core's {@link RaftMessage} records to the generated protobuf {@link RaftWire.Envelope}
 * and back: the reference mapping of the wire format. The core knows nothing of protobuf.
 *
 * <p>The transport's hot path uses {@link WireCodec}, which writes and reads the same bytes without
 * building the generated objects; {@code WireCodecTest} holds it to this class and the generated
 * code. Use this mapper where convenience beats speed (tools, tests, other transports).
 *
 * <p>Encoding trusts its input (records built by the local core). Decoding trusts nothing: every
 * frame comes from the network, so {@link #fromEnvelope} checks what the records leave open
 * (non-empty ids, terms and indexes from 0 to {@link #MAX_TERM_OR_INDEX}, other numbers
 * non-negative, contiguous entries, known enum values) and throws {@link MalformedFrameException}
 * rather than hand the core a message it could choke on.
 */
final class MessageMapper {

    private MessageMapper() {
    }

    /** The envelope carrying {@code message}, stamped with this module's protocol version. */
    static RaftWire.Envelope toEnvelope(String clusterId, RaftMessage message) {
        RaftWire.Envelope.Builder e = RaftWire.Envelope.newBuilder()
                .setProtocolVersion(NettyTransportConfig.PROTOCOL_VERSION)
                .setClusterId(clusterId)
                .setGroupId(message.groupId())
                .setSender(message.from())
                .setReceiver(message.to())
                .setTerm(message.term());
        // The one dispatch over the sealed message set; MessageMapperTest checks every permitted
        // subtype round-trips, so a new message type fails a test until it is mapped here.
        if (message instanceof AppendEntries m) {
            e.setAppendEntries(encode(m));
        } else if (message instanceof AppendEntriesResponse m) {
            e.setAppendEntriesResponse(RaftWire.AppendEntriesResponse.newBuilder()
                    .setSuccess(m.success()).setIndex(m.index()).setHintIndex(m.hintIndex())
                    .setHintTerm(m.hintTerm()).setRound(m.round())
                    .setVoteRefusalMicros(m.voteRefusalMicros()));
        } else if (message instanceof RequestVote m) {
            e.setRequestVote(RaftWire.RequestVote.newBuilder()
                    .setLastLogIndex(m.lastLogIndex()).setLastLogTerm(m.lastLogTerm())
                    .setPreVote(m.preVote()).setLeadershipTransfer(m.leadershipTransfer())
                    .setBootstrapFingerprint(m.bootstrapFingerprint()));
        } else if (message instanceof RequestVoteResponse m) {
            e.setRequestVoteResponse(RaftWire.RequestVoteResponse.newBuilder()
                    .setGranted(m.granted()).setPreVote(m.preVote()));
        } else if (message instanceof TimeoutNow) {
            e.setTimeoutNow(RaftWire.TimeoutNow.getDefaultInstance());
        } else if (message instanceof InstallSnapshot m) {
            e.setInstallSnapshot(RaftWire.InstallSnapshot.newBuilder()
                    .setMeta(encode(m.meta())).setOffset(m.offset()).setChunk(wrap(m.chunk()))
                    .setDone(m.done()).setChecksum(m.checksum())
                    .setBootstrapFingerprint(m.bootstrapFingerprint()));
        } else if (message instanceof InstallSnapshotResponse m) {
            e.setInstallSnapshotResponse(RaftWire.InstallSnapshotResponse.newBuilder()
                    .setSnapshotIndex(m.snapshotIndex()).setNextOffset(m.nextOffset())
                    .setDone(m.done()).setRejected(m.rejected()));
        } else if (message instanceof ReadIndexRequest m) {
            e.setReadIndexRequest(RaftWire.ReadIndexRequest.newBuilder()
                    .setRequestId(m.requestId()).setLease(m.lease()));
        } else if (message instanceof ReadIndexResponse m) {
            e.setReadIndexResponse(RaftWire.ReadIndexResponse.newBuilder()
                    .setRequestId(m.requestId()).setReadIndex(m.readIndex()).setRefused(m.refused()));
        } else {
            throw new IllegalArgumentException("unmapped message type " + message.getClass().getName());
        }
        return e.build();
    }

    private static RaftWire.AppendEntries encode(AppendEntries m) {
        RaftWire.AppendEntries.Builder b = RaftWire.AppendEntries.newBuilder()
                .setPrevLogIndex(m.prevLogIndex()).setPrevLogTerm(m.prevLogTerm())
                .setLeaderCommit(m.leaderCommit()).setRound(m.round()).setRecipientRemoved(m.recipientRemoved())
                .setBootstrapFingerprint(m.bootstrapFingerprint());
        for (LogEntry entry : m.entries()) {
            b.addEntries(RaftWire.LogEntry.newBuilder()
                    .setIndex(entry.index()).setTerm(entry.term()).setType(encode(entry.type()))
                    .setData(wrap(entry.data())));
        }
        return b.build();
    }

    private static RaftWire.EntryType encode(EntryType type) {
        return switch (type) {
            case COMMAND -> RaftWire.EntryType.ENTRY_TYPE_COMMAND;
            case NOOP -> RaftWire.EntryType.ENTRY_TYPE_NOOP;
            case CONFIG -> RaftWire.EntryType.ENTRY_TYPE_CONFIG;
        };
    }

    private static RaftWire.SnapshotMeta encode(SnapshotMeta meta) {
        return RaftWire.SnapshotMeta.newBuilder().setLastIndex(meta.lastIndex()).setLastTerm(meta.lastTerm())
                .setConfig(encode(meta.config())).build();
    }

    private static RaftWire.ClusterConfig encode(ClusterConfig config) {
        return RaftWire.ClusterConfig.newBuilder()
                .addAllVoters(config.voters()).addAllLearners(config.learners())
                .addAllOutgoingVoters(config.outgoingVoters()).putAllAddresses(config.addresses())
                .build();
    }

    /** No copy: {@link Bytes} is immutable, so protobuf may read its array directly. */
    private static ByteString wrap(Bytes bytes) {
        return bytes.length() == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(bytes.unsafeArray());
    }

    /**
     * The message an envelope carries. Checks only the message itself; version, cluster id and
     * routing are the {@link InboundDispatcher}'s job.
     *
     * @throws MalformedFrameException if the envelope is not a valid message
     */
    static RaftMessage fromEnvelope(RaftWire.Envelope e) {
        String group = requireId(e.getGroupId(), "group id");
        String from = requireId(e.getSender(), "sender");
        String to = requireId(e.getReceiver(), "receiver");
        long term = termOrIndex(e.getTerm(), "term");
        try {
            return switch (e.getBodyCase()) {
                case APPEND_ENTRIES -> decode(group, from, to, term, e.getAppendEntries());
                case APPEND_ENTRIES_RESPONSE -> {
                    RaftWire.AppendEntriesResponse r = e.getAppendEntriesResponse();
                    yield new AppendEntriesResponse(group, from, to, term, r.getSuccess(),
                            termOrIndex(r.getIndex(), "index"), termOrIndex(r.getHintIndex(), "hint index"),
                            termOrIndex(r.getHintTerm(), "hint term"), nonNegative(r.getRound(), "round"),
                            nonNegative(r.getVoteRefusalMicros(), "vote refusal window"));
                }
                case REQUEST_VOTE -> {
                    RaftWire.RequestVote r = e.getRequestVote();
                    yield new RequestVote(group, from, to, term, termOrIndex(r.getLastLogIndex(), "last log index"),
                            termOrIndex(r.getLastLogTerm(), "last log term"), r.getPreVote(),
                            r.getLeadershipTransfer(), r.getBootstrapFingerprint());
                }
                case REQUEST_VOTE_RESPONSE -> new RequestVoteResponse(group, from, to, term,
                        e.getRequestVoteResponse().getGranted(), e.getRequestVoteResponse().getPreVote());
                case TIMEOUT_NOW -> new TimeoutNow(group, from, to, term);
                case READ_INDEX_REQUEST -> new ReadIndexRequest(group, from, to, term,
                        nonNegative(e.getReadIndexRequest().getRequestId(), "read request id"),
                        e.getReadIndexRequest().getLease());
                case READ_INDEX_RESPONSE -> {
                    RaftWire.ReadIndexResponse r = e.getReadIndexResponse();
                    yield new ReadIndexResponse(group, from, to, term, nonNegative(r.getRequestId(), "read request id"),
                            termOrIndex(r.getReadIndex(), "read index"), r.getRefused());
                }
                case INSTALL_SNAPSHOT -> {
                    RaftWire.InstallSnapshot s = e.getInstallSnapshot();
                    if (!s.hasMeta()) {
                        throw new MalformedFrameException("install snapshot without meta");
                    }
                    yield new InstallSnapshot(group, from, to, term, decode(s.getMeta()),
                            nonNegative(s.getOffset(), "offset"), bytes(s.getChunk()), s.getDone(), s.getChecksum(),
                            s.getBootstrapFingerprint());
                }
                case INSTALL_SNAPSHOT_RESPONSE -> {
                    RaftWire.InstallSnapshotResponse r = e.getInstallSnapshotResponse();
                    yield new InstallSnapshotResponse(group, from, to, term,
                            termOrIndex(r.getSnapshotIndex(), "snapshot index"),
                            nonNegative(r.getNextOffset(), "next offset"), r.getDone(), r.getRejected());
                }
                case BODY_NOT_SET -> throw new MalformedFrameException("envelope without a message");
            };
        } catch (IllegalArgumentException | NullPointerException ex) {
            // A record's compact constructor refused the values.
            throw new MalformedFrameException("invalid message: " + ex.getMessage());
        }
    }

    private static AppendEntries decode(String group, String from, String to, long term, RaftWire.AppendEntries a) {
        long prev = termOrIndex(a.getPrevLogIndex(), "prev log index");
        int n = a.getEntriesCount();
        List<LogEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            RaftWire.LogEntry w = a.getEntries(i);
            if (w.getIndex() != prev + 1 + i) {
                throw new MalformedFrameException("entries not contiguous after prev log index " + prev);
            }
            entries.add(new LogEntry(termOrIndex(w.getIndex(), "entry index"), termOrIndex(w.getTerm(), "entry term"),
                    decode(w.getType()), bytes(w.getData())));
        }
        return new AppendEntries(group, from, to, term, prev, termOrIndex(a.getPrevLogTerm(), "prev log term"),
                entries, termOrIndex(a.getLeaderCommit(), "leader commit"), nonNegative(a.getRound(), "round"),
                a.getRecipientRemoved(), a.getBootstrapFingerprint());
    }

    private static EntryType decode(RaftWire.EntryType type) {
        return switch (type) {
            case ENTRY_TYPE_COMMAND -> EntryType.COMMAND;
            case ENTRY_TYPE_NOOP -> EntryType.NOOP;
            case ENTRY_TYPE_CONFIG -> EntryType.CONFIG;
            case ENTRY_TYPE_UNSPECIFIED, UNRECOGNIZED -> throw new MalformedFrameException("unknown entry type");
        };
    }

    private static SnapshotMeta decode(RaftWire.SnapshotMeta meta) {
        if (!meta.hasConfig()) {
            throw new MalformedFrameException("snapshot meta without config");
        }
        return new SnapshotMeta(termOrIndex(meta.getLastIndex(), "snapshot index"),
                termOrIndex(meta.getLastTerm(), "snapshot term"), decode(meta.getConfig()));
    }

    private static ClusterConfig decode(RaftWire.ClusterConfig c) {
        return new ClusterConfig(idSet(c.getVotersList()), idSet(c.getLearnersList()),
                idSet(c.getOutgoingVotersList()), c.getAddressesMap());
    }

    private static Set<String> idSet(List<String> ids) {
        Set<String> set = new HashSet<>(ids.size() * 2);
        for (String id : ids) {
            set.add(requireId(id, "member id"));
        }
        return set;
    }

    /** One copy, out of the (possibly pooled) network buffer and into an array the core owns. */
    private static Bytes bytes(ByteString s) {
        return s.isEmpty() ? Bytes.EMPTY : Bytes.wrap(s.toByteArray());
    }

    static String requireId(String id, String what) {
        if (id.isEmpty()) {
            throw new MalformedFrameException("empty " + what);
        }
        return id;
    }

    /**
     * The largest term or log index a frame may carry: 2^62, which no cluster reaches (a billion
     * elections or entries a second would take 146 years to), and far enough below
     * {@code Long.MAX_VALUE} that the core, which adds to terms and indexes (the next term, the index
     * after a snapshot), never overflows. A single frame of term {@code Long.MAX_VALUE} used to stop
     * a cluster for good: every member took that term, durably, and none could campaign any more,
     * the next term overflowing to a negative one that the peers refused. The core's own bound,
     * which it enforces on every message whatever the transport.
     */
    static final long MAX_TERM_OR_INDEX = RaftMessage.MAX_TERM_OR_INDEX;

    /** {@code value} if it is a term or log index a frame may carry (0..{@link #MAX_TERM_OR_INDEX}). */
    static long termOrIndex(long value, String what) {
        if (value < 0 || value > MAX_TERM_OR_INDEX) {
            throw new MalformedFrameException(what + " out of range");
        }
        return value;
    }

    static long nonNegative(long value, String what) {
        if (value < 0) {
            throw new MalformedFrameException(what + " out of range");
        }
        return value;
    }
}

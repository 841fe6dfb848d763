package io.raft4j.transport.netty;

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

import java.util.List;
import java.util.Map;
import java.util.Set;

/** One or more realistic instances of every message type, from {@code from} to {@code to} in {@code group}. */
final class TestMessages {
    private TestMessages() {
    }

    static ClusterConfig jointConfig() {
        return new ClusterConfig(Set.of("n1", "n2", "n4"), Set.of("n5"), Set.of("n1", "n2", "n3"),
                Map.of("n1", "127.0.0.1:7001", "n2", "127.0.0.1:7002", "n4", "[::1]:7004"));
    }

    static List<RaftMessage> all(String group, String from, String to) {
        ClusterConfig config = jointConfig();
        return List.of(
                new AppendEntries(group, from, to, 7, 41, 6, List.of(
                        LogEntry.command(42, 6, Bytes.ofUtf8("SET x 1")),
                        new LogEntry(43, 7, EntryType.NOOP, Bytes.EMPTY),
                        new LogEntry(44, 7, EntryType.CONFIG, config.encode()),
                        LogEntry.command(45, 7, Bytes.wrap(new byte[] {0, -1, 127, -128}))), 40, 9, false,
                        0x8123_4567_89AB_CDEFL),
                new AppendEntries(group, from, to, 7, 45, 7, List.of(), 45, 10),
                new AppendEntries(group, from, to, 7, 45, 7, List.of(), 45, 11, true),   // to a removed member
                new AppendEntriesResponse(group, from, to, 7, true, 45, 0, 0, 9, 1_000_000),
                new AppendEntriesResponse(group, from, to, 8, false, 41, 30, 5, 11, 0),
                new RequestVote(group, from, to, 9, 45, 7, false, false),
                new RequestVote(group, from, to, 10, 45, 7, true, true, 42),
                new RequestVoteResponse(group, from, to, 9, true, false),
                new RequestVoteResponse(group, from, to, 10, false, true),
                new TimeoutNow(group, from, to, 7),
                new InstallSnapshot(group, from, to, 7, new SnapshotMeta(1000, 6, config), 65536,
                        Bytes.wrap(new byte[] {1, 2, 3, 4, 5}), false, 0xFFFF_FFFFL, -1),
                new InstallSnapshot(group, from, to, 7, new SnapshotMeta(0, 0, ClusterConfig.EMPTY), 0,
                        Bytes.EMPTY, true, 0),
                new InstallSnapshotResponse(group, from, to, 7, 1000, 65541, false, false),
                new InstallSnapshotResponse(group, from, to, 7, 1000, 0, true, true),
                new ReadIndexRequest(group, from, to, 7, 12345, false),
                new ReadIndexRequest(group, from, to, 7, 1, true),
                new ReadIndexResponse(group, from, to, 7, 12345, 1000, false),
                ReadIndexResponse.refusal(group, from, to, 8, 1));
    }

    /** A heartbeat carrying {@code seq} in its round, for ordering checks. */
    static AppendEntries numbered(String group, String from, String to, long seq, int payloadBytes) {
        List<LogEntry> entries = payloadBytes == 0 ? List.of()
                : List.of(LogEntry.command(seq + 1, 1, Bytes.wrap(new byte[payloadBytes])));
        return new AppendEntries(group, from, to, 1, seq, 1, entries, 0, seq);
    }

    /**
     * Sends one message of every type from {@code from} to {@code to} through {@code sender} and
     * checks that each arrives at {@code receiver}, unchanged, the bulk ones (appends with entries,
     * snapshot chunks) in order and the others in order (those may overtake bulk ones).
     */
    static void assertAllDelivered(NettyTransport sender, RecordingInbound receiver, String group, String from,
                                   String to, java.time.Duration wait) throws InterruptedException {
        List<RaftMessage> sent = all(group, from, to);
        for (RaftMessage m : sent) {
            sender.send(m);
        }
        List<RaftMessage> received = new java.util.ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            received.add(receiver.next(wait));
        }
        for (boolean bulk : new boolean[] {true, false}) {
            org.junit.jupiter.api.Assertions.assertEquals(
                    sent.stream().filter(m -> QueueAllowance.isBulk(m) == bulk).toList(),
                    received.stream().filter(m -> QueueAllowance.isBulk(m) == bulk).toList());
        }
    }

    /**
     * Points {@code b} back at {@code a} (which already knows {@code b}), registers them as {@code a}
     * and {@code b} of group {@code g}, and checks that every message type goes from a to b and a
     * heartbeat of {@code payloadBytes} from b to a, with no connection refused.
     */
    static void assertTalkBothWays(NettyTransport a, NettyTransport b, int payloadBytes, java.time.Duration wait)
            throws InterruptedException {
        b.updatePeers("g", Map.of("a", "127.0.0.1:" + a.localPort()));
        RecordingInbound atA = new RecordingInbound();
        RecordingInbound atB = new RecordingInbound();
        a.register("g", "a", atA);
        b.register("g", "b", atB);

        assertAllDelivered(a, atB, "g", "a", "b", wait);
        b.send(numbered("g", "b", "a", 5, payloadBytes));
        org.junit.jupiter.api.Assertions.assertEquals(5, ((AppendEntries) atA.next(wait)).round());
        org.junit.jupiter.api.Assertions.assertEquals(0, a.rejectedConnections() + b.rejectedConnections());
    }
}

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
import io.raft4j.message.ReadIndexRequest;
import io.raft4j.message.ReadIndexResponse;
import io.raft4j.message.RequestVote;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.message.TimeoutNow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fixed messages of the golden wire frames, and the text format of the files holding their
 * frames: one frame a line, {@code name hex}, lines starting with {@code #} are comments.
 *
 * <p>These messages are deliberately not {@link TestMessages}: other tests may change those freely,
 * while a change here changes the golden files.
 */
final class GoldenFrames {
    static final String CLUSTER = "golden-cluster";
    static final long INCARNATION = 0x0123_4567_89AB_CDEFL;

    private GoldenFrames() {
    }

    /** A bootstrap fingerprint with its top bit set: a fixed64 carries all 64 bits. */
    static final long FINGERPRINT = 0x8123_4567_89AB_CDEFL;

    /** Every message type at least once, by a stable name; entries with every kind of field set. */
    static Map<String, RaftMessage> messages() {
        ClusterConfig joint = new ClusterConfig(Set.of("n1", "n2", "n4"), Set.of("n5"),
                Set.of("n1", "n2", "n3"), Map.of("n1", "127.0.0.1:7001", "n2", "127.0.0.1:7002"));
        Map<String, RaftMessage> m = new LinkedHashMap<>();
        m.put("append-entries", new AppendEntries("g", "n1", "n2", 7, 41, 6, List.of(
                LogEntry.command(42, 6, Bytes.ofUtf8("SET x 1")),
                new LogEntry(43, 7, EntryType.NOOP, Bytes.EMPTY),
                new LogEntry(44, 7, EntryType.CONFIG, joint.encode()),
                LogEntry.command(45, 7, Bytes.wrap(new byte[] {0, -1, 127, -128}))), 40, 9, false, FINGERPRINT));
        m.put("append-entries-heartbeat-removed", new AppendEntries("g", "n1", "n2", 7, 45, 7, List.of(), 45, 11, true));
        m.put("append-entries-response", new AppendEntriesResponse("g", "n2", "n1", 7, true, 45, 0, 0, 9, 1_000_000));
        m.put("append-entries-response-rejected", new AppendEntriesResponse("g", "n2", "n1", 8, false, 41, 30, 5, 11, 0));
        m.put("request-vote", new RequestVote("g", "n3", "n1", 9, 45, 7, false, false));
        m.put("request-vote-prevote-transfer", new RequestVote("g", "n3", "n1", 10, 45, 7, true, true, FINGERPRINT));
        m.put("request-vote-response", new RequestVoteResponse("g", "n1", "n3", 9, true, false));
        m.put("request-vote-response-prevote", new RequestVoteResponse("g", "n1", "n3", 10, false, true));
        m.put("timeout-now", new TimeoutNow("g", "n1", "n2", 7));
        m.put("install-snapshot", new InstallSnapshot("g", "n1", "n2", 7, new SnapshotMeta(1000, 6, joint), 65536,
                Bytes.wrap(new byte[] {1, 2, 3, 4, 5}), true, 0xFFFF_FFFFL, FINGERPRINT));
        m.put("install-snapshot-response", new InstallSnapshotResponse("g", "n2", "n1", 7, 1000, 65541, true, true));
        m.put("read-index-request", new ReadIndexRequest("g", "n2", "n1", 7, 12345, true));
        m.put("read-index-response", new ReadIndexResponse("g", "n1", "n2", 7, 12345, 1000, true));
        return m;
    }

    static Map<String, byte[]> read(String resource) {
        try (InputStream in = GoldenFrames.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            Map<String, byte[]> frames = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.trim().split(" ");
                frames.put(parts[0], HexFormat.of().parseHex(parts[1]));
            }
            return frames;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, String header, Map<String, byte[]> frames) {
        StringBuilder text = new StringBuilder();
        for (String line : header.split("\n")) {
            text.append("# ").append(line).append('\n');
        }
        frames.forEach((name, bytes) -> text.append(name).append(' ').append(HexFormat.of().formatHex(bytes)).append('\n'));
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

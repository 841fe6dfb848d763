package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.message.Bytes;
import io.raft4j.session.ClientSession;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Guards the KV example's formats that outlive its code (docs/operations.md, "Your state machine's
 * formats outlive your code"): the commands in the log, and the state machine's snapshots.
 * {@code kv-golden-v1.hex} holds, checked in, one command of each kind as this build encodes it,
 * and the snapshot this build writes after applying them (log indexes 1, 2, ...).
 *
 * <ul>
 *   <li>The encoder still writes the golden commands, byte for byte.</li>
 *   <li>The golden commands, applied from their checked-in bytes (a log written by an earlier
 *   build, replayed), give the state the test expects, and this build's snapshot of that state is
 *   the golden snapshot, byte for byte.</li>
 *   <li>The golden snapshot restores to that state, sessions included.</li>
 * </ul>
 * A deliberate change keeps reading the old bytes (a new opcode, a new snapshot version) and is
 * recorded with {@code -Draft4j.golden.regenerate=true}, run from the module directory (it rewrites
 * the file under {@code src/test/resources}; run again without it, and review the diff).
 */
class GoldenKvFormatsTest {
    private static final String RESOURCE = "/kv-golden-v1.hex";
    private static final long SESSION = 9;   // the registration is the ninth command: its index is the id

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Bytes once(long sequence, Bytes write) {
        return KvCodec.once(ClientSession.relayed(SESSION, sequence, sequence, write).bytes());
    }

    /** The commands, in log order, by name. */
    private static Map<String, Bytes> commands() {
        Map<String, Bytes> c = new LinkedHashMap<>();
        c.put("set", KvCodec.set(b("a"), b("1")));
        c.put("set-ifeq-get", KvCodec.set(b("a"), b("2"), KvCodec.Condition.IFEQ, b("1"), true));
        c.put("set-nx", KvCodec.set(b("b"), b("x"), KvCodec.Condition.NX, null, false));
        c.put("mset", KvCodec.mset(List.of(b("c"), b("3"), b("d"), b("\u00e9\u0000\u00ff"))));
        c.put("incrby", KvCodec.incrBy(b("n"), -42));
        c.put("del", KvCodec.del(List.of(b("b"), b("nope"))));
        c.put("meta", KvCodec.meta("n1", "127.0.0.1:6379"));
        c.put("meta-forget", KvCodec.forget("n2"));
        c.put("session-open", KvCodec.openSession());
        c.put("session-once-incr", once(1, KvCodec.incrBy(b("n"), 1)));
        c.put("session-once-set", once(2, KvCodec.set(b("e"), b("5"))));
        return c;
    }

    private static void assertExpectedState(KvStateMachine sm) {
        assertEquals(Reply.bulk("2"), sm.query(KvCodec.get(b("a"))));
        assertEquals(Reply.NIL, sm.query(KvCodec.get(b("b"))));
        assertEquals(Reply.bulk("3"), sm.query(KvCodec.get(b("c"))));
        assertEquals(Reply.bulk(b("\u00e9\u0000\u00ff")), sm.query(KvCodec.get(b("d"))));
        assertEquals(Reply.bulk("-41"), sm.query(KvCodec.get(b("n"))));
        assertEquals(Reply.bulk("5"), sm.query(KvCodec.get(b("e"))));
        assertEquals(Reply.integer(5), sm.query(KvCodec.dbsize()));
        assertEquals(Map.of("n1", "127.0.0.1:6379"), sm.clientAddresses());
        assertEquals(1, sm.sessionCount());
        assertEquals(11, sm.commandsApplied());
        // The session remembers its answers: a retry is answered, not applied again.
        assertEquals(Reply.OK, sm.apply(12, once(2, KvCodec.set(b("e"), b("5")))));
        assertEquals(Reply.integer(-40), sm.apply(13, KvCodec.incrBy(b("n"), 1)));
    }

    private static byte[] snapshotOf(StateMachine<Reply> sm) throws IOException {
        StateMachine.Snapshot snapshot = sm.snapshot();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            snapshot.writeTo(out);
            return out.toByteArray();
        } finally {
            snapshot.release();
        }
    }

    @Test
    void commandsAndSnapshotsOfEarlierBuildsStillRead() throws Exception {
        Map<String, Bytes> commands = commands();
        if (Boolean.getBoolean("raft4j.golden.regenerate")) {
            KvStateMachine sm = new KvStateMachine();
            long index = 0;
            for (Bytes c : commands.values()) {
                sm.apply(++index, c);
            }
            Map<String, byte[]> golden = new LinkedHashMap<>();
            commands.forEach((name, c) -> golden.put("command-" + name, c.toByteArray()));
            golden.put("snapshot", snapshotOf(sm));
            write(Path.of("src/test/resources" + RESOURCE), golden);
        }
        Map<String, byte[]> golden = read(RESOURCE);

        KvStateMachine replayed = new KvStateMachine();
        long index = 0;
        for (Map.Entry<String, Bytes> c : commands.entrySet()) {
            byte[] bytes = golden.get("command-" + c.getKey());
            assertEquals(HexFormat.of().formatHex(bytes), HexFormat.of().formatHex(c.getValue().toByteArray()),
                    c.getKey() + ": KvCodec no longer writes the golden command (old logs hold it: never reuse an opcode)");
            replayed.apply(++index, Bytes.wrap(bytes));
        }
        assertArrayEquals(golden.get("snapshot"), snapshotOf(replayed),
                "this build's snapshot of the golden state differs from the golden snapshot");
        long crc = replayed.lastCommandCrc();
        assertExpectedState(replayed);

        KvStateMachine restored = new KvStateMachine();
        restored.restore(new ByteArrayInputStream(golden.get("snapshot")));
        assertEquals(crc, restored.lastCommandCrc(), "the snapshot carries the checksum of the last command");
        assertExpectedState(restored);
    }

    private static Map<String, byte[]> read(String resource) throws IOException {
        try (InputStream in = GoldenKvFormatsTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            Map<String, byte[]> entries = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    String[] parts = line.trim().split(" ");
                    entries.put(parts[0], HexFormat.of().parseHex(parts[1]));
                }
            }
            return entries;
        }
    }

    private static void write(Path file, Map<String, byte[]> entries) {
        StringBuilder text = new StringBuilder("# KV example formats (GoldenKvFormatsTest): commands in log order, from index 1,\n"
                + "# then the snapshot after them. Regenerate only for a deliberate change; see the test's Javadoc.\n");
        entries.forEach((name, bytes) -> text.append(name).append(' ').append(HexFormat.of().formatHex(bytes)).append('\n'));
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

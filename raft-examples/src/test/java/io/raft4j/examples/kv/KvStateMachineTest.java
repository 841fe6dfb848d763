package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvStateMachineTest {
    private final KvStateMachine sm = new KvStateMachine();
    private long index;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<byte[]> list(String... s) {
        List<byte[]> l = new ArrayList<>();
        for (String x : s) {
            l.add(b(x));
        }
        return l;
    }

    private Reply apply(Bytes command) {
        return sm.apply(++index, command);
    }

    private Reply get(String key) {
        return sm.query(KvCodec.get(b(key)));
    }

    @Test
    void aQueryFromAnotherThreadSeesWholeCommandsOnly() throws Exception {
        // Stale reads run on client threads while the apply thread writes: an MGET must see the
        // state after some prefix of the log, never a half-applied MSET (a and b are always set
        // together to the same value).
        Bytes mget = KvCodec.mget(list("a", "b"));
        AtomicReference<String> torn = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            while (!done.get() && torn.get() == null) {
                List<Reply> ab = ((Reply.Array) sm.queryLocal(mget)).items();
                if (!ab.get(0).equals(ab.get(1))) {
                    torn.set(ab.toString());
                }
            }
        });
        reader.start();
        try {
            for (int i = 0; i < 200_000 && torn.get() == null; i++) {
                apply(KvCodec.mset(list("a", "v" + i, "b", "v" + i)));
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertNull(torn.get(), "an MGET saw half an MSET");
    }

    @Test
    void setAndGet() {
        assertEquals(Reply.NIL, get("k"));
        assertEquals(Reply.OK, apply(KvCodec.set(b("k"), b("v1"))));
        assertEquals(Reply.bulk("v1"), get("k"));
        assertEquals(Reply.OK, apply(KvCodec.set(b("k"), b(""))));
        assertEquals(Reply.bulk(""), get("k"));
    }

    @Test
    void setConditions() {
        assertEquals(Reply.NIL, apply(KvCodec.set(b("k"), b("x"), KvCodec.Condition.XX, null, false)));
        assertEquals(Reply.NIL, get("k"));
        assertEquals(Reply.OK, apply(KvCodec.set(b("k"), b("a"), KvCodec.Condition.NX, null, false)));
        assertEquals(Reply.NIL, apply(KvCodec.set(b("k"), b("b"), KvCodec.Condition.NX, null, false)));
        assertEquals(Reply.bulk("a"), get("k"));
        assertEquals(Reply.OK, apply(KvCodec.set(b("k"), b("c"), KvCodec.Condition.XX, null, false)));
        assertEquals(Reply.bulk("c"), get("k"));
    }

    @Test
    void compareAndSetWithIfeq() {
        assertEquals(Reply.NIL, apply(KvCodec.set(b("k"), b("1"), KvCodec.Condition.IFEQ, b(""), false)),
                "IFEQ never creates a key");
        assertEquals(Reply.NIL, get("k"));
        apply(KvCodec.set(b("k"), b("1")));
        assertEquals(Reply.NIL, apply(KvCodec.set(b("k"), b("2"), KvCodec.Condition.IFEQ, b("0"), false)));
        assertEquals(Reply.bulk("1"), get("k"));
        assertEquals(Reply.OK, apply(KvCodec.set(b("k"), b("2"), KvCodec.Condition.IFEQ, b("1"), false)));
        assertEquals(Reply.bulk("2"), get("k"));
    }

    @Test
    void setGetReturnsTheOldValue() {
        assertEquals(Reply.NIL, apply(KvCodec.set(b("k"), b("1"), KvCodec.Condition.ALWAYS, null, true)));
        assertEquals(Reply.bulk("1"), apply(KvCodec.set(b("k"), b("2"), KvCodec.Condition.ALWAYS, null, true)));
        assertEquals(Reply.bulk("2"), apply(KvCodec.set(b("k"), b("3"), KvCodec.Condition.NX, null, true)));
        assertEquals(Reply.bulk("2"), get("k"));
    }

    @Test
    void delExistsDbsize() {
        apply(KvCodec.mset(list("a", "1", "b", "2", "c", "3")));
        assertEquals(Reply.integer(3), sm.query(KvCodec.dbsize()));
        assertEquals(Reply.integer(3), sm.query(KvCodec.exists(list("a", "a", "b", "zz"))));
        assertEquals(Reply.integer(2), apply(KvCodec.del(list("a", "b", "zz"))));
        assertEquals(Reply.integer(1), sm.query(KvCodec.dbsize()));
        assertEquals(Reply.array(List.of(Reply.NIL, Reply.NIL, Reply.bulk("3"))), sm.query(KvCodec.mget(list("a", "b", "c"))));
    }

    @Test
    void incrementsFollowRedisRules() {
        assertEquals(Reply.integer(1), apply(KvCodec.incrBy(b("n"), 1)));
        assertEquals(Reply.integer(11), apply(KvCodec.incrBy(b("n"), 10)));
        assertEquals(Reply.integer(-4), apply(KvCodec.incrBy(b("n"), -15)));
        assertEquals(Reply.bulk("-4"), get("n"));
        apply(KvCodec.set(b("s"), b("abc")));
        assertEquals(Reply.error("ERR value is not an integer or out of range"), apply(KvCodec.incrBy(b("s"), 1)));
        apply(KvCodec.set(b("s"), b("007")));
        assertEquals(Reply.error("ERR value is not an integer or out of range"), apply(KvCodec.incrBy(b("s"), 1)));
        apply(KvCodec.set(b("big"), b(Long.toString(Long.MAX_VALUE))));
        assertEquals(Reply.error("ERR increment or decrement would overflow"), apply(KvCodec.incrBy(b("big"), 1)));
        assertEquals(Reply.bulk(Long.toString(Long.MAX_VALUE)), get("big"));
    }

    @Test
    void parsesIntegersStrictly() {
        assertEquals(0L, KvStateMachine.parseStrictLong(b("0")));
        assertEquals(-12L, KvStateMachine.parseStrictLong(b("-12")));
        assertEquals(Long.MIN_VALUE, KvStateMachine.parseStrictLong(b(Long.toString(Long.MIN_VALUE))));
        for (String bad : List.of("", "-", "-0", "01", "+1", " 1", "1 ", "9223372036854775808", "1e3")) {
            assertNull(KvStateMachine.parseStrictLong(b(bad)), bad);
        }
    }

    @Test
    void malformedCommandsGiveErrorsNotExceptions() {
        Reply r = apply(Bytes.wrap(new byte[] {KvCodec.SET, 0, 5, 'a'}));
        assertTrue(((Reply.Error) r).text().startsWith("ERR malformed command"), r.toString());
        r = apply(Bytes.wrap(new byte[] {0x7f}));
        assertTrue(((Reply.Error) r).text().startsWith("ERR unknown command code"), r.toString());
        r = apply(Bytes.EMPTY);
        assertTrue(r instanceof Reply.Error);
        assertEquals(3, sm.commandsApplied(), "every command counts, valid or not");
    }

    @Test
    void recordsClientAddresses() {
        apply(KvCodec.meta("n1", "127.0.0.1:6379"));
        apply(KvCodec.meta("n2", "127.0.0.1:6380"));
        apply(KvCodec.meta("n1", "127.0.0.1:7777"));
        assertEquals("127.0.0.1:7777", sm.clientAddressOf("n1"));
        assertEquals("127.0.0.1:6380", sm.clientAddressOf("n2"));
        assertNull(sm.clientAddressOf("n3"));
        assertEquals(Reply.integer(0), sm.query(KvCodec.dbsize()), "metadata is not a key");
    }

    /** The key space's estimated heap follows every change, and a restored copy arrives at the same figure. */
    @Test
    void usedMemoryFollowsWritesDeletesAndRestores() throws IOException {
        long perKey = KvStateMachine.PER_KEY_OVERHEAD;
        assertEquals(0, sm.usedMemory());
        apply(KvCodec.mset(list("a", "12345", "bb", "1")));
        assertEquals((1 + 5 + perKey) + (2 + 1 + perKey), sm.usedMemory());
        apply(KvCodec.set(b("a"), b("1"), KvCodec.Condition.ALWAYS, null, false)); // overwritten smaller
        apply(KvCodec.incrBy(b("bb"), 9)); // "1" becomes "10"
        assertEquals((1 + 1 + perKey) + (2 + 2 + perKey), sm.usedMemory());
        apply(KvCodec.set(b("a"), b("xyz"), KvCodec.Condition.NX, null, false)); // not set: a exists
        apply(KvCodec.del(list("a", "missing")));
        assertEquals(2 + 2 + perKey, sm.usedMemory());
        apply(KvCodec.meta("n1", "127.0.0.1:6379")); // metadata is not the key space
        assertEquals(2 + 2 + perKey, sm.usedMemory());

        KvStateMachine copy = new KvStateMachine();
        copy.restore(new ByteArrayInputStream(write(sm.snapshot())));
        assertEquals(sm.usedMemory(), copy.usedMemory());
        apply(KvCodec.del(list("bb")));
        assertEquals(0, sm.usedMemory());
    }

    @Test
    void snapshotAndRestoreRoundTrip() throws IOException {
        apply(KvCodec.mset(list("a", "1", "b", "2")));
        apply(KvCodec.meta("n1", "127.0.0.1:6379"));
        byte[] image = write(sm.snapshot());
        KvStateMachine copy = new KvStateMachine();
        copy.restore(new ByteArrayInputStream(image));
        assertEquals(Reply.bulk("1"), copy.query(KvCodec.get(b("a"))));
        assertEquals(Reply.bulk("2"), copy.query(KvCodec.get(b("b"))));
        assertEquals("127.0.0.1:6379", copy.clientAddressOf("n1"));
        assertEquals(sm.commandsApplied(), copy.commandsApplied());
        assertEquals(sm.lastCommandCrc(), copy.lastCommandCrc());
    }

    @Test
    void snapshotIsAPointInTimeViewWhileAppliesContinue() throws IOException {
        for (int i = 0; i < 1000; i++) {
            apply(KvCodec.set(b("k" + i), b("v" + i)));
        }
        StateMachine.Snapshot view = sm.snapshot();
        // Applies after the view opened: changes, deletes and new keys must not show in it.
        for (int i = 0; i < 1000; i += 2) {
            apply(KvCodec.set(b("k" + i), b("changed")));
        }
        apply(KvCodec.del(list("k1", "k3", "k5")));
        apply(KvCodec.set(b("new"), b("x")));
        apply(KvCodec.incrBy(b("k7"), 1));
        byte[] image = write(view);
        // ...and further changes while (after) it was written do not matter either.
        apply(KvCodec.del(list("k9")));
        KvStateMachine copy = new KvStateMachine();
        copy.restore(new ByteArrayInputStream(image));
        assertEquals(Reply.integer(1000), copy.query(KvCodec.dbsize()));
        for (int i = 0; i < 1000; i++) {
            assertEquals(Reply.bulk("v" + i), copy.query(KvCodec.get(b("k" + i))), "k" + i);
        }
        assertEquals(Reply.NIL, copy.query(KvCodec.get(b("new"))));
        assertEquals(1000, copy.commandsApplied());
        // The live state kept all changes.
        assertEquals(Reply.bulk("changed"), get("k0"));
        assertEquals(Reply.NIL, get("k1"));
        assertEquals(Reply.NIL, get("k9"));
    }

    @Test
    void snapshotStaysConsistentUnderConcurrentApplies() throws Exception {
        for (int i = 0; i < 20_000; i++) {
            apply(KvCodec.set(b("k" + i), b("0")));
        }
        StateMachine.Snapshot view = sm.snapshot();
        Thread applier = new Thread(() -> {
            for (int round = 1; round <= 5; round++) {
                for (int i = 0; i < 20_000; i += 3) {
                    apply(round % 2 == 0 ? KvCodec.del(list("k" + i)) : KvCodec.set(b("k" + i), b(Integer.toString(round))));
                }
            }
        });
        applier.start();
        byte[] image = write(view);
        applier.join();
        view.release();
        KvStateMachine copy = new KvStateMachine();
        copy.restore(new ByteArrayInputStream(image));
        assertEquals(Reply.integer(20_000), copy.query(KvCodec.dbsize()));
        for (int i = 0; i < 20_000; i++) {
            assertEquals(Reply.bulk("0"), copy.query(KvCodec.get(b("k" + i))), "k" + i);
        }
    }

    private long openSession() {
        return ((Reply.Int) apply(KvCodec.openSession())).value();
    }

    private static Bytes once(long session, long sequence, Bytes write) {
        return KvCodec.once(io.raft4j.session.ClientSession.relayed(session, sequence, sequence, write).bytes());
    }

    @Test
    void aWriteInASessionIsAppliedOnceHoweverOftenItIsRetried() {
        long session = openSession();
        assertEquals(index, session, "a session's id is the index of its registration");
        Bytes incr = once(session, 1, KvCodec.incrBy(b("k"), 1));
        assertEquals(Reply.integer(1), apply(incr));
        assertEquals(Reply.integer(1), apply(incr), "the retry gets the first reply");
        assertEquals(Reply.bulk("1"), get("k"), "and is not applied again");
        assertEquals(Reply.integer(2), apply(once(session, 2, KvCodec.incrBy(b("k"), 1))), "the next number is");
        assertEquals(Reply.NIL, apply(once(session, 3, KvCodec.set(b("n"), b("x"), KvCodec.Condition.XX, null, false))));
        assertEquals(Reply.NIL, apply(once(session, 3, KvCodec.set(b("n"), b("x"), KvCodec.Condition.XX, null, false))),
                "a nil reply is kept as such");
        assertEquals(1, sm.sessionCount());
    }

    @Test
    void aWriteOfAnUnknownSessionIsRefusedAndNotApplied() {
        Reply refused = apply(once(999, 1, KvCodec.set(b("k"), b("v"))));
        assertTrue(refused.isError("SESSIONEXPIRED"), refused.toString());
        assertEquals(Reply.NIL, get("k"));
    }

    @Test
    void sessionsAndTheirRepliesSurviveASnapshot() throws IOException {
        long session = openSession();
        Bytes incr = once(session, 1, KvCodec.incrBy(b("k"), 5));
        apply(incr);
        byte[] image = write(sm.snapshot());
        KvStateMachine copy = new KvStateMachine();
        copy.restore(new ByteArrayInputStream(image));
        assertEquals(1, copy.sessionCount());
        assertEquals(Reply.integer(5), copy.apply(++index, incr), "a retry reaching a node restored from the snapshot");
        assertEquals(Reply.bulk("5"), copy.query(KvCodec.get(b("k"))), "is answered, not applied again");
    }

    /** Nodes upgraded in place read the snapshots they wrote before sessions existed. */
    @Test
    void aSnapshotWrittenBeforeSessionsExistedIsRead() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(0x52344B56);   // the map's magic, version 1, as written before 2026-12-01 evening
        out.writeInt(1);
        out.writeLong(7);           // commands applied
        out.writeLong(0);           // their CRC
        out.writeInt(0);            // no client addresses
        out.writeByte(1);
        out.writeInt(1);
        out.write(b("a"));
        out.writeInt(1);
        out.write(b("1"));
        out.writeByte(0);
        out.flush();
        long session = openSession();
        KvStateMachine restored = sm;
        restored.restore(new ByteArrayInputStream(bytes.toByteArray()));
        assertEquals(Reply.bulk("1"), get("a"));
        assertEquals(7, restored.commandsApplied());
        assertEquals(0, restored.sessionCount(), "the sessions are the snapshot's: none");
        assertTrue(apply(once(session, 1, KvCodec.set(b("b"), b("2")))).isError("SESSIONEXPIRED"));
    }

    @Test
    void restoreRefusesGarbage() {
        assertThrows(IOException.class, () -> new KvStateMachine().restore(new ByteArrayInputStream(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})));
    }

    private static byte[] write(StateMachine.Snapshot view) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        view.writeTo(out);
        return out.toByteArray();
    }
}

package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.session.SessionResult.Status;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions on one replica: each command applied at most once, results kept while needed. */
class SessionStateMachineTest {
    private final AddingCounter counter = new AddingCounter();
    private final SessionStateMachine<String> machine = new SessionStateMachine<>(counter, SessionStateMachine.ResultCodec.UTF8, 2, 3);
    private long index;

    private ClientSession register() {
        return register(machine);
    }

    private ClientSession register(SessionStateMachine<String> on) {
        SessionResult<String> answer = on.apply(++index, ClientSession.registration());
        assertEquals(Status.REGISTERED, answer.status());
        assertEquals(index, answer.session(), "a session's id is its registration's index");
        return ClientSession.registered(answer);
    }

    private SessionResult<String> apply(ClientSession.Command command) {
        return machine.apply(++index, command.bytes());
    }

    private static Bytes add(long n) {
        return Bytes.ofUtf8(Long.toString(n));
    }

    @Test
    void aRetriedCommandIsAppliedOnceAndAnsweredWithItsFirstResult() {
        ClientSession session = register();
        ClientSession.Command add5 = session.command(add(5));
        assertEquals(new SessionResult<>(Status.APPLIED, "5", session.id(), null), apply(add5));
        assertEquals(new SessionResult<>(Status.DUPLICATE, "5", session.id(), null), apply(add5), "the retry");
        assertEquals(Status.DUPLICATE, apply(add5).status(), "and another");
        assertEquals(5, counter.count());
    }

    /** A gateway relays a remote client's numbers: the same frames, the same once-only rule. */
    @Test
    void aRelayedCommandCarriesTheClientsOwnNumbersAndIsAppliedOnce() {
        ClientSession session = register();
        ClientSession.Command relayed = ClientSession.relayed(session.id(), 7, 7, add(4));
        assertEquals(new SessionResult<>(Status.APPLIED, "4", session.id(), null), apply(relayed));
        assertEquals(Status.DUPLICATE, apply(ClientSession.relayed(session.id(), 7, 7, add(4))).status());
        assertEquals(Status.STALE, apply(ClientSession.relayed(session.id(), 6, 6, add(1))).status(),
                "below the lowest unfinished number the client told");
        assertEquals(4, counter.count());
        assertThrows(IllegalArgumentException.class, () -> ClientSession.relayed(session.id(), 3, 4, add(1)),
                "a lowest unfinished number above the sequence");
        assertThrows(IllegalArgumentException.class, () -> ClientSession.relayed(0, 1, 1, add(1)));
    }

    @Test
    void commandsOfOneSessionMayCommitOutOfOrderAndEachAppliesOnce() {
        ClientSession session = register();
        ClientSession.Command first = session.command(add(1));
        ClientSession.Command second = session.command(add(10));
        assertEquals("10", apply(second).value(), "a retry of the second reached a new leader first");
        assertEquals("11", apply(first).value());
        assertEquals(new SessionResult<>(Status.DUPLICATE, "10", session.id(), null), apply(second));
        assertEquals(11, counter.count());
    }

    @Test
    void resultsOfFinishedCommandsAreForgottenAndTheirStrayRetriesNotApplied() {
        ClientSession session = register();
        ClientSession.Command first = session.command(add(1));
        apply(first);
        session.finished(first);
        apply(session.command(add(2)));                             // tells the replicas: 1 is finished
        SessionResult<String> stray = apply(first);
        assertEquals(Status.STALE, stray.status(), "its result is no longer kept, and it is not applied again");
        assertNull(stray.value());
        assertEquals(3, counter.count());
    }

    /** Found in review: with client-chosen ids, an evicted session came back as a new one. */
    @Test
    void anEvictedSessionExpiresForGoodAndItsRetriesAreNeverAppliedAgain() {
        ClientSession a = register();
        ClientSession.Command a1 = a.command(add(1));
        ClientSession.Command a2 = a.command(add(10));
        apply(a1);
        apply(a2);                                                  // applied; its answer is lost
        a.finished(a1);
        apply(a.command(add(100)));                                 // the replicas learn 1 is finished
        register();
        register();                                                 // two more sessions: a, least recently used, goes
        assertEquals(2, machine.sessionCount());
        SessionResult<String> retry = apply(a2);
        assertEquals(Status.SESSION_EXPIRED, retry.status(), retry.toString());
        assertEquals(Status.SESSION_EXPIRED, apply(a1).status());
        assertEquals(Status.SESSION_EXPIRED, apply(a.command(add(1000))).status(), "final: ids are never reused");
        assertEquals(111, counter.count());
    }

    @Test
    void evictionGoesByLastUseNotByRegistration() {
        ClientSession older = register();
        ClientSession newer = register();
        apply(older.command(add(1)));                               // older is now the more recently used
        register();                                                 // one too many: the least recently used goes
        assertEquals(Status.APPLIED, apply(older.command(add(1))).status(), "the session in use stays");
        assertEquals(Status.SESSION_EXPIRED, apply(newer.command(add(1))).status(), "the idle one was evicted");
    }

    @Test
    void aSessionHoldingTooManyResultsIsEndedForGood() {
        ClientSession session = register();                         // never calls finished: every result is kept
        ClientSession.Command first = session.command(add(1));
        apply(first);
        apply(session.command(add(1)));
        apply(session.command(add(1)));
        SessionResult<String> fourth = apply(session.command(add(1)));
        assertEquals(Status.SESSION_EXPIRED, fourth.status(), fourth.toString());
        assertTrue(fourth.detail().contains("ClientSession.finished"), fourth.detail());
        assertEquals(Status.SESSION_EXPIRED, apply(first).status(), "a retry of an applied command is refused, not applied");
        register();
        register();                                                 // evictions change nothing for it
        assertEquals(Status.SESSION_EXPIRED, apply(first).status());
        assertEquals(3, counter.count());
    }

    /**
     * Found by an embedder: one command whose caller stalled pinned every later result of a session
     * shared by several threads, and the replicas ended it at the 257th. The client now refuses to
     * number a command the replicas would end the session for.
     */
    @Test
    void aClientRefusesToNumberACommandTheReplicasWouldEndItsSessionFor() {
        ClientSession session = new ClientSession(7);
        ClientSession.Command stalled = session.command(add(1));
        for (int i = 1; i < SessionStateMachine.MAX_RESULTS_PER_SESSION; i++) {
            session.finished(session.command(add(1)));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> session.command(add(1)));
        assertTrue(e.getMessage().contains("command 1 is still unfinished"), e.getMessage());
        session.finished(stalled);
        session.command(add(1));                                    // the window moved on
    }

    @Test
    void aRegistrationRetriedMakesOneSessionPerCopyAndNoneIsShared() {
        ClientSession first = register();
        ClientSession second = register();                          // a retried registration that also committed
        assertTrue(first.id() != second.id());
        ClientSession.Command c = first.command(add(4));
        apply(c);
        SessionResult<String> other = apply(second.command(add(4)));
        assertEquals(Status.APPLIED, other.status(), "the same number in another session is another command");
        assertEquals(8, counter.count());
    }

    @Test
    void commandsWithoutASessionApplyEveryTime() {
        Bytes plain = SessionStateMachine.withoutSession(add(2));
        assertEquals("2", machine.apply(1, plain).value());
        assertEquals("4", machine.apply(2, plain).value());
    }

    @Test
    void malformedCommandsAreAnsweredAsSuchOnEveryReplicaAndChangeNothing() {
        Bytes framed = register().command(add(7)).bytes();
        Bytes[] bad = {
                Bytes.EMPTY,
                add(7),                                                             // not framed at all
                Bytes.wrap(Arrays.copyOf(framed.unsafeArray(), 20)),                // header cut short
                SessionFrame.session(1, 0, 1, add(7)),                              // no command 0
                SessionFrame.session(1, 3, 5, add(7)),                              // lowest unfinished above itself
                SessionFrame.session(0, 1, 1, add(7)),                              // no session 0
                Bytes.wrap(new byte[]{SessionFrame.MARKER, SessionFrame.REGISTER, 1}), // a registration carries nothing
                Bytes.wrap(new byte[]{1, 'x'}),                                     // binary, first byte a kind
                Bytes.wrap(new byte[]{SessionFrame.REGISTER}),                      // the same
        };
        for (Bytes command : bad) {
            SessionResult<String> r = machine.apply(++index, command);
            assertEquals(Status.MALFORMED, r.status(), command.toString());
            assertTrue(r.detail() != null && !r.detail().isEmpty());
        }
        assertEquals(0, counter.count());
        assertEquals(1, machine.sessionCount());
    }

    @Test
    void aSnapshotCarriesTheSessionsSoARestoredReplicaAnswersRetriesTheSame() throws IOException {
        ClientSession a = register();
        ClientSession b = register();
        ClientSession.Command a1 = a.command(add(5));
        ClientSession.Command b1 = b.command(add(7));
        apply(a1);
        apply(b1);
        byte[] snapshot = write(machine.snapshot());
        apply(a.command(add(1000)));                                // after the snapshot: not in it

        AddingCounter otherCounter = new AddingCounter();
        SessionStateMachine<String> other = new SessionStateMachine<>(otherCounter, SessionStateMachine.ResultCodec.UTF8, 2, 3);
        other.restore(new ByteArrayInputStream(snapshot));
        assertEquals(12, otherCounter.count());
        assertEquals(2, other.sessionCount());
        // The order of use came along: a, used least recently when the snapshot was taken, is the
        // one a new session evicts, as on the replica that took it.
        register(other);
        assertEquals(new SessionResult<>(Status.DUPLICATE, "12", b.id(), null), other.apply(++index, b1.bytes()));
        assertEquals(Status.SESSION_EXPIRED, other.apply(++index, a1.bytes()).status());
        assertEquals(12, otherCounter.count());
    }

    /**
     * Found probing ResultCodec with an encode that returned null: the result was written as a null
     * result, so a replica restored from the snapshot answered a retry with null, the others with
     * the result. The snapshot now fails (the node goes on, and says so).
     */
    @Test
    void aCodecThatEncodesAResultAsNullFailsTheSnapshotInsteadOfLosingTheResult() {
        SessionStateMachine<String> lossy = new SessionStateMachine<>(new AddingCounter(),
                new SessionStateMachine.ResultCodec<>() {
                    @Override
                    public byte[] encode(String result) {
                        return null;
                    }

                    @Override
                    public String decode(byte[] bytes) {
                        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
                    }
                }, 2, 3);
        ClientSession session = register(lossy);
        lossy.apply(++index, session.command(add(5)).bytes());
        IllegalStateException e = assertThrows(IllegalStateException.class, lossy::snapshot);
        assertTrue(e.getMessage().contains("encoded the result of command 1 of session 1 as null"), e.getMessage());
    }

    @Test
    void aSnapshotNotWrittenBySessionsIsRefusedOnRestore() {
        byte[] foreign = {0, 0, 0, 0, 0, 0, 0, 42};
        IOException e = assertThrows(IOException.class, () -> machine.restore(new ByteArrayInputStream(foreign)));
        assertTrue(e.getMessage().contains("not a session table"), e.getMessage());
    }

    /** Replicas bounding sessions differently would apply the same commands differently. */
    @Test
    void aSnapshotWrittenUnderOtherBoundsIsRefused() throws IOException {
        register();
        byte[] snapshot = write(machine.snapshot());
        SessionStateMachine<String> other = new SessionStateMachine<>(new AddingCounter(), SessionStateMachine.ResultCodec.UTF8, 2, 4);
        IOException e = assertThrows(IOException.class, () -> other.restore(new ByteArrayInputStream(snapshot)));
        assertTrue(e.getMessage().contains("must bound sessions alike"), e.getMessage());
    }

    /** Found in review: a damaged length allocated its claimed size first (an OutOfMemoryError). */
    @Test
    void aDamagedSessionTableIsAnIOExceptionNeverAnOutOfMemoryError() throws IOException {
        assertDamaged(table(out -> {
            out.writeInt(1);
            out.writeLong(1);
            out.writeLong(1);
            out.writeInt(1);
            out.writeLong(1);
            out.writeInt(Integer.MAX_VALUE);                        // then the stream ends
        }), "ends inside a result");
        assertDamaged(table(out -> out.writeInt(3)), "session count 3");               // more than the bound
        assertDamaged(table(out -> {
            out.writeInt(2);
            for (int i = 0; i < 2; i++) {
                out.writeLong(7);                                   // the same session twice
                out.writeLong(1);
                out.writeInt(0);
            }
        }), "listed twice");
        assertDamaged(table(out -> {
            out.writeInt(1);
            out.writeLong(7);
            out.writeLong(5);
            out.writeInt(1);
            out.writeLong(4);                                       // a result below the floor
            out.writeInt(-1);
        }), "below its floor");
    }

    private interface TableBody {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] table(TableBody body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x52534E32);
        out.writeInt(2);
        out.writeInt(3);
        body.write(out);
        out.writeLong(0);                                           // the application's snapshot
        return bytes.toByteArray();
    }

    private void assertDamaged(byte[] snapshot, String expected) {
        IOException e = assertThrows(IOException.class, () -> machine.restore(new ByteArrayInputStream(snapshot)));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    static byte[] write(StateMachine.Snapshot snapshot) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snapshot.writeTo(out);
        snapshot.release();
        return out.toByteArray();
    }
}

package io.raft4j.session;

import io.raft4j.message.Bytes;
import io.raft4j.session.SessionResult.Status;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions on one replica: each command applied at most once, results kept while needed. */
class SessionStateMachineTest {

    private final AddingCounter counter = new AddingCounter();
    private final SessionStateMachine<String> machine = new SessionStateMachine<>(counter, SessionStateMachine.ResultCodec.UTF8, 2, 3);
    private long index;

    private SessionResult<String> apply(ClientSession.Command command) {
        return machine.apply(++index, command.bytes());
    }

    private static Bytes add(long n) {
        return Bytes.ofUtf8(Long.toString(n));
    }

    @Test
    void aRetriedCommandIsAppliedOnceAndAnsweredWithItsFirstResult() {
        ClientSession session = ClientSession.create();
        ClientSession.Command add5 = session.command(add(5));
        assertEquals(SessionResult.applied("5"), apply(add5));
        assertEquals(SessionResult.duplicate("5"), apply(add5), "the retry");
        assertEquals(SessionResult.duplicate("5"), apply(add5), "and another");
        assertEquals(5, counter.count());
        assertTrue(machine.apply(++index, add5.bytes()).applied());
    }

    @Test
    void commandsOfOneSessionMayCommitOutOfOrderAndEachAppliesOnce() {
        ClientSession session = ClientSession.create();
        ClientSession.Command first = session.command(add(1));
        ClientSession.Command second = session.command(add(10));
        assertEquals(SessionResult.applied("10"), apply(second), "a retry of the second reached a new leader first");
        assertEquals(SessionResult.applied("11"), apply(first));
        assertEquals(SessionResult.duplicate("10"), apply(second));
        assertEquals(11, counter.count());
    }

    @Test
    void resultsOfFinishedCommandsAreForgottenAndTheirStrayRetriesNotApplied() {
        ClientSession session = ClientSession.create();
        ClientSession.Command first = session.command(add(1));
        apply(first);
        session.finished(first);
        ClientSession.Command second = session.command(add(2));
        apply(second);                                              // tells the replicas: 1 is finished
        SessionResult<String> stray = apply(first);
        assertEquals(Status.STALE, stray.status(), "its result is no longer kept, and it is not applied again");
        assertNull(stray.value());
        assertEquals(3, counter.count());
    }

    @Test
    void theLeastRecentlyUsedSessionIsEvictedAndItsCommandsRefusedNotReapplied() {
        ClientSession a = ClientSession.create();
        ClientSession b = ClientSession.create();
        ClientSession c = ClientSession.create();
        ClientSession.Command a1 = a.command(add(1));
        apply(a1);
        a.finished(a1);
        apply(b.command(add(1)));
        apply(c.command(add(1)));                                   // a third session: a, least recently used, goes
        assertEquals(2, machine.sessionCount());
        SessionResult<String> late = apply(a.command(add(100)));
        assertEquals(Status.SESSION_EXPIRED, late.status(), late.toString());
        assertFalse(late.applied());
        assertEquals(3, counter.count());
    }

    @Test
    void aSessionHoldingTooManyUnfinishedCommandsIsEndedAndNeverReapplies() {
        ClientSession session = ClientSession.create();             // never calls finished: lowest unfinished stays 1
        ClientSession.Command first = session.command(add(1));
        apply(first);
        apply(session.command(add(1)));
        apply(session.command(add(1)));
        SessionResult<String> fourth = apply(session.command(add(1)));
        assertEquals(Status.SESSION_EXPIRED, fourth.status(), fourth.toString());
        assertEquals(Status.SESSION_EXPIRED, apply(first).status(), "a retry of an applied command is refused, not applied");
        assertEquals(3, counter.count());
    }

    @Test
    void commandsWithoutASessionApplyEveryTime() {
        Bytes plain = SessionStateMachine.withoutSession(add(2));
        assertEquals(SessionResult.applied("2"), machine.apply(1, plain));
        assertEquals(SessionResult.applied("4"), machine.apply(2, plain));
    }

    @Test
    void malformedCommandsAreAnsweredAsSuchOnEveryReplicaAndChangeNothing() {
        UUID id = UUID.randomUUID();
        Bytes framed = new ClientSession(id).command(add(7)).bytes();
        Bytes[] bad = {
                Bytes.EMPTY,
                add(7),                                                             // not framed at all
                Bytes.wrap(java.util.Arrays.copyOf(framed.unsafeArray(), 20)),      // header cut short
                SessionFrame.session(id, 0, 1, add(7)),                             // no command 0
                SessionFrame.session(id, 3, 5, add(7)),                             // lowest unfinished above itself
        };
        for (Bytes command : bad) {
            SessionResult<String> r = machine.apply(++index, command);
            assertEquals(Status.MALFORMED, r.status(), command.toString());
            assertTrue(r.detail() != null && !r.detail().isEmpty());
        }
        assertEquals(0, counter.count());
        assertEquals(0, machine.sessionCount());
    }

    @Test
    void aSnapshotCarriesTheSessionsSoARestoredReplicaAnswersRetriesTheSame() throws IOException {
        ClientSession a = ClientSession.create();
        ClientSession b = ClientSession.create();
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
        // The order of use came along: a, used least recently when the snapshot was taken, is the
        // one a new session evicts, as on the replica that took it.
        ClientSession c = ClientSession.create();
        other.apply(3, c.command(add(1)).bytes());
        assertEquals(SessionResult.duplicate("12"), other.apply(4, b1.bytes()), "a retry answered as before");
        a.finished(a1);
        assertEquals(Status.SESSION_EXPIRED, other.apply(5, a.command(add(1)).bytes()).status());
        assertEquals(13, otherCounter.count());
    }

    @Test
    void aSnapshotNotWrittenBySessionsIsRefusedOnRestore() {
        byte[] foreign = {0, 0, 0, 0, 0, 0, 0, 42};
        IOException e = assertThrows(IOException.class, () -> machine.restore(new ByteArrayInputStream(foreign)));
        assertTrue(e.getMessage().contains("not a session table"), e.getMessage());
    }

    private static byte[] write(StateMachine.Snapshot snapshot) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snapshot.writeTo(out);
        snapshot.release();
        return out.toByteArray();
    }

}

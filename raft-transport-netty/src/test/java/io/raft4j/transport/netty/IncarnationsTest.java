package io.raft4j.transport.netty;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which incarnation of a sender id is served, on a clock the test drives. */
class IncarnationsTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final Incarnations incarnations = new Incarnations(now::get);

    private static final class Conn implements Incarnations.Connection {
        boolean open = true;

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public String describe() {
            return "conn";
        }
    }

    private void advanceMillis(long ms) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    @Test
    void aNewcomerIsRefusedWhileTheServedOneSendsAndServedOnceItWentQuiet() {
        Conn old = new Conn();
        Conn newcomer = new Conn();
        assertNull(incarnations.check("n2", 1, old));
        advanceMillis(10);
        assertNotNull(incarnations.check("n2", 2, newcomer));
        advanceMillis(10);
        assertNull(incarnations.check("n2", 1, old), "the first one heard stays served");
        assertNotNull(incarnations.check("n2", 2, newcomer));

        // Its host went away, its connection left half-open: the newcomer is a restart.
        advanceMillis(TimeUnit.NANOSECONDS.toMillis(Incarnations.OVERLAP_NANOS) + 1);
        assertNull(incarnations.check("n2", 2, newcomer));
        assertNotNull(incarnations.check("n2", 1, old), "the old one, back, is the newcomer now");
    }

    @Test
    void aRestartWhosePredecessorsConnectionClosedIsServedAtOnce() {
        Conn old = new Conn();
        assertNull(incarnations.check("n2", 1, old));
        old.open = false;
        assertNull(incarnations.check("n2", 2, new Conn()));
    }

    @Test
    void framesWithoutAnIncarnationAndOtherSendersAreNotChecked() {
        assertNull(incarnations.check("n2", 1, new Conn()));
        assertNull(incarnations.check("n2", 0, new Conn()), "an older peer stamps none");
        assertNull(incarnations.check("n3", 2, new Conn()));
        assertNull(incarnations.check("n2", 1, new Conn()), "the same process on a new connection");
    }
}

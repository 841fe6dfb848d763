package io.raft4j.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The window a node keeps across its restarts, in its own ticks. */
class RestartRefusalTest {
    private static final long TICK = 100_000; // 100 ms

    @Test
    void aShorterWindowNowRefusesForTheStoredOneThenStoresTheNewOne() {
        RestartRefusal r = new RestartRefusal(2_900_000, 900_000, TICK);
        assertEquals(30, r.startupTicks(), "29 ticks of 100 ms, and one more: the first may come at once");
        assertEquals(2_900_000, r.durableMicros(), "kept while the stored window runs");
        for (int i = 0; i < 29; i++) {
            assertTrue(r.refusing());
            assertFalse(r.tick());
        }
        assertTrue(r.refusing());
        assertTrue(r.tick(), "the stored window ran out: store the shorter one");
        assertFalse(r.refusing());
        assertEquals(900_000, r.durableMicros());
        assertFalse(r.tick());
    }

    @Test
    void aLongerWindowNowIsStoredAtOnce() {
        RestartRefusal r = new RestartRefusal(900_000, 2_900_000, TICK);
        assertEquals(2_900_000, r.durableMicros(), "stored before any append answer announces it");
        assertEquals(10, r.startupTicks());
        for (int i = 0; i < 10; i++) {
            assertFalse(r.tick(), "nothing more to store when the window ends");
        }
        assertFalse(r.refusing());
    }

    @Test
    void aWindowThatIsNoWholeNumberOfTicksRoundsUp() {
        assertEquals(3, new RestartRefusal(150_000, 150_000, TICK).startupTicks());
        assertEquals(4, new RestartRefusal(3_000, 3_000, 1_000).startupTicks());
    }

    /**
     * A store may hold any window of 0 or more. Long.MAX_VALUE µs in ticks of 1 µs, plus the tick for
     * a first one at once, overflowed to a negative count, and the node refused nothing at all
     * ("expected: <true> but was: <false>"); it is taken as the longest window a node announces.
     */
    @Test
    void theLongestStoredWindowStillRefuses() {
        RestartRefusal r = new RestartRefusal(Long.MAX_VALUE, 900, 1);
        assertTrue(r.refusing());
        assertTrue(r.startupTicks() > 0, "startup ticks " + r.startupTicks());
        assertFalse(r.tick());
        assertTrue(r.refusing());
    }

    @Test
    void noStoredWindowRefusesNothingMore() {
        RestartRefusal r = new RestartRefusal(0, 900_000, TICK);
        assertEquals(0, r.startupTicks());
        assertFalse(r.refusing());
        assertFalse(r.tick());
        assertEquals(900_000, r.durableMicros());
    }

    @Test
    void checkQuorumTurnedOffStillHonoursTheStoredWindowThenStoresNone() {
        RestartRefusal r = new RestartRefusal(900_000, 0, TICK);
        assertTrue(r.refusing());
        for (int i = 0; i < 9; i++) {
            assertFalse(r.tick());
        }
        assertTrue(r.tick());
        assertEquals(0, r.durableMicros());
    }
}

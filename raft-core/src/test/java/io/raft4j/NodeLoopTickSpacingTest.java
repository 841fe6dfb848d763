package io.raft4j;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node's own loop never ticks sooner than a tick period after its last tick, a stall or not.
 * A follower counts leader stickiness (it refuses to vote for an election timeout after hearing from
 * its leader) in ticks, and a leader's lease relies on it: the lease's margin of one tick covers only
 * where between two ticks the follower heard from its leader. After a stall the loop used to tick at
 * once and again half a tick later, so a follower that heard from its leader just before such a
 * tick stopped refusing votes half a tick of real time early, which ate half the default clock drift
 * bound (and left none at a bound of 0%).
 */
class NodeLoopTickSpacingTest {
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long CLOCK_READING_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void theTickAfterAStallIsAWholeTickPeriodAfterTheLateOne() {
        TickRecordingBody body = new TickRecordingBody();
        NodeLoop loop = NodeLoop.ownThread("tick-spacing-test", body, TICK_NANOS);
        loop.start();
        try {
            LocalCluster.await(Duration.ofSeconds(10), () -> body.at.size() >= 2);
            // A stall of the loop (a long GC pause, a blocking plug-in) of three and a half periods.
            loop.execute(() -> {
                long until = System.nanoTime() + 7 * TICK_NANOS / 2;
                while (System.nanoTime() - until < 0) {
                    LockSupport.parkNanos(until - System.nanoTime());
                }
            });
            int ticksBefore = body.at.size();
            LocalCluster.await(Duration.ofSeconds(10), () -> body.at.size() >= ticksBefore + 4);
            assertTrue(body.failure == null, () -> "the loop failed: " + body.failure);
            List<Long> gaps = new ArrayList<>();
            List<Long> at = List.copyOf(body.at);
            for (int i = 1; i < at.size(); i++) {
                gaps.add(at.get(i) - at.get(i - 1));
            }
            // Less a little: the loop reads the clock a moment before it ticks.
            long shortest = TICK_NANOS - CLOCK_READING_NANOS;
            assertTrue(gaps.stream().allMatch(g -> g >= shortest), () -> "a tick came sooner than a tick period ("
                    + TICK_NANOS + " ns) after the one before; gaps in ns: " + gaps);
        } finally {
            loop.stop();
        }
    }
}

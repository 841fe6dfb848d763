package io.raft4j.examples.kv;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stop during the start closes what was opened, never a resource half-opened. */
class StartedResourcesTest {
    @Test
    void aStopWaitsForTheStepUnderWayClosesAllLastFirstAndLetsNoFurtherStepRun() throws Exception {
        StartedResources resources = new StartedResources();
        List<String> closed = new ArrayList<>();
        resources.open(() -> () -> closed.add("transport"));
        CountDownLatch stepRuns = new CountDownLatch(1);
        CountDownLatch finishStep = new CountDownLatch(1);
        CompletableFuture<AutoCloseable> step = CompletableFuture.supplyAsync(() -> resources.open(() -> {
            stepRuns.countDown();
            await(finishStep);
            return () -> closed.add("node");
        }));
        assertTrue(stepRuns.await(30, TimeUnit.SECONDS));
        Thread stop = new Thread(resources::close, "stop");
        stop.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stop.getState() != Thread.State.BLOCKED && stop.isAlive() && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // until the stop waits for the step (or, wrongly, went ahead)
        }
        assertEquals(List.of(), closed, "nothing closed under the step");
        finishStep.countDown();
        stop.join(30_000);
        assertFalse(stop.isAlive());
        step.get(30, TimeUnit.SECONDS);
        assertEquals(List.of("node", "transport"), closed);

        assertThrows(StartedResources.StoppedDuringStart.class,
                () -> resources.open(() -> { throw new AssertionError("a step after the stop ran"); }));
        resources.close();
        assertEquals(List.of("node", "transport"), closed, "closed once");
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(2, TimeUnit.MINUTES));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}

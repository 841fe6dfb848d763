package io.raft4j;

import io.raft4j.spi.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs a node's single-threaded protocol work: submitted tasks in order, a tick every period, and
 * after each batch of tasks the handling of what they produced. Either on a thread of its own
 * ({@link #ownThread}) or on an {@link EventLoop} lent by the transport ({@link #shared}).
 */
abstract class NodeLoop {
    private static final Logger LOG = LoggerFactory.getLogger(NodeLoop.class);

    /** The work the loop drives; every method is called on the loop. */
    interface Body {
        /** One tick of the logical clock. */
        void tick();

        /** Handles what the tasks so far produced; {@code true} if there was anything. */
        boolean handleReady();

        /** A task, the tick or the handling threw: the node must stop. */
        void failed(Throwable t);
    }

    /** Tasks run per batch before what they produced is handled (bounds a batch's latency). */
    static final int MAX_TASKS_PER_BATCH = 4096;

    final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    final Body body;
    final long tickNanos;
    volatile boolean running;

    NodeLoop(Body body, long tickNanos) {
        this.body = body;
        this.tickNanos = tickNanos;
    }

    static NodeLoop ownThread(String name, Body body, long tickNanos) {
        return new OwnThread(name, body, tickNanos);
    }

    static NodeLoop shared(EventLoop loop, Body body, long tickNanos) {
        return new Shared(loop, body, tickNanos);
    }

    /** Starts running; tasks submitted before run now. */
    abstract void start();

    /** Whether the calling thread is the one the loop runs on. */
    abstract boolean onLoopThread();

    /** Runs {@code task} on the loop, after the tasks submitted before it. Thread-safe. */
    abstract void execute(Runnable task);

    /**
     * Runs {@code task} on the loop, as a task, once {@code delayNanos} have passed, unless the
     * returned handle is closed first. Called on the loop only; for deadlines shorter than a tick.
     */
    abstract AutoCloseable executeAfter(Runnable task, long delayNanos);

    /**
     * Stops: no task runs once this returns (unless called from a task, which finishes). Returns the
     * tasks that never ran.
     */
    abstract List<Runnable> stop();

    /** Runs up to a batch of queued tasks; returns how many ran. */
    final int runTasks() {
        int ran = 0;
        Runnable task;
        while (running && ran < MAX_TASKS_PER_BATCH && (task = inbox.poll()) != null) {
            task.run();
            ran++;
        }
        return ran;
    }

    final List<Runnable> drainUnrun() {
        List<Runnable> left = new ArrayList<>();
        Runnable task;
        while ((task = inbox.poll()) != null) {
            left.add(task);
        }
        return left;
    }

    /** The node's own thread: parks while idle, wakes for a task or the next tick. */
    private static final class OwnThread extends NodeLoop {
        private final Thread thread;
        private volatile boolean parked;
        /** Tasks waiting for their time ({@link #executeAfter}); the loop's thread only. */
        private final PriorityQueue<Deferred> deferred = new PriorityQueue<>();
        private long deferredCount;

        OwnThread(String name, Body body, long tickNanos) {
            super(body, tickNanos);
            this.thread = new Thread(this::run, name);
            this.thread.setDaemon(true);
        }

        @Override
        void start() {
            running = true;
            thread.start();
        }

        @Override
        boolean onLoopThread() {
            return Thread.currentThread() == thread;
        }

        @Override
        void execute(Runnable task) {
            inbox.add(task);
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        AutoCloseable executeAfter(Runnable task, long delayNanos) {
            Deferred d = new Deferred(System.nanoTime() + delayNanos, deferredCount++, task);
            deferred.add(d);
            return () -> deferred.remove(d); // called on the loop, as executeAfter is
        }

        /** Queues the deferred tasks whose time has come. */
        private void queueDueTasks(long now) {
            Deferred first;
            while ((first = deferred.peek()) != null && now - first.due() >= 0) {
                inbox.add(deferred.poll().task());
            }
        }

        /** When the loop must wake: the next tick, or the first deferred task if it comes sooner. */
        private long wakeAt(long nextTick) {
            Deferred first = deferred.peek();
            return first == null || nextTick - first.due() <= 0 ? nextTick : first.due();
        }

        private void run() {
            long nextTick = System.nanoTime() + tickNanos;
            try {
                while (running) {
                    if (Thread.interrupted()) {
                        // Nothing in the runtime interrupts this thread: the flag was left by code it
                        // ran (a plug-in, a callback). Left set, every park returned at once and the
                        // idle loop spun on a core for as long as the node ran.
                        LOG.warn("{} was interrupted (not by the runtime, which never does); going on",
                                thread.getName());
                    }
                    long now = System.nanoTime();
                    if (now - nextTick >= 0) {
                        body.tick();
                        // A whole period after this tick, as the lent loop's fixed delay does: after
                        // a stall (GC, overloaded machine) one tick, not a burst that would make every
                        // timer expire at once. Nor sooner: followers count leader stickiness in ticks,
                        // which leases rely on, and a tick half a period after a late one (as this
                        // once was) ended their refusal to vote half a tick of real time early.
                        nextTick = now + tickNanos;
                    }
                    queueDueTasks(now);
                    int ran = runTasks();
                    if (body.handleReady()) {
                        continue;
                    }
                    if (ran == 0) {
                        parked = true;
                        if (inbox.isEmpty() && running) {
                            LockSupport.parkNanos(this, Math.max(0, wakeAt(nextTick) - System.nanoTime()));
                        }
                        parked = false;
                    }
                }
            } catch (Throwable t) {
                body.failed(t);
            }
        }

        @Override
        List<Runnable> stop() {
            running = false;
            LockSupport.unpark(thread);
            if (Thread.currentThread() != thread) {
                try {
                    thread.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return drainUnrun();
        }
    }

    /** A task of {@link OwnThread#executeAfter}, due at {@code due} (nanoTime); {@code seq} keeps ties in order. */
    private record Deferred(long due, long seq, Runnable task) implements Comparable<Deferred> {
        @Override
        public int compareTo(Deferred other) {
            long byDue = due - other.due;
            return byDue != 0 ? Long.signum(byDue) : Long.compare(seq, other.seq);
        }
    }

    /**
     * On the transport's event loop: a submitted task schedules one drain, which runs every task
     * queued by then and handles what they produced; tasks submitted from the loop itself (a message
     * just read from the network) need no wake-up.
     */
    private static final class Shared extends NodeLoop {
        /** Batches of ready output handled per drain before yielding the loop to network I/O. */
        private static final int MAX_READY_PER_DRAIN = 16;

        private final EventLoop loop;
        private final AtomicBoolean drainScheduled = new AtomicBoolean();
        private final Runnable drainTask = this::drain;
        private volatile boolean started;
        private AutoCloseable ticker;

        Shared(EventLoop loop, Body body, long tickNanos) {
            super(body, tickNanos);
            this.loop = loop;
        }

        @Override
        synchronized void start() {
            running = true;
            started = true;
            try {
                ticker = loop.scheduleWithFixedDelay(this::onTick, tickNanos);
            } catch (RuntimeException e) {
                refused(e);
                return;
            }
            scheduleDrain();
        }

        @Override
        boolean onLoopThread() {
            return loop.inLoop();
        }

        @Override
        void execute(Runnable task) {
            inbox.add(task);
            if (started) {
                scheduleDrain();
            }
        }

        @Override
        AutoCloseable executeAfter(Runnable task, long delayNanos) {
            return loop.schedule(() -> execute(task), delayNanos);
        }

        private void scheduleDrain() {
            if (drainScheduled.compareAndSet(false, true)) {
                try {
                    loop.execute(drainTask);
                } catch (RuntimeException e) {
                    // drainScheduled stays set: no other drain is tried, the node stops and fails what is queued.
                    refused(e);
                }
            }
        }

        /**
         * The lent loop refuses the node's work: the transport shut it down (closed before the node),
         * and nothing will run here again. The node must stop: the refusal used to be thrown at the
         * caller whose call scheduled the drain, and every later call waited for ever for one.
         */
        private void refused(RuntimeException e) {
            if (!running) {
                return; // stopping: nothing more to run
            }
            running = false;
            body.failed(new IllegalStateException("the transport's event loop refused the node's work (was the"
                    + " transport closed before the node?): " + e, e));
        }

        private void onTick() {
            if (!running) {
                return;
            }
            try {
                body.tick();
                handleAll();
            } catch (Throwable t) {
                running = false;
                body.failed(t);
            }
        }

        private void drain() {
            // Cleared first: a task queued from here on schedules the next drain itself.
            drainScheduled.set(false);
            if (!running) {
                return;
            }
            try {
                runTasks();
                handleAll();
            } catch (Throwable t) {
                running = false;
                body.failed(t);
                return;
            }
            if (!inbox.isEmpty()) {
                scheduleDrain();
            }
        }

        private void handleAll() {
            int handled = 0;
            while (running && body.handleReady()) {
                if (++handled == MAX_READY_PER_DRAIN) {
                    scheduleDrain(); // yield to network I/O; the next drain goes on
                    return;
                }
            }
        }

        @Override
        List<Runnable> stop() {
            synchronized (this) {
                running = false;
                if (ticker != null) {
                    try {
                        ticker.close();
                    } catch (Exception ignored) {
                        // cancelling a scheduled task does not fail
                    }
                }
            }
            if (started && !loop.inLoop()) {
                // Wait for a drain in progress to finish: once this barrier runs, none can start.
                CountDownLatch barrier = new CountDownLatch(1);
                try {
                    loop.execute(barrier::countDown);
                    barrier.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    // the transport's loop is already shut down: nothing runs there any more
                }
            }
            return drainUnrun();
        }
    }
}

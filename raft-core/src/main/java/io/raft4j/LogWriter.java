package io.raft4j;

import io.raft4j.core.LogCompaction;
import io.raft4j.core.SnapshotChunk;
import io.raft4j.message.HardState;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StorageException;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.spi.LogStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The node's storage thread: makes the core's writes durable, grouping every write queued while the
 * previous one was syncing into a single {@link LogStorage#append} (one sync for many proposals),
 * then releases the messages that had to wait for them.
 *
 * <p>Writes complete in submission order. A job with nothing to write still waits for the jobs
 * before it, so an acknowledgement is never sent ahead of the write it vouches for.
 */
final class LogWriter {
    /** One {@code Ready}'s worth of durable work and the messages waiting on it. */
    record Job(List<LogEntry> entries, HardState hardState, List<RaftMessage> afterPersist,
               boolean abandonReceiving, List<SnapshotChunk> chunks, LogCompaction compaction) {
    }

    /**
     * What became durable: the last entry written (or -1), the messages now free to go, the
     * received snapshots that were completed (published, or refused by their checksum), and how many
     * submitted jobs the write covered.
     */
    record Done(long lastIndex, long lastTerm, List<RaftMessage> released, List<ReceivedSnapshot> snapshots,
                int jobs) {
    }

    /** A received snapshot whose last chunk was stored: {@code published} if its checksum matched. */
    record ReceivedSnapshot(SnapshotMeta meta, boolean published) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(LogWriter.class);
    private static final int MAX_JOBS_PER_WRITE = 1024;
    /** How long {@link #stop()} waits for the storage thread to finish what was handed to it. */
    private static final long STOP_WAIT_MILLIS = 10_000;
    private static final Job STOP = new Job(List.of(), null, List.of(), false, List.of(), null);

    private final LogStorage storage;
    private final SnapshotStore snapshots;
    /** The snapshot being received from the leader; chunks arrive in order. */
    private SnapshotStore.Sink receiving;
    private final Consumer<Done> onDone;
    private final Consumer<Throwable> onFailure;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    /**
     * Jobs submitted whose write, and the sending of what it released, has not finished: taken back
     * only after {@code onDone} returns, so a caller that finds none may send at once what depends on
     * every earlier write, behind the messages those writes released.
     */
    private final AtomicInteger unfinished = new AtomicInteger();
    private final Thread thread;

    private final NodeCounters counters;
    /** {@link System#nanoTime()} when the write under way started; {@link #IDLE} between writes. */
    private volatile long writeStartedNanos = IDLE;
    /**
     * Set when {@link #stop()} gave up waiting for this thread, stuck in a write (a hung disk):
     * the node is stopped and its storage back in its embedder's hands, so once that write returns
     * the thread ends, writing nothing more and releasing nothing.
     */
    private volatile boolean abandoned;
    private static final long IDLE = Long.MIN_VALUE;

    LogWriter(String name, LogStorage storage, SnapshotStore snapshots, Consumer<Done> onDone,
              Consumer<Throwable> onFailure, NodeCounters counters) {
        this.storage = storage;
        this.counters = counters;
        this.snapshots = snapshots;
        this.onDone = onDone;
        this.onFailure = onFailure;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Whether the calling thread is the storage thread. */
    boolean onItsThread() {
        return Thread.currentThread() == thread;
    }

    void submit(Job job) {
        unfinished.incrementAndGet();
        queue.add(job);
    }

    /** Whether every job submitted so far is written and its released messages sent. */
    boolean idle() {
        return unfinished.get() == 0;
    }

    /**
     * Performs {@code job} on the calling thread (the event loop) and returns what became durable.
     * The caller must not do so while submitted jobs are outstanding: writes complete in call
     * order only.
     */
    Done writeNow(Job job) throws IOException {
        return write(List.of(job));
    }

    /**
     * How long the write under way on the storage thread has lasted, in nanoseconds, or 0 if none
     * is: every write submitted since waits behind it, so this is how long the oldest unfinished one
     * has waited at least.
     */
    long writeUnderWayNanos() {
        long started = writeStartedNanos;
        return started == IDLE ? 0 : Math.max(0, System.nanoTime() - started);
    }

    void stop() {
        queue.add(STOP);
        try {
            thread.join(STOP_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            // Left running, it wrote the jobs queued behind its hung write once that returned, to
            // a storage its embedder may have closed or given to the node that replaces this one,
            // and sent their acknowledgements for a node that had stopped.
            abandoned = true;
            LOG.warn("{}: the storage thread is still in a write after {} ms (a hung disk?); the node stops"
                    + " without it, and it ends, writing nothing more, once that write returns",
                    thread.getName(), STOP_WAIT_MILLIS);
        }
    }

    /**
     * Abandons a snapshot being received (its temporary file goes with it): when the core gave its
     * transfer up, or once the node's loop and this writer have stopped (the only threads that
     * touch it).
     */
    void abandonReceiving() {
        if (receiving != null) {
            receiving.close();
            receiving = null;
        }
    }

    private void run() {
        List<Job> batch = new ArrayList<>();
        try {
            while (true) {
                batch.clear();
                try {
                    batch.add(queue.take());
                } catch (InterruptedException e) {
                    // Nothing in the runtime interrupts this thread (stop() queues STOP): the flag was
                    // left by the storage or set by a stranger. Taken as the order to end, it ended the
                    // thread silently, and the node ran on with nothing written again.
                    LOG.warn("{}: the storage thread was interrupted (not by the runtime, which never does);"
                            + " going on", thread.getName());
                    continue;
                }
                queue.drainTo(batch, MAX_JOBS_PER_WRITE - 1);
                boolean stop = batch.remove(STOP);
                if (abandoned) {
                    return;
                }
                if (!batch.isEmpty()) {
                    writeStartedNanos = System.nanoTime();
                    Done done;
                    try {
                        done = write(batch);
                    } finally {
                        writeStartedNanos = IDLE;
                    }
                    if (abandoned) {
                        return; // the node stopped without this write: nobody is to hear of it
                    }
                    onDone.accept(done);
                    unfinished.addAndGet(-batch.size());
                }
                if (stop) {
                    return;
                }
            }
        } catch (Throwable t) {
            onFailure.accept(t);
        }
    }

    private Done write(List<Job> jobs) throws IOException {
        List<LogEntry> merged = new ArrayList<>();
        HardState hardState = null;
        List<RaftMessage> released = new ArrayList<>();
        List<ReceivedSnapshot> received = new ArrayList<>();
        for (Job job : jobs) {
            for (SnapshotChunk chunk : job.chunks()) {
                storeChunk(chunk, received);
            }
            // After the job's chunks, not before: the core gives a transfer up as it hands out its
            // effects, so the chunks in the same job were accepted before that, possibly for the very
            // transfer given up (a chunk and a new leader's message stepped in one batch). Abandoning
            // first stored such a chunk into no sink ("out of order", which stopped the node), or
            // opened a sink for a first chunk that nobody would close.
            if (job.abandonReceiving()) {
                abandonReceiving();
            }
            // A compaction or reset must not overtake the writes before it, nor be overtaken by the
            // entries after it: what is merged so far is flushed first. A reset restarts the log, and
            // the job's entries were accepted after it, so they follow it. A compaction keeps what
            // follows its point, and the job's entries may lie before it (a snapshot from the leader
            // that matches entries accepted in the same batch): they are written first. Compacting
            // first left a log ending before them empty past the point, and they no longer fit it.
            LogCompaction c = job.compaction();
            if (c != null && c.discardAll()) {
                flush(merged, hardState);
                merged.clear();
                hardState = null;
                storage.reset(c.index(), c.term());
            }
            appendReplacingSuffix(merged, job.entries());
            if (job.hardState() != null) {
                hardState = job.hardState();
            }
            if (c != null && !c.discardAll()) {
                flush(merged, hardState);
                merged.clear();
                hardState = null;
                storage.compact(c.index(), c.term());
            }
            released.addAll(job.afterPersist());
        }
        flush(merged, hardState);
        LogEntry last = lastWritten;
        lastWritten = null;
        return new Done(last == null ? -1 : last.index(), last == null ? -1 : last.term(), released, received,
                jobs.size());
    }

    private LogEntry lastWritten;

    private void flush(List<LogEntry> entries, HardState hardState) {
        if (!entries.isEmpty() || hardState != null) {
            long start = System.nanoTime();
            storage.append(entries, hardState);
            long nanos = System.nanoTime() - start;
            long bytes = 0;
            for (LogEntry e : entries) {
                bytes += e.data().length();
            }
            counters.logWrite(entries.size(), bytes, nanos);
        }
        if (!entries.isEmpty()) {
            lastWritten = entries.get(entries.size() - 1);
        }
    }

    private void storeChunk(SnapshotChunk chunk, List<ReceivedSnapshot> received) throws IOException {
        try {
            storeChunkOrThrow(chunk, received);
        } catch (IOException e) {
            // Said alone ("No space left on device"), it left the operator to guess which write failed.
            throw new IOException("storing the snapshot at " + chunk.meta().lastIndex() + " received from the leader"
                    + " (chunk at offset " + chunk.offset() + ") failed: " + e.getMessage(), e);
        }
    }

    private void storeChunkOrThrow(SnapshotChunk chunk, List<ReceivedSnapshot> received) throws IOException {
        if (chunk.offset() == 0) {
            if (receiving != null) {
                receiving.close();
            }
            receiving = snapshots.begin(chunk.meta());
        }
        if (receiving == null || receiving.written() != chunk.offset()) {
            throw new IllegalStateException("snapshot chunk at " + chunk.offset() + " out of order");
        }
        receiving.out().write(chunk.data().unsafeArray(), 0, chunk.data().length());
        if (chunk.last()) {
            boolean published;
            try {
                receiving.publish(chunk.checksum());
                published = true;
            } catch (StorageException e) {
                published = false; // a corrupted transfer: the leader will send it again
            } finally {
                receiving.close();
                receiving = null;
            }
            received.add(new ReceivedSnapshot(chunk.meta(), published));
        }
    }

    /** A later job may replace a suffix an earlier one wrote (a follower's log being overwritten). */
    private static void appendReplacingSuffix(List<LogEntry> merged, List<LogEntry> next) {
        if (next.isEmpty()) {
            return;
        }
        if (!merged.isEmpty()) {
            long first = next.get(0).index();
            long mergedFirst = merged.get(0).index();
            if (first <= mergedFirst) {
                merged.clear();
            } else if (first <= merged.get(merged.size() - 1).index()) {
                merged.subList((int) (first - mergedFirst), merged.size()).clear();
            }
        }
        merged.addAll(next);
    }
}

package io.raft4j;

import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.spi.LogStorage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
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
    record Job(List<LogEntry> entries, HardState hardState, List<RaftMessage> afterPersist) {
    }

    /** What became durable: the last entry written (or -1) and the messages now free to go. */
    record Done(long lastIndex, long lastTerm, List<RaftMessage> released) {
    }

    private static final int MAX_JOBS_PER_WRITE = 1024;
    private static final Job STOP = new Job(List.of(), null, List.of());

    private final LogStorage storage;
    private final Consumer<Done> onDone;
    private final Consumer<Throwable> onFailure;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread thread;

    LogWriter(String name, LogStorage storage, Consumer<Done> onDone, Consumer<Throwable> onFailure) {
        this.storage = storage;
        this.onDone = onDone;
        this.onFailure = onFailure;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void submit(Job job) {
        queue.add(job);
    }

    void stop() {
        queue.add(STOP);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        List<Job> batch = new ArrayList<>();
        try {
            while (true) {
                batch.clear();
                batch.add(queue.take());
                queue.drainTo(batch, MAX_JOBS_PER_WRITE - 1);
                boolean stop = batch.remove(STOP);
                if (!batch.isEmpty()) {
                    write(batch);
                }
                if (stop) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            onFailure.accept(t);
        }
    }

    private void write(List<Job> jobs) {
        List<LogEntry> merged = new ArrayList<>();
        HardState hardState = null;
        List<RaftMessage> released = new ArrayList<>();
        for (Job job : jobs) {
            appendReplacingSuffix(merged, job.entries());
            if (job.hardState() != null) {
                hardState = job.hardState();
            }
            released.addAll(job.afterPersist());
        }
        if (!merged.isEmpty() || hardState != null) {
            storage.append(merged, hardState);
        }
        LogEntry last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
        onDone.accept(new Done(last == null ? -1 : last.index(), last == null ? -1 : last.term(), released));
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

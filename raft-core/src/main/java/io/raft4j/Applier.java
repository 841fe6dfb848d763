package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.message.EntryType;
import io.raft4j.message.LogEntry;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import io.raft4j.spi.StateMachine;
import io.raft4j.spi.StorageException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;

/**
 * The node's apply thread: applies committed entries to the {@link StateMachine} in order, completes
 * the proposers' futures, and serves read-index queries once the state has caught up with their
 * read index. Keeps a slow state machine from stalling the Raft event loop; a state machine whose
 * applies are quick may instead be applied inline, on the event loop, saving a thread hand-off per
 * batch of commits.
 *
 * @param <R> the state machine's result type
 */
final class Applier<R> {
    /** A proposal awaiting the apply of its entry. */
    record PendingProposal<R>(long term, CompletableFuture<R> future) {
    }

    /** A confirmed read waiting for the state machine to reach {@code readIndex}. */
    record PendingQuery<R>(long readIndex, Bytes query, CompletableFuture<R> future) {
    }

    /** A query in {@link #waitingQueries}, ordered by read index, then {@code arrival}. */
    private record WaitingQuery<R>(PendingQuery<R> query, long arrival) implements Comparable<WaitingQuery<R>> {
        @Override
        public int compareTo(WaitingQuery<R> other) {
            int byIndex = Long.compare(query.readIndex(), other.query.readIndex());
            return byIndex != 0 ? byIndex : Long.compare(arrival, other.arrival);
        }
    }

    private sealed interface Task permits ApplyTask, StopTask, RestoreTask, SnapshotTask, NoticeTask, PolicyTask {
    }

    /** Looks again whether a snapshot is due, now that the one being written when it was last asked is written. */
    private record PolicyTask() implements Task {
    }

    private record NoticeTask(List<LeadershipEvent> events) implements Task {
    }

    private record RestoreTask(SnapshotMeta meta) implements Task {
    }

    /**
     * A snapshot asked for, which must cover at least index {@code atLeast} (what was applied when it
     * was asked for); {@code loop} runs tasks on the event loop, to ask again after a running one.
     */
    private record SnapshotTask(CompletableFuture<SnapshotMeta> future, Executor loop, long atLeast) implements Task {
    }

    /** Entries to apply (of {@code bytes} payload bytes) and the queries to serve after them. */
    private record ApplyTask(List<LogEntry> entries, List<? extends PendingQuery<?>> queries, long bytes)
            implements Task {
    }

    private record StopTask() implements Task {
    }

    private static final Logger LOG = LoggerFactory.getLogger(Applier.class);

    private final StateMachine<R> stateMachine;
    private final Map<Long, PendingProposal<R>> proposals = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    /**
     * Confirmed reads waiting for the state machine to reach their read index: lowest index first,
     * then in arrival order. Not one line in arrival order: a stale query (index 0) behind a
     * linearizable one waiting for entries this node has not received yet would wait with it, for
     * as long as the node lags; and served by index, each apply looks only at the reads it readies.
     * The apply thread alone adds and takes; thread-safe so that {@link #stop} may fail them while
     * that thread is stuck in the state machine.
     */
    private final PriorityBlockingQueue<WaitingQuery<R>> waitingQueries = new PriorityBlockingQueue<>();
    /** Arrival order of the waiting reads, to serve those of one read index first come first served. */
    private long queriesArrived;
    private final Consumer<Throwable> onFailure;
    private final LeadershipNotifier leadership;
    private final NodeCounters counters;
    private final ApplyBacklog backlog;
    /** The apply thread; {@code null} when applying inline on the event loop. */
    private final Thread thread;
    private volatile long appliedIndex;
    private long appliedTerm;
    private ClusterConfig appliedConfig = ClusterConfig.EMPTY;

    private final SnapshotStore snapshots;
    private final RaftConfig settings;
    private final Consumer<SnapshotMeta> onSnapshotTaken;
    private final ExecutorService snapshotWriter;
    /** How long the snapshot thread waits for another snapshot before it ends (a new one starts then). */
    static final long SNAPSHOT_THREAD_IDLE_MILLIS = 2_000;
    /** Why the node stopped, for the apply thread to fail the queries still waiting when it ends. */
    private volatile RuntimeException stopError;
    /** The snapshot writer's thread, once it has one: {@link #stop} must not wait for it from it. */
    private volatile Thread snapshotThread;
    private final AtomicBoolean snapshotInProgress = new AtomicBoolean();
    /** Completes when the snapshot being written is published (or fails); set before the flag above. */
    private volatile CompletableFuture<SnapshotMeta> snapshotWrite = CompletableFuture.completedFuture(null);
    /** The index {@code snapshotWrite} covers (apply thread only); a restore may move past it. */
    private long snapshotWriteIndex;
    private long lastSnapshotIndex;
    private long bytesSinceSnapshot;
    /** Runs tasks on the event loop (to look at the snapshot policy again once a write ends). */
    private final Executor loop;
    /** A {@link PolicyTask} will come once the running snapshot is written (apply thread only). */
    private boolean policyAskedAgain;

    /**
     * @param inline  apply on the caller's thread (the event loop) instead of a thread of its own
     * @param backlog what waits for the apply thread (unused inline)
     * @param loop    runs a task on the event loop
     */
    Applier(String name, StateMachine<R> stateMachine, SnapshotStore snapshots, RaftConfig settings,
            Consumer<SnapshotMeta> onSnapshotTaken, Consumer<Throwable> onFailure, LeadershipNotifier leadership,
            boolean inline, NodeCounters counters, ApplyBacklog backlog, Executor loop) {
        this.stateMachine = stateMachine;
        this.loop = loop;
        this.backlog = backlog;
        this.counters = counters;
        this.leadership = leadership;
        this.snapshots = snapshots;
        this.settings = settings;
        this.onSnapshotTaken = onSnapshotTaken;
        this.onFailure = onFailure;
        if (inline) {
            this.thread = null;
        } else {
            this.thread = new Thread(this::run, name);
            this.thread.setDaemon(true);
        }
        // Its thread ends after a while idle: snapshots come minutes apart, and a process hosting
        // hundreds of groups kept one idle thread per group for good once each had taken one.
        ThreadPoolExecutor writer = new ThreadPoolExecutor(1, 1, SNAPSHOT_THREAD_IDLE_MILLIS, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, name.replace("raft-apply-", "raft-snapshot-"));
                    t.setDaemon(true);
                    snapshotThread = t;
                    return t;
                });
        writer.allowCoreThreadTimeOut(true);
        this.snapshotWriter = writer;
    }

    void start() {
        if (thread != null) {
            thread.start();
        }
    }

    /** Whether the calling thread is the apply thread or the snapshot thread. */
    boolean onItsThreads() {
        Thread current = Thread.currentThread();
        return current == thread || current == snapshotThread;
    }

    long appliedIndex() {
        return appliedIndex;
    }

    /** Registers the future of a proposal accepted at ({@code index}, {@code term}). */
    void expect(long index, long term, CompletableFuture<R> future) {
        proposals.put(index, new PendingProposal<>(term, future));
    }

    /** A membership change waiting for its final configuration to be applied. */
    private record ConfigWaiter(long fromIndex, ClusterConfig target, CompletableFuture<ClusterConfig> future) {
    }

    private final Queue<ConfigWaiter> configWaiters = new ConcurrentLinkedQueue<>();

    /**
     * Completes {@code future} when a simple configuration is applied at or after {@code fromIndex}:
     * with it if its members are {@code target}'s, else with an error (another change won).
     */
    void expectConfig(long fromIndex, ClusterConfig target, CompletableFuture<ClusterConfig> future) {
        configWaiters.add(new ConfigWaiter(fromIndex, target, future));
    }

    private void onConfigApplied(long index, ClusterConfig config) {
        if (config.isJoint()) {
            return;
        }
        configWaiters.removeIf(w -> {
            if (index < w.fromIndex()) {
                return false;
            }
            settle(w, config, "the configuration at " + index);
            return true;
        });
    }

    /** Completes a membership change with the configuration it ended in, or fails it if another won. */
    private static void settle(ConfigWaiter w, ClusterConfig outcome, String which) {
        if (outcome.voters().equals(w.target().voters()) && outcome.learners().equals(w.target().learners())) {
            w.future().complete(outcome);
        } else {
            w.future().completeExceptionally(new IndeterminateException(which + " is not the one requested"));
        }
    }

    /**
     * Leadership was lost: fails what may never be committed, keeps or settles what already is.
     * Proposals up to {@code committedIndex} complete when applied, as on a leader. A membership
     * change whose outcome is committed ({@code committedOutcome} of its first index: the first
     * committed simple configuration from there) is settled with it now, without waiting for its
     * apply (a leader that removed itself steps down exactly then, and may stop before applying).
     */
    void failUndecided(RuntimeException error, long committedIndex, LongFunction<ClusterConfig> committedOutcome) {
        ConfigWaiter w;
        while ((w = configWaiters.poll()) != null) {
            ClusterConfig outcome = committedOutcome.apply(w.fromIndex());
            if (outcome == null) {
                w.future().completeExceptionally(error);
            } else {
                settle(w, outcome, "the configuration committed");
            }
        }
        failProposals(index -> index > committedIndex, index -> error);
    }

    /** Fails every proposal and membership change still waiting (the node is stopping). */
    void failAllProposals(RuntimeException error) {
        failConfigWaiters(from -> true, from -> error);
        failProposals(index -> true, index -> error);
    }

    /** Fails the proposals waiting at the indexes {@code which} selects, each with its {@code error}. */
    private void failProposals(LongPredicate which, LongFunction<RuntimeException> error) {
        for (Long index : proposals.keySet()) {
            if (which.test(index)) {
                PendingProposal<R> p = proposals.remove(index);
                if (p != null) {
                    p.future().completeExceptionally(error.apply(index));
                }
            }
        }
    }

    /** Fails the membership changes whose first index {@code which} selects, each with its {@code error}. */
    private void failConfigWaiters(LongPredicate which, LongFunction<RuntimeException> error) {
        configWaiters.removeIf(w -> {
            if (!which.test(w.fromIndex())) {
                return false;
            }
            w.future().completeExceptionally(error.apply(w.fromIndex()));
            return true;
        });
    }

    /**
     * Applies {@code entries} in order, then serves {@code queries} once applied far enough. On the
     * apply thread, the entries' bytes count in {@link #backlog} until they are applied.
     */
    void submit(List<LogEntry> entries, List<PendingQuery<R>> queries) {
        long bytes = 0;
        if (thread != null) {
            for (LogEntry e : entries) {
                bytes += e.sizeBytes();
            }
            backlog.queued(bytes);
        }
        enqueue(new ApplyTask(entries, queries, bytes));
    }

    /** Hands leadership changes to the listener, in order with applies. */
    void submitNotice(List<LeadershipEvent> events) {
        if (!events.isEmpty()) {
            enqueue(new NoticeTask(events));
        }
    }

    /** Replaces the state with the stored snapshot covering {@code meta}, in order with applies. */
    void submitRestore(SnapshotMeta meta) {
        enqueue(new RestoreTask(meta));
    }

    /**
     * Takes a snapshot now (in order with applies); completes with what it covers, which is at least
     * everything applied before the request. If one is being written, the request joins it when it
     * covers that, else asks again (through {@code loop}, the event loop) once it is written. Call it
     * on the event loop.
     */
    void requestSnapshot(CompletableFuture<SnapshotMeta> future, Executor loop) {
        enqueue(new SnapshotTask(future, loop, appliedIndex));
    }

    void stop(RuntimeException error) {
        stopError = error;
        if (thread != null) {
            queue.add(new StopTask());
        }
        // Not when a callback on the apply thread closes the node: it would wait for itself.
        if (thread != null && Thread.currentThread() != thread) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (thread != null && !thread.isAlive()) {
            // A failure ended the apply thread before it took these: the listener still hears that
            // leadership stopped (started and stopped always pair up), here, as nothing runs there now.
            for (Task t : queue) {
                if (t instanceof NoticeTask n) {
                    for (LeadershipEvent event : n.events()) {
                        try {
                            leadership.handle(event);
                        } catch (RuntimeException | Error e) {
                            // A listener's Error (its RuntimeExceptions are caught and said already):
                            // on the thread stopping the node, it must not cut the stop short.
                            LOG.error("{}: the leadership listener failed while the node stopped", settings.nodeId(), e);
                        }
                    }
                }
            }
        }
        snapshotWriter.shutdown();
        // Not when a callback on the snapshot thread closes the node (a takeSnapshot() future
        // completes there): it waited 30 seconds for itself, holding the node, before stopping on.
        if (Thread.currentThread() != snapshotThread) {
            try {
                snapshotWriter.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        failAllProposals(error);
        // Also when the apply thread is still busy (this is a callback on it, or the wait above ran
        // out: an apply that hangs): left to that thread to fail as it ends, a read waited for as long
        // as the apply hung. The iteration is over a copy, and a read it fails that the thread then
        // serves stays failed.
        failWaitingQueries(error);
        for (Task t : queue) {
            if (t instanceof ApplyTask a) {
                for (PendingQuery<?> q : a.queries()) {
                    q.future().completeExceptionally(error);
                }
            } else if (t instanceof SnapshotTask s) {
                s.future().completeExceptionally(error);
            }
        }
    }

    private void run() {
        try {
            while (true) {
                Task task;
                try {
                    task = queue.take();
                } catch (InterruptedException e) {
                    // Nothing in the runtime interrupts this thread (stop() queues a StopTask): the flag
                    // was left by the state machine or a listener, or set by a stranger. Taken as the
                    // order to end, it ended the thread silently, and the node ran on applying nothing.
                    LOG.warn("{}: the apply thread was interrupted (not by the runtime, which never does);"
                            + " going on", settings.nodeId());
                    continue;
                }
                if (task instanceof StopTask) {
                    return;
                }
                process(task);
            }
        } catch (Throwable t) {
            onFailure.accept(t);
        } finally {
            // The queries still waiting once the node stopped fail: stop() failed those waiting when
            // it ran, this thread may have taken more in since.
            RuntimeException stopped = stopError;
            if (stopped != null) {
                failWaitingQueries(stopped);
            }
        }
    }

    /** Runs {@code task} on the apply thread, or at once on the caller's (the event loop's) if inline. */
    private void enqueue(Task task) {
        if (thread != null) {
            queue.add(task);
            return;
        }
        try {
            process(task);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private void process(Task task) throws IOException {
        if (task instanceof RestoreTask r) {
            restore(r.meta());
            return;
        }
        if (task instanceof SnapshotTask s) {
            if (!takeSnapshot(s.future())) {
                awaitRunningSnapshot(s);
            }
            return;
        }
        if (task instanceof NoticeTask n) {
            n.events().forEach(leadership::handle);
            return;
        }
        if (task instanceof PolicyTask) {
            policyAskedAgain = false;
            snapshotIfDue();
            return;
        }
        ApplyTask a = (ApplyTask) task;
        // Queued before applying: if an apply throws, the node stops and fails what is waiting here.
        for (PendingQuery<?> q : a.queries()) {
            waitingQueries.add(new WaitingQuery<>((PendingQuery<R>) q, queriesArrived++));
        }
        applyAll(a.entries());
        backlog.applied(a.bytes());
        serveQueries();
        snapshotIfDue();
    }

    /**
     * Takes a snapshot if {@link RaftConfig#snapshotEveryEntries()} or {@link RaftConfig#snapshotEveryBytes()}
     * say one is due. If one is being written, asks again once it is: not at the next apply, which
     * never comes once the writes stop (the log then stayed uncompacted behind the older snapshot).
     */
    private void snapshotIfDue() {
        if (appliedIndex - lastSnapshotIndex < settings.snapshotEveryEntries()
                && bytesSinceSnapshot < settings.snapshotEveryBytes()) {
            return;
        }
        if (!takeSnapshot(null) && !policyAskedAgain) {
            // The running write is the one in snapshotWrite (set by this thread with the flag), and
            // it completes after the flag is down, so the snapshot asked for then is taken.
            policyAskedAgain = true;
            snapshotWrite.whenComplete((meta, error) -> loop.execute(() -> enqueue(new PolicyTask())));
        }
    }

    private void applyAll(List<LogEntry> entries) {
        for (LogEntry e : entries) {
            if (e.index() != appliedIndex + 1) {
                throw new IllegalStateException("apply out of order: " + e.index() + " after " + appliedIndex);
            }
            R result = null;
            if (e.type() == EntryType.COMMAND) {
                result = stateMachine.apply(e.index(), e.data());
                // Counted before the caller's future completes, so what it then reads includes it.
                counters.commandApplied();
            }
            if (e.type() == EntryType.CONFIG) {
                appliedConfig = ClusterConfig.decode(e.data());
                onConfigApplied(e.index(), appliedConfig);
            }
            appliedTerm = e.term();
            bytesSinceSnapshot += e.sizeBytes();
            appliedIndex = e.index();
            if (e.type() == EntryType.NOOP) {
                leadership.noopApplied(e.term());
            }
            PendingProposal<R> p = proposals.remove(e.index());
            if (p == null) {
                continue;
            }
            if (p.term() == e.term() && e.type() == EntryType.COMMAND) {
                p.future().complete(result);
            } else {
                // Another leader's entry took this index: ours was never committed.
                p.future().completeExceptionally(new IndeterminateException(
                        "entry " + e.index() + " was replaced by a later leader"));
            }
        }
    }

    private void restore(SnapshotMeta meta) throws IOException {
        try (InputStream in = snapshots.open(meta.lastIndex())) {
            stateMachine.restore(in);
        }
        appliedIndex = meta.lastIndex();
        appliedTerm = meta.lastTerm();
        appliedConfig = meta.config();
        lastSnapshotIndex = meta.lastIndex();
        bytesSinceSnapshot = 0;
        failWaitersCoveredBy(meta.lastIndex());
        serveQueries();
    }

    /**
     * Proposals and membership changes of a former leadership, committed but not applied here one by
     * one: a snapshot now covers them, so their results will never be computed on this node.
     */
    private void failWaitersCoveredBy(long index) {
        failConfigWaiters(from -> from <= index, from -> new IndeterminateException("the membership change from "
                + from + " was applied here from a snapshot of the leader's: its outcome is not known on this node"));
        failProposals(proposed -> proposed <= index, proposed -> new IndeterminateException("the entry at " + proposed
                + " was applied here from a snapshot of the leader's: its result is not known on this node"));
    }

    /**
     * A request made while a snapshot is being written: that one answers it if it covers what the
     * request needs; else the request is made again once it is written. Asked again, it needs no
     * more than at first, so a snapshot the policy started meanwhile answers it: the policy cannot
     * keep a request waiting for ever.
     */
    private void awaitRunningSnapshot(SnapshotTask request) {
        CompletableFuture<SnapshotMeta> running = snapshotWrite;
        if (snapshotWriteIndex >= request.atLeast()) {
            running.whenComplete((meta, error) -> settle(request.future(), meta, error));
        } else {
            running.whenComplete((meta, error) -> request.loop().execute(() -> enqueue(request)));
        }
    }

    /**
     * Fixes a point-in-time view on this thread (quick), then writes it on the snapshot thread while
     * applies go on. One snapshot at a time: returns {@code false}, doing nothing, while one is being
     * written (the policy asks again at its next trigger; see {@link #awaitRunningSnapshot} for
     * requests).
     */
    private boolean takeSnapshot(CompletableFuture<SnapshotMeta> requested) {
        if (!snapshotInProgress.compareAndSet(false, true)) {
            return false;
        }
        StateMachine.Snapshot view;
        try {
            view = appliedIndex == 0 ? null : stateMachine.snapshot();
        } catch (Error e) {
            // Stops the node (see run()); the request was taken off the queue, so stop() cannot fail it.
            if (requested != null) {
                requested.completeExceptionally(e);
            }
            throw e;
        } catch (RuntimeException e) {
            snapshotInProgress.set(false);
            lastSnapshotIndex = appliedIndex; // tried again at the next interval, not at every apply
            bytesSinceSnapshot = 0;
            snapshotFailed(appliedIndex, e);
            if (requested != null) {
                requested.completeExceptionally(e);
            }
            return true;
        }
        if (view == null) {
            snapshotInProgress.set(false);
            lastSnapshotIndex = appliedIndex; // unsupported: do not ask again until the next interval
            bytesSinceSnapshot = 0;
            if (requested != null) {
                requested.completeExceptionally(new UnsupportedOperationException(
                        appliedIndex == 0 ? "nothing applied yet" : "the state machine does not support snapshots"));
            }
            return true;
        }
        SnapshotMeta meta = new SnapshotMeta(appliedIndex, appliedTerm, appliedConfig);
        lastSnapshotIndex = appliedIndex;
        bytesSinceSnapshot = 0;
        CompletableFuture<SnapshotMeta> written = new CompletableFuture<>();
        snapshotWrite = written;
        snapshotWriteIndex = meta.lastIndex();
        try {
            snapshotWriter.execute(() -> {
                Throwable failure = null;
                try (SnapshotStore.Sink sink = snapshots.begin(meta)) {
                    view.writeTo(sink.out());
                    sink.publish(null);
                    onSnapshotTaken.accept(meta);
                } catch (Exception e) {
                    failure = new StorageException("taking snapshot at " + meta.lastIndex() + " failed: " + e, e);
                    snapshotFailed(meta.lastIndex(), e);
                } catch (Throwable t) { // an Error (out of memory...): the node cannot be trusted to go on
                    failure = t;
                    onFailure.accept(new StorageException("taking snapshot at " + meta.lastIndex() + " failed", t));
                } finally {
                    release(view, meta.lastIndex());
                    snapshotInProgress.set(false);
                }
                // After the flag is down, so that a request waiting on this one and asking again is served.
                if (requested != null) {
                    settle(requested, meta, failure);
                }
                settle(written, meta, failure);
            });
        } catch (RejectedExecutionException e) {
            // stop() shut the writer down while this thread still applies what it was handed before:
            // a callback on it closed the node, or stop() gave up waiting for it. The throw used to
            // end the apply thread with the view never released (a RocksDB snapshot held for ever)
            // and the notice that the leadership ended, queued behind, never delivered.
            release(view, meta.lastIndex());
            snapshotInProgress.set(false);
            RaftStoppedException stopped = new RaftStoppedException(
                    "the node stopped before the snapshot at " + meta.lastIndex() + " was written", e);
            if (requested != null) {
                requested.completeExceptionally(stopped);
            }
            written.completeExceptionally(stopped);
        }
        return true;
    }

    /**
     * Releases a snapshot's view. One whose release threw used to skip the rest of the writer's
     * task: no snapshot was ever taken again (the log grew without end) and takeSnapshot() callers
     * waited for ever. The snapshot is written by then, so a throwing release is said, not rethrown.
     */
    private void release(StateMachine.Snapshot view, long index) {
        try {
            view.release();
        } catch (RuntimeException e) {
            LOG.error("{}: releasing the state machine's view of snapshot {} failed (the snapshot itself is written)",
                    settings.nodeId(), index, e);
        } catch (Error e) {
            onFailure.accept(e);
        }
    }

    /**
     * A snapshot could not be taken. The node goes on: its log is intact, only not compacted, and the
     * next interval tries again. Stopping instead would stop every replica at once on a bug in the
     * state machine's snapshot code, since they all reach the interval at about the same entry.
     */
    private void snapshotFailed(long index, Exception e) {
        counters.snapshotsFailed.incrementAndGet();
        LOG.error("{}: taking a snapshot at {} failed; the log stays uncompacted until one succeeds (tried again"
                + " after {} more entries)", settings.nodeId(), index, settings.snapshotEveryEntries(), e);
    }

    private static void settle(CompletableFuture<SnapshotMeta> future, SnapshotMeta meta, Throwable failure) {
        if (failure != null) {
            future.completeExceptionally(failure);
        } else {
            future.complete(meta);
        }
    }

    /** Fails the waiting queries without taking them off the queue, which only the apply thread does. */
    private void failWaitingQueries(RuntimeException error) {
        for (WaitingQuery<R> w : waitingQueries) {
            w.query().future().completeExceptionally(error);
        }
    }

    /** Serves every waiting query whose read index is applied. */
    private void serveQueries() {
        while (!waitingQueries.isEmpty() && waitingQueries.peek().query().readIndex() <= appliedIndex) {
            PendingQuery<R> q = waitingQueries.poll().query();
            try {
                R answer = stateMachine.query(q.query());
                counters.readsServed.incrementAndGet();
                q.future().complete(answer);
            } catch (RuntimeException e) {
                q.future().completeExceptionally(e);
            } catch (Error e) {
                // Stops the node; this query was taken off the list, so stop() would not fail it.
                q.future().completeExceptionally(e);
                throw e;
            }
        }
    }
}

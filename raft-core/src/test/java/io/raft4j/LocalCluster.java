package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.StateMachine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/** A cluster of real {@link RaftNode}s on the in-memory transport, for runtime tests. */
final class LocalCluster implements AutoCloseable {
    /** Records every applied command; answers a query with the number applied. */
    static final class RecordingStateMachine implements StateMachine<String> {
        final List<String> applied = new CopyOnWriteArrayList<>();

        @Override
        public String apply(long index, Bytes command) {
            applied.add(command.toUtf8());
            return "applied:" + command.toUtf8();
        }

        @Override
        public String query(Bytes query) {
            return Integer.toString(applied.size());
        }

        @Override
        public Snapshot snapshot() {
            List<String> view = List.copyOf(applied);  // small state: copy on the apply thread
            return out -> out.write(String.join("\n", view).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void restore(java.io.InputStream in) throws java.io.IOException {
            String content = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            applied.clear();
            if (!content.isEmpty()) {
                applied.addAll(List.of(content.split("\n")));
            }
        }
    }

    /** Records a node's {@code leaderStarted} and {@code leaderStopped} notices: "started T", "stopped T". */
    static final class StartStopNotices implements LeadershipListener {
        final List<String> notices = new CopyOnWriteArrayList<>();

        @Override
        public void leaderStarted(long term) {
            notices.add("started " + term);
        }

        @Override
        public void leaderStopped(long term) {
            notices.add("stopped " + term);
        }
    }

    /**
     * Records the leadership notices a node gets, each with how many commands its state machine had
     * applied at that moment, e.g. {@code "started 3 at 20"}; throws after recording when told to.
     */
    static final class RecordingListener implements LeadershipListener {
        final List<String> notices = new CopyOnWriteArrayList<>();
        private final RecordingStateMachine stateMachine;
        volatile boolean throwing;

        RecordingListener(RecordingStateMachine stateMachine) {
            this.stateMachine = stateMachine;
        }

        @Override
        public void leaderStarted(long term) {
            record("started " + term);
        }

        @Override
        public void leaderStopped(long term) {
            record("stopped " + term);
        }

        @Override
        public void leaderChanged(String leaderId, long term) {
            record("leader " + leaderId + " " + term);
        }

        private void record(String notice) {
            notices.add(notice + " at " + stateMachine.applied.size());
            if (throwing) {
                throw new IllegalStateException("a listener bug");
            }
        }
    }

    final InMemoryTransport network = new InMemoryTransport(42);
    /** What the nodes send through: the network itself, or a wrapper lending each node a loop. */
    final io.raft4j.spi.Transport transport;
    /** How the nodes run: which threads write their logs and apply their commands. */
    enum Mode {
        /** Own loop threads, writes on a storage thread as with a durable log, applies on apply threads. */
        OWN_THREADS,
        /** Loops the transport lends, the in-memory log written inline, applies inline (shared-loop mode). */
        LENT_LOOPS,
        /**
         * As the key-value node runs: lent loops, a log whose writes block, followers writing it on
         * their loop ({@code persistOnLoop}) and the leader on its storage thread, applies inline.
         */
        LENT_LOOPS_PERSISTING
    }

    /**
     * The election timeout, in ticks of 10 ms, of a test whose premise is one leader throughout (a
     * series of calls on the node found leading, a change that must commit under the leader it was
     * asked of, "the leader leads on"): 500 ms. At the default 100 ms, a loaded 2-core machine that
     * leaves a leader's loop, or its followers', unscheduled that long moves leadership mid-test, and
     * the test fails with NotLeaderException or IndeterminateException for a reason that is not its
     * subject. Tests whose subject is elections, or that time something in election timeouts, keep
     * the short one.
     */
    static final int STEADY_LEADER_ELECTION_TICKS = 50;

    /** {@code settings} with the {@link #STEADY_LEADER_ELECTION_TICKS} election timeout. */
    static UnaryOperator<RaftConfig.Builder> steadyLeader(UnaryOperator<RaftConfig.Builder> settings) {
        return b -> settings.apply(b.electionTimeoutTicks(STEADY_LEADER_ELECTION_TICKS));
    }

    private final Mode mode;
    final Map<String, InMemoryLogStorage> storages = new LinkedHashMap<>();
    final Map<String, io.raft4j.memory.InMemorySnapshotStore> snapshots = new LinkedHashMap<>();
    private final UnaryOperator<RaftConfig.Builder> settings;
    private final UnaryOperator<RaftNode.Builder<String>> runtime;
    final Map<String, RaftNode<String>> nodes = new LinkedHashMap<>();
    final Map<String, RecordingStateMachine> stateMachines = new LinkedHashMap<>();
    final Map<String, RecordingListener> listeners = new LinkedHashMap<>();
    private final String[] ids;

    LocalCluster(int size) {
        this(size, b -> b);
    }

    LocalCluster(int size, UnaryOperator<RaftConfig.Builder> settings) {
        this(size, settings, false);
    }

    /**
     * With {@code lentLoops}, every node runs on an event loop its transport lends, and writes its
     * log and applies its commands there (shared-loop mode); without, on its own loop thread,
     * writing on its storage thread as with a durable log and applying on its apply thread.
     */
    LocalCluster(int size, UnaryOperator<RaftConfig.Builder> settings, boolean lentLoops) {
        this(size, settings, lentLoops ? Mode.LENT_LOOPS : Mode.OWN_THREADS);
    }

    LocalCluster(int size, UnaryOperator<RaftConfig.Builder> settings, Mode mode) {
        this(size, settings, mode, b -> b);
    }

    /** With {@code runtime} applied to each node's builder, after what the {@link Mode} sets. */
    LocalCluster(int size, UnaryOperator<RaftConfig.Builder> settings, Mode mode,
                 UnaryOperator<RaftNode.Builder<String>> runtime) {
        this.settings = settings;
        this.mode = mode;
        this.runtime = runtime;
        this.transport = mode == Mode.OWN_THREADS ? network : new LoopLendingTransport(network);
        ids = new String[size];
        for (int i = 0; i < size; i++) {
            ids[i] = "n" + (i + 1);
        }
        for (String id : ids) {
            storages.put(id, new InMemoryLogStorage());
            snapshots.put(id, new io.raft4j.memory.InMemorySnapshotStore());
            start(id);
        }
    }

    void start(String id) {
        RaftConfig config = settings.apply(RaftConfig.builder(id).initialMembers(ids).electionTimeoutTicks(10)).build();
        RecordingStateMachine sm = new RecordingStateMachine();
        RecordingListener listener = new RecordingListener(sm);
        RaftNode<String> node = builder(id, config, sm).leadershipListener(listener).build();
        stateMachines.put(id, sm);
        listeners.put(id, listener);
        nodes.put(id, node);
        node.start();
    }

    /** Starts a brand-new node that knows no cluster: it waits until the leader adds it. */
    void startJoining(String id) {
        storages.put(id, new InMemoryLogStorage());
        snapshots.put(id, new io.raft4j.memory.InMemorySnapshotStore());
        RecordingStateMachine sm = new RecordingStateMachine();
        RaftNode<String> node = builder(id, settings.apply(RaftConfig.builder(id).electionTimeoutTicks(10)).build(), sm)
                .build();
        stateMachines.put(id, sm);
        nodes.put(id, node);
        node.start();
    }

    /** A node of this cluster, wired for its {@link Mode}. */
    private RaftNode.Builder<String> builder(String id, RaftConfig config, RecordingStateMachine sm) {
        return runtime.apply(RaftNode.builder(config, sm).transport(transport).storage(storageOf(id))
                .snapshots(snapshots.get(id)).tickMillis(10).applyOnLoop(mode != Mode.OWN_THREADS)
                .persistOnLoop(mode == Mode.LENT_LOOPS_PERSISTING));
    }

    private io.raft4j.spi.LogStorage storageOf(String id) {
        InMemoryLogStorage storage = storages.get(id);
        return mode == Mode.LENT_LOOPS ? storage : new WriterThreadStorage(storage);
    }

    void stop(String id) {
        nodes.remove(id).close();
    }

    /**
     * The leader, once it is settled: the one node leading, and every running voter of its
     * configuration following it in its term (a majority of voters at least). Elected is not settled.
     * A voter that granted its vote and has not heard from the new leader yet knows no leader, and
     * grants another candidate's pre-vote (two nodes whose election timers ran out together); that
     * candidate then campaigns in the next term and, though it cannot win it, deposes the leader with
     * its answer to the leader's first append. The leader found by a look at the nodes' roles alone
     * was deposed milliseconds later (seen under load: n2 elected in term 2, n1 in term 3 14 ms
     * after; n1 elected in term 2, "not the leader; leader unknown" at the first call). A voter that
     * follows the leader refuses any election until it misses it for an election timeout.
     */
    RaftNode<String> awaitLeader() {
        return awaitSettledLeader(nodes.values());
    }

    /** As {@link #awaitLeader()}, among {@code nodes} (nodes not among them are taken for stopped). */
    static <R> RaftNode<R> awaitSettledLeader(Collection<RaftNode<R>> nodes) {
        List<RaftNode<R>> leaders = new ArrayList<>();
        await(Duration.ofSeconds(10), () -> {
            leaders.clear();
            nodes.stream().filter(RaftNode::isLeader).forEach(leaders::add);
            return leaders.size() == 1 && settled(leaders.get(0).status(), nodes);
        }, () -> "leading: " + leaders.stream().map(RaftNode::id).toList() + "; "
                + nodes.stream().map(RaftNode::status).toList());
        return leaders.get(0);
    }

    private static <R> boolean settled(NodeStatus leader, Collection<RaftNode<R>> nodes) {
        Set<String> voters = leader.config().voters();
        long following = 0;
        for (String voter : voters) {
            RaftNode<R> node = nodes.stream().filter(n -> n.id().equals(voter)).findFirst().orElse(null);
            if (voter.equals(leader.nodeId())) {
                following++;
            } else if (node != null && !node.whenStopped().isDone()) {
                NodeStatus status = node.status();
                if (!leader.nodeId().equals(status.leaderId()) || status.term() != leader.term()) {
                    return false; // may be campaigning still
                }
                following++;
            }
        }
        return following > voters.size() / 2;
    }

    /** A node other than {@code leader} that knows it as its leader. */
    RaftNode<String> awaitFollowerOf(RaftNode<String> leader) {
        RaftNode<String> follower = nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
        await(Duration.ofSeconds(5), () -> leader.id().equals(follower.status().leaderId()));
        return follower;
    }

    /**
     * Hands leadership from {@code leader} to {@code target} as a caller must, making the call again
     * when a transfer times out. A transfer gives up after an election timeout, here 100 ms of real
     * time, and on a loaded machine the target's election alone can take longer (its vote written on
     * its storage thread, the others' loops and storage threads scheduled in turn); the leader then
     * leads on. The target may also be elected all the same a moment after the transfer gave up (its
     * TimeoutNow was on its way): the next call then finds the old leader following it. Returns once
     * the old leader knows that {@code target} leads.
     */
    static void transferLeadership(RaftNode<String> leader, String target) {
        List<Throwable> givenUp = new ArrayList<>();
        await(Duration.ofSeconds(10), () -> {
            if (target.equals(leader.status().leaderId())) {
                return true;
            }
            try {
                leader.transferLeadership(target).get(5, TimeUnit.SECONDS);
                return true;
            } catch (ExecutionException e) {
                boolean timedOut = e.getCause() instanceof MembershipChangeException
                        && e.getCause().getMessage().contains("timed out");
                // Indeterminate: the leader was deposed on the way and has known no leader since (its
                // loop unscheduled, say): the next look tells whether the target leads.
                if (timedOut || e.getCause() instanceof NotLeaderException
                        || e.getCause() instanceof IndeterminateException) {
                    givenUp.add(e.getCause());
                    return false;
                }
                throw new AssertionError("transfer to " + target + " failed", e.getCause());
            } catch (InterruptedException | TimeoutException e) {
                throw new AssertionError("transfer to " + target + " did not end", e);
            }
        }, () -> "transfers to " + target + " that did not make it lead: " + givenUp);
    }

    /**
     * Makes a membership change, again while it is refused because too few of its new voters
     * answered lately, as the refusal tells a caller to do. The leader gives them an election
     * timeout to answer, 100 ms of real time here, and a loaded machine may leave a follower's
     * threads (its loop, its storage thread, which releases its answers) unscheduled that long: a
     * removal that leaves two voters, both needed, was refused so. Each refusal takes that election
     * timeout; the 10 s are only a bound on a hang. Any other failure is the caller's at once.
     */
    static ClusterConfig changeMembership(
            Supplier<CompletableFuture<ClusterConfig>> change)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return change.get().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                boolean votersSilent = e.getCause() instanceof MembershipChangeException
                        && e.getCause().getMessage().contains("are needed to commit anything");
                if (!votersSilent || System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    /**
     * Makes a call again while it is refused with {@link NotLeaderException}, as the refusal tells a
     * caller to: nothing was done (a proposal refused so was not appended; a read refused or given up
     * so was not answered). A leader deposed mid-test (its loop unscheduled for an election timeout,
     * 100 ms of real time here, on a loaded machine) refuses so. Each try gets the node anew from
     * {@code call}; the 10 s only bound a hang. Any other failure is the caller's at once.
     */
    static <T> T retryingNotLeader(Supplier<CompletableFuture<T>> call) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return call.get().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException) || System.nanoTime() > deadline) {
                    throw e;
                }
                LockSupport.parkNanos(1_000_000); // a node that knows no leader yet refuses at once: no busy loop
            }
        }
    }

    /**
     * Holds the calling thread, one of a node's in a test that holds the node up (in a plug-in's
     * call), until {@code release} opens, 30 seconds at most; keeps an interrupt for the caller.
     */
    static void holdUntil(CountDownLatch release) {
        try {
            release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void await(Duration timeout, BooleanSupplier condition) {
        await(timeout, condition, () -> "");
    }

    /** As {@link #await(Duration, BooleanSupplier)}, describing the state in the failure (for rare failures). */
    static void await(Duration timeout, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String described = state.get();
                throw new AssertionError("condition not met within " + timeout + (described.isEmpty() ? "" : ": " + described));
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Override
    public void close() {
        for (RaftNode<String> n : nodes.values()) {
            n.close();
        }
        network.close();
        if (transport instanceof LoopLendingTransport lending) {
            lending.close();
        }
    }
}

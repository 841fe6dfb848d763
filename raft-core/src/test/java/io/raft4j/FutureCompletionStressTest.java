package io.raft4j;

import io.raft4j.message.Bytes;
import io.raft4j.message.ClusterConfig;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every future a node hands out completes: callers on several threads make every kind of public call
 * on random nodes while the network splits, drops, delays and heals and nodes are closed and
 * restarted on their storage. Once the faults stop and the network heals, every call must complete
 * within a bound; once every node is closed, every call must be complete; and a proposal that
 * completed normally must be applied on every node once they caught up.
 *
 * <p>The choices (cluster size, mode, calls, faults) come from a seed, printed on failure; thread
 * timing is not seeded, so a seed replays the run's plan, not its interleaving. Settings:
 * {@code -Draft4j.stress.iterations} (default 2) and {@code -Draft4j.stress.seed} (default random).
 */
class FutureCompletionStressTest {
    private static final Duration COMPLETION_BOUND = Duration.ofSeconds(30);
    private static final int CALLERS = 3;

    /** A call made, and the future it got. */
    /**
     * A call made, and the future it got; {@code command} for a proposal, {@code read} for a
     * linearizable or lease query; {@code started} before the call, {@code completed} once its future
     * completed (later than the completion itself, by the time a callback takes).
     */
    private record Call(String what, CompletableFuture<?> future, String command, boolean read, long started,
                        AtomicLong completed) {
        Call {
            future.whenComplete((r, e) -> completed.set(System.nanoTime()));
        }
    }

    @Test
    void everyFutureCompletesThroughFaultsRestartsAndClose() throws Exception {
        int iterations = Integer.getInteger("raft4j.stress.iterations", 2);
        long base = Long.getLong("raft4j.stress.seed", new SplittableRandom().nextLong());
        for (int i = 0; i < iterations; i++) {
            long seed = base + i;
            try {
                runOnce(seed);
            } catch (Throwable t) {
                throw new AssertionError("seed " + seed + " (rerun with -Draft4j.stress.seed=" + seed
                        + " -Draft4j.stress.iterations=1): " + t.getMessage(), t);
            }
        }
    }

    private void runOnce(long seed) throws Exception {
        SplittableRandom plan = new SplittableRandom(seed);
        int size = plan.nextBoolean() ? 3 : 5;
        LocalCluster.Mode mode = LocalCluster.Mode.values()[plan.nextInt(LocalCluster.Mode.values().length)];
        long snapshotEvery = 10 + plan.nextInt(40);
        // Now and then without the election guards, which keep a cut-off leader from leading on.
        boolean guards = plan.nextInt(4) != 0;
        Recorded calls = new Recorded();
        try (LocalCluster cluster = new LocalCluster(size, b -> b.snapshotEveryEntries(snapshotEvery)
                .snapshotTrailingEntries(5).checkQuorum(guards).preVote(guards), mode)) {
            List<String> ids = new ArrayList<>(cluster.nodes.keySet());
            Map<String, RaftNode<String>> live = new ConcurrentHashMap<>(cluster.nodes);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CALLERS; c++) {
                SplittableRandom random = plan.split();
                int caller = c;
                threads.add(new Thread(() -> callRandomly(random, caller, ids, live, calls), "stress-caller-" + c));
            }
            SplittableRandom faults = plan.split();
            threads.add(new Thread(() -> {
                try {
                    injectFaults(faults, cluster, ids, live);
                } catch (Throwable t) {
                    calls.failure.add(t);
                }
            }, "stress-faults"));
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(60));
                if (t.isAlive()) {
                    fail(t.getName() + " did not end: " + Arrays.toString(t.getStackTrace()));
                }
            }
            calls.failure.forEach(e -> {
                throw new AssertionError("a caller or the fault thread failed", e);
            });

            // (a) healed and every node running again, with every node a voter: each call completes.
            cluster.network.heal();
            restartStopped(cluster, ids, live);
            restoreMembership(cluster, ids, live);
            awaitAll(calls, cluster, "after the network healed");
            // The closes chained to calls that completed just now stop their nodes: restart them too.
            CompletableFuture.allOf(calls.closes.stream().map(c -> c.handle((r, e) -> null))
                    .toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            restoreMembership(cluster, ids, live);

            // (c) a proposal that completed normally is applied everywhere once the nodes caught up.
            String marker = "marker-" + seed;
            LocalCluster.retryingNotLeader(() -> cluster.awaitLeader().propose(Bytes.ofUtf8(marker)));
            LocalCluster.await(Duration.ofSeconds(30), () -> ids.stream()
                    .allMatch(id -> cluster.stateMachines.get(id).applied.contains(marker)),
                    () -> "marker not applied everywhere: " + statuses(live));
            Map<String, Integer> unexpected = new TreeMap<>();
            for (Call call : calls.all) {
                if (call.command() == null || !call.future().isDone() || call.future().isCompletedExceptionally()) {
                    continue;
                }
                Object result = call.future().join();
                if (!("applied:" + call.command()).equals(result)) {
                    fail(call.what() + " completed with " + result);
                }
                for (String id : ids) {
                    if (!cluster.stateMachines.get(id).applied.contains(call.command())) {
                        fail(call.what() + " completed normally but " + id + " never applied it");
                    }
                }
            }

            checkReadsSawCompletedProposals(calls, cluster.stateMachines.get(ids.get(0)).applied);

            // (b) once every node is closed, nothing is left waiting.
            for (String id : ids) {
                cluster.nodes.get(id).close();
            }
            List<String> pending = calls.all.stream().filter(c -> !c.future().isDone()).map(Call::what).toList();
            if (!pending.isEmpty()) {
                fail("still pending after every node closed: " + pending);
            }
            for (Call call : calls.all) {
                call.future().handle((r, e) -> {
                    if (e != null && !expected(e)) {
                        unexpected.merge(call.what() + " -> " + e, 1, Integer::sum);
                    }
                    return null;
                });
            }
            if (!unexpected.isEmpty()) {
                fail("failed with exceptions no call is documented to fail with: " + unexpected);
            }
            if (Boolean.getBoolean("raft4j.stress.verbose")) {
                System.out.println("seed " + seed + ", " + size + " nodes, " + mode + (guards ? "" : ", no guards") + ": "
                        + outcomes(calls));
            }
        }
    }

    /**
     * A linearizable (or lease) read answers with the number of commands applied where it ran: it
     * must count every proposal that completed before the read began, whose position in the log
     * order ({@code order}, every command applied, the same on every node) is below that number.
     */
    private static void checkReadsSawCompletedProposals(Recorded calls, List<String> order) {
        List<Call> proposals = calls.all.stream().filter(c -> c.command() != null && c.future().isDone()
                && !c.future().isCompletedExceptionally()).toList();
        for (Call read : calls.all) {
            if (!read.read() || !read.future().isDone() || read.future().isCompletedExceptionally()) {
                continue;
            }
            int seen = Integer.parseInt((String) read.future().join());
            for (Call proposal : proposals) {
                int position = order.indexOf(proposal.command());
                long completed = proposal.completed().get();
                if (completed != 0 && completed - read.started() < 0 && position >= seen) {
                    fail(read.what() + " saw " + seen + " commands, but " + proposal.what()
                            + " completed before it began, at position " + position);
                }
            }
        }
    }

    /** The failures a caller is told to expect from these calls. */
    private static boolean expected(Throwable e) {
        return e instanceof NotLeaderException || e instanceof OverloadedException
                || e instanceof RaftStoppedException || e instanceof IndeterminateException
                || e instanceof MembershipChangeException
                // takeSnapshot with nothing applied yet, or a snapshot write that failed
                || e instanceof UnsupportedOperationException || e instanceof StorageException;
    }

    /** The calls made, and what went wrong on a test thread. */
    private static final class Recorded {
        final ConcurrentLinkedQueue<Call> all = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Throwable> failure = new ConcurrentLinkedQueue<>();
        /** The closes chained to calls: done once the close has returned. */
        final ConcurrentLinkedQueue<CompletableFuture<?>> closes = new ConcurrentLinkedQueue<>();
    }

    private static void callRandomly(SplittableRandom random, int caller, List<String> ids,
                                     Map<String, RaftNode<String>> live, Recorded calls) {
        try {
            for (int i = 0; i < 150; i++) {
                String at = ids.get(random.nextInt(ids.size()));
                RaftNode<String> node = live.get(at);
                String other = ids.get(random.nextInt(ids.size()));
                int op = random.nextInt(14);
                String command = null;
                boolean read = false;
                long started = System.nanoTime();
                CompletableFuture<?> future;
                String what;
                switch (op) {
                    case 0, 1, 2 -> {
                        command = "c" + caller + "-" + i;
                        what = "propose " + command;
                        future = node.propose(Bytes.ofUtf8(command));
                    }
                    case 3, 4, 5 -> {
                        ReadConsistency consistency = ReadConsistency.values()[random.nextInt(ReadConsistency.values().length)];
                        what = "query " + consistency;
                        read = consistency != ReadConsistency.STALE;
                        future = node.query(Bytes.EMPTY, consistency);
                    }
                    case 6 -> {
                        what = "addLearner " + other;
                        future = node.addLearner(other, "");
                    }
                    case 7 -> {
                        what = "addVoter " + other;
                        future = node.addVoter(other, "");
                    }
                    case 8 -> {
                        what = "removeMember " + other;
                        future = node.removeMember(other);
                    }
                    case 9 -> {
                        Set<String> voters = new HashSet<>();
                        Set<String> learners = new HashSet<>();
                        for (String id : ids) {
                            (random.nextInt(4) == 0 ? learners : voters).add(id);
                        }
                        if (voters.isEmpty()) {
                            voters.add(ids.get(0));
                            learners.remove(ids.get(0));
                        }
                        ClusterConfig target = new ClusterConfig(voters, learners, Set.of(), Map.of());
                        what = "changeMembership " + voters + "/" + learners;
                        future = node.changeMembership(target);
                    }
                    case 10 -> {
                        what = "transferLeadership " + other;
                        future = node.transferLeadership(other);
                    }
                    case 11 -> {
                        what = "transferLeadership()";
                        future = node.transferLeadership();
                    }
                    case 12 -> {
                        what = random.nextBoolean() ? "takeSnapshot" : "followers";
                        future = what.equals("takeSnapshot") ? node.takeSnapshot() : node.followers();
                    }
                    default -> {
                        what = "whenLeaderKnown";
                        future = node.whenLeaderKnown();
                    }
                }
                if (random.nextInt(60) == 0) {
                    // Closed from whichever of its threads completes the call (as a callback may).
                    what += " then close";
                    calls.closes.add(future.whenComplete((r, e) -> node.close()));
                }
                calls.all.add(new Call(at + ": " + what + " (#" + calls.all.size() + ")", future, command, read, started,
                        new AtomicLong()));
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(15)));
            }
        } catch (Throwable t) {
            calls.failure.add(t);
        }
    }

    private static void injectFaults(SplittableRandom random, LocalCluster cluster, List<String> ids,
                                     Map<String, RaftNode<String>> live) {
        for (int step = 0; step < 25; step++) {
            String id = ids.get(random.nextInt(ids.size()));
            switch (random.nextInt(9)) {
                case 0 -> cluster.network.isolate(id);
                case 1 -> {
                    Set<String> side = new HashSet<>();
                    for (String each : ids) {
                        if (random.nextBoolean()) {
                            side.add(each);
                        }
                    }
                    Set<String> rest = new HashSet<>(ids);
                    rest.removeAll(side);
                    cluster.network.partition(side, rest);
                }
                case 2 -> cluster.network.heal();
                case 3 -> cluster.network.setDropRate(random.nextDouble() * 0.5);
                case 4 -> cluster.network.setDelayMillis(random.nextInt(120)); // beyond an election timeout too
                case 5 -> cluster.network.block(id, ids.get(random.nextInt(ids.size())));
                case 6 -> restart(cluster, id, live);
                case 7 -> cluster.nodes.get(id).close(); // stays down until a restart
                default -> restartStopped(cluster, ids, live);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(30 + random.nextInt(150)));
        }
    }

    /** Closes the node and starts a new one on its storage, as the embedding guide says. */
    private static void restart(LocalCluster cluster, String id, Map<String, RaftNode<String>> live) {
        cluster.stop(id);
        cluster.start(id);
        live.put(id, cluster.nodes.get(id));
    }

    /** Restarts every node that stopped (closed, or stopped itself once removed). */
    private static void restartStopped(LocalCluster cluster, List<String> ids, Map<String, RaftNode<String>> live) {
        for (String id : ids) {
            if (cluster.nodes.get(id).whenStopped().isDone()) {
                restart(cluster, id, live);
            }
        }
    }

    /**
     * Makes every node a voter again, so that every node follows the leader and hears of it: each one
     * missing is added as the guide says (addVoter, which makes it a learner first).
     */
    private static void restoreMembership(LocalCluster cluster, List<String> ids, Map<String, RaftNode<String>> live)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            restartStopped(cluster, ids, live);
            RaftNode<String> leader = cluster.awaitLeader();
            ClusterConfig now = leader.status().config();
            String missing = ids.stream().filter(id -> !now.voters().contains(id)).findFirst().orElse(null);
            if (!now.isJoint() && missing == null && now.learners().isEmpty()) {
                return;
            }
            try {
                if (missing != null) {
                    leader.addVoter(missing, "").get(10, TimeUnit.SECONDS);
                } else {
                    leader.changeMembership(ClusterConfig.ofVoters(new HashSet<>(ids))).get(10, TimeUnit.SECONDS);
                }
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not make every node a voter again: " + statuses(live), e);
                }
            }
        }
    }

    private static void awaitAll(Recorded calls, LocalCluster cluster, String when) throws Exception {
        CompletableFuture<?>[] futures = calls.all.stream().map(c -> c.future().handle((r, e) -> null))
                .toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(futures).get(COMPLETION_BOUND.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            List<String> pending = calls.all.stream().filter(c -> !c.future().isDone()).map(Call::what).toList();
            fail(pending.size() + " of " + calls.all.size() + " calls still pending " + COMPLETION_BOUND + " " + when
                    + ": " + pending + "; nodes: " + statuses(cluster.nodes));
        }
    }

    /** How the calls ended, by kind of call and outcome (to see what a run exercised). */
    private static Map<String, Integer> outcomes(Recorded calls) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Call call : calls.all) {
            String kind = call.what().replaceAll("^\\S+: (\\S+).*", "$1");
            String outcome = call.future().handle((r, e) -> e == null ? "ok" : e.getClass().getSimpleName()).join();
            counts.merge(kind + " " + outcome, 1, Integer::sum);
        }
        return counts;
    }

    private static String statuses(Map<String, RaftNode<String>> nodes) {
        return nodes.values().stream().map(n -> n.status() + (n.whenStopped().isDone() ? " (stopped)" : ""))
                .collect(Collectors.joining("; "));
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemorySnapshotStore;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.AppendEntriesResponse;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import io.raft4j.message.RequestVoteResponse;
import io.raft4j.spi.LogOwner;
import io.raft4j.spi.StorageException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One node's log storage fails on the k-th call of one of its methods, and from then on every call
 * (as a poisoned store does): the node must stop, fail every call still waiting, leave no thread
 * running, and never have acknowledged (an append answer, a vote) what its store did not hold.
 */
class StorageFailureSweepTest {

    /** Fails the {@code k}-th call of {@code method}, and every call after it. */
    static final class FailingStorage extends ForwardingStorage {
        final String method;
        final int k;
        final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        final AtomicBoolean failed = new AtomicBoolean();
        volatile boolean writesInline;

        FailingStorage(InMemoryLogStorage delegate, String method, int k) {
            super(delegate);
            this.method = method;
            this.k = k;
        }

        private void call(String name) {
            if (failed.get()) {
                throw new StorageException("poisoned by the injected failure");
            }
            if (name.equals(method) && calls.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet() == k) {
                failed.set(true);
                throw new StorageException("injected failure of " + name + " call " + k);
            }
        }

        @Override public HardState hardState() { call("hardState"); return super.hardState(); }
        @Override public long firstIndex() { call("firstIndex"); return super.firstIndex(); }
        @Override public long lastIndex() { call("lastIndex"); return super.lastIndex(); }
        @Override public long term(long index) { call("term"); return super.term(index); }
        @Override public List<LogEntry> entries(long f, long t, long m) { call("entries"); return super.entries(f, t, m); }
        @Override public void append(List<LogEntry> entries, HardState hs) { call("append"); super.append(entries, hs); }
        @Override public void compact(long index, long term) { call("compact"); super.compact(index, term); }
        @Override public void reset(long index, long term) { call("reset"); super.reset(index, term); }
        @Override public Optional<LogOwner> owner() { return delegate.owner(); }
        @Override public void recordOwner(LogOwner owner) { delegate.recordOwner(owner); }
        @Override public boolean writesWithoutBlocking() { return writesInline; }
    }

    /** Records, as n1 sends them, acknowledgements its store does not back. */
    static final class AckWatcher extends ForwardingTransport {
        final InMemoryLogStorage stored;
        final List<String> unbacked = new CopyOnWriteArrayList<>();

        AckWatcher(io.raft4j.spi.Transport network, InMemoryLogStorage stored) {
            super(network);
            this.stored = stored;
        }

        @Override
        public void send(RaftMessage m) {
            if (m instanceof AppendEntriesResponse r && r.success() && stored.lastIndex() < r.index()) {
                unbacked.add("append acknowledged up to " + r.index() + " with the store ending at " + stored.lastIndex());
            }
            if (m instanceof RequestVoteResponse r && r.granted() && !r.preVote()) {
                HardState hs = stored.hardState();
                if (hs.term() < r.term() || (hs.term() == r.term() && !r.to().equals(hs.votedFor()))) {
                    unbacked.add("vote for " + r.to() + " in " + r.term() + " granted with the store at " + hs);
                }
            }
            super.send(m);
        }
    }

    static Stream<Arguments> failures() {
        List<Arguments> all = new ArrayList<>();
        for (Mode mode : Mode.values()) {
            for (int k : new int[]{1, 2, 3, 5, 8, 12}) {
                all.add(Arguments.of("append", k, mode));
            }
            for (int k : new int[]{1, 2}) {
                all.add(Arguments.of("compact", k, mode));
            }
            for (int k : new int[]{1, 8, 20}) {
                all.add(Arguments.of("entries", k, mode));
                all.add(Arguments.of("term", k, mode));
            }
        }
        return all.stream();
    }

    /** Where n1 writes its log. */
    enum Mode {
        /** On its storage thread, as a durable log. */
        STORAGE_THREAD,
        /** On its own loop, as an in-memory log. */
        INLINE,
        /** On a loop its transport lends, followers on the loop and the leader on its storage thread. */
        PERSIST_ON_LENT_LOOP
    }

    @ParameterizedTest(name = "{0} call {1} fails, writes {2}")
    @MethodSource("failures")
    void theNodeStopsCleanlyAndNeverAcknowledgesWhatItsStoreLacks(String method, int k, Mode mode)
            throws Exception {
        InMemoryTransport memory = new InMemoryTransport(7);
        LoopLendingTransport lending = new LoopLendingTransport(memory);
        io.raft4j.spi.Transport network = mode == Mode.PERSIST_ON_LENT_LOOP ? lending : memory;
        String[] ids = {"n1", "n2", "n3"};
        InMemoryLogStorage stored = new InMemoryLogStorage();
        FailingStorage failing = new FailingStorage(stored, method, k);
        failing.writesInline = mode == Mode.INLINE;
        AckWatcher watcher = new AckWatcher(network, stored);
        List<RaftNode<String>> nodes = new ArrayList<>();
        List<CompletableFuture<String>> toN1 = new CopyOnWriteArrayList<>();
        try {
            for (String id : ids) {
                RaftConfig config = RaftConfig.builder(id).initialMembers(ids).electionTimeoutTicks(10)
                        .snapshotEveryEntries(5).snapshotTrailingEntries(2).build();
                RaftNode<String> node;
                try {
                    node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                            .transport(id.equals("n1") ? watcher : network)
                            .storage(id.equals("n1") ? failing : new InMemoryLogStorage())
                            .snapshots(new InMemorySnapshotStore()).tickMillis(10)
                            .runOnTransportLoop(mode == Mode.PERSIST_ON_LENT_LOOP)
                            .persistOnLoop(mode == Mode.PERSIST_ON_LENT_LOOP).build();
                } catch (StorageException e) {
                    assertTrue(id.equals("n1") && failing.failed.get(), "only the injected failure may fail a build");
                    continue; // failed while reading the store at build: nothing started
                }
                nodes.add(node);
                node.start();
            }
            RaftNode<String> n1 = nodes.stream().filter(n -> n.id().equals("n1")).findFirst().orElse(null);
            // Rounds of one proposal to every node, each round once the last has settled: a leader
            // is known, and every proposal is answered (applied, refused, or failed by n1's stop).
            RaftNode<String> other = nodes.get(nodes.size() - 1);
            for (int round = 0; round < 40 && !failing.failed.get(); round++) {
                try {
                    other.whenLeaderKnown().get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    break; // n1 failed while the others chose a leader: checked below
                }
                List<CompletableFuture<?>> answers = new ArrayList<>();
                for (RaftNode<String> node : nodes) {
                    CompletableFuture<String> f = node.propose(Bytes.ofUtf8("c" + round));
                    if (node == n1) {
                        toN1.add(f);
                    }
                    answers.add(f.handle((r, e) -> null));
                }
                CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            }
            if (n1 == null || !failing.failed.get()) {
                return; // the store was never called that often: nothing to check
            }
            n1.whenStopped().get(15, TimeUnit.SECONDS);
            assertTrue(n1.failure() != null, "n1 stopped without saying why");
            for (CompletableFuture<String> f : toN1) {
                try {
                    f.get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException expected) {
                    // failed: fine
                }
            }
            LocalCluster.await(Duration.ofSeconds(10), () -> threadsOf("-n1").isEmpty(),
                    () -> "threads of n1 still running: " + threadsOf("-n1"));
            assertEquals(List.of(), watcher.unbacked);
        } finally {
            for (RaftNode<String> node : nodes) {
                node.close();
            }
            lending.close();
        }
    }

    private static List<String> threadsOf(String suffix) {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().endsWith(suffix) && !t.getName().startsWith("lent-loop-")) {
                names.add(t.getName());
            }
        }
        return names;
    }
}

package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * Pure cores wired together by hand, for rule tests and scenarios: writes are made durable at once,
 * messages wait in a queue until {@link #deliverAll()} (or are inspected and dropped first).
 */
final class CoreCluster {
    final Map<String, RaftCore> cores = new LinkedHashMap<>();
    final Map<String, InMemoryLogStorage> storages = new LinkedHashMap<>();
    final Map<String, io.raft4j.spi.SnapshotStore> snapshots = new LinkedHashMap<>();
    final Map<String, io.raft4j.spi.SnapshotStore.Sink> receiving = new LinkedHashMap<>();
    /** Settings tweak applied to every node's config (e.g. small snapshot chunks). */
    java.util.function.UnaryOperator<RaftConfig.Builder> settings = b -> b;
    /** Settings of single nodes, applied after {@link #settings} at their next (re)start: a group whose nodes differ. */
    final Map<String, java.util.function.UnaryOperator<RaftConfig.Builder>> nodeSettings = new LinkedHashMap<>();
    /** Tick lengths of single nodes, taken at their next (re)start; others tick every {@link RaftCore#DEFAULT_TICK}. */
    final Map<String, java.time.Duration> nodeTicks = new LinkedHashMap<>();
    final Map<String, List<String>> applied = new LinkedHashMap<>();
    /** Per node, every read confirmed ("id@readIndex") and abandoned ("id abandoned"), in order. */
    final Map<String, List<String>> reads = new LinkedHashMap<>();
    final ArrayDeque<RaftMessage> inFlight = new ArrayDeque<>();
    final Set<String> down = new HashSet<>();
    final Set<String> cut = new HashSet<>();   // "a>b" links that drop
    private final String[] ids;
    private final int electionTicks;
    private long seed;
    Predicate<RaftMessage> dropIf = m -> false;

    CoreCluster(int size) {
        this(size, 10);
    }

    CoreCluster(int size, int electionTicks) {
        this(size, electionTicks, b -> b);
    }

    CoreCluster(int size, int electionTicks, java.util.function.UnaryOperator<RaftConfig.Builder> settings) {
        this(size, electionTicks, settings, 7);
    }

    /** As above, with {@code seed} the first of the seeds that randomize the nodes' election timeouts. */
    CoreCluster(int size, int electionTicks, java.util.function.UnaryOperator<RaftConfig.Builder> settings, long seed) {
        this.electionTicks = electionTicks;
        this.seed = seed;
        this.settings = settings;
        ids = new String[size];
        for (int i = 0; i < size; i++) {
            ids[i] = "n" + (i + 1);
        }
        for (String id : ids) {
            storages.put(id, new InMemoryLogStorage());
            snapshots.put(id, new io.raft4j.memory.InMemorySnapshotStore(2));
            restart(id);
        }
    }

    /** From now on, counts the InstallSnapshot chunks sent (dropping nothing). */
    java.util.concurrent.atomic.AtomicInteger countSnapshotChunks() {
        java.util.concurrent.atomic.AtomicInteger chunks = new java.util.concurrent.atomic.AtomicInteger();
        dropIf = m -> {
            if (m instanceof io.raft4j.message.InstallSnapshot) {
                chunks.incrementAndGet();
            }
            return false;
        };
        return chunks;
    }

    /** Nodes started empty, waiting to be added to the cluster. */
    final Set<String> joiners = new HashSet<>();

    RaftConfig config(String id) {
        RaftConfig.Builder b = RaftConfig.builder(id).electionTimeoutTicks(electionTicks);
        if (!joiners.contains(id)) {
            b.initialMembers(ids);
        }
        return nodeSettings.getOrDefault(id, x -> x).apply(settings.apply(b)).build();
    }

    /** Starts a brand-new node that knows no cluster (it waits to be added). */
    void addJoiningNode(String id) {
        joiners.add(id);
        storages.put(id, new InMemoryLogStorage());
        snapshots.put(id, new io.raft4j.memory.InMemorySnapshotStore(2));
        restart(id);
    }

    /** The ids of every node, joiners included. */
    List<String> allIds() {
        return new ArrayList<>(cores.keySet());
    }

    /** (Re)starts a node from its durable state only. */
    void restart(String id) {
        cores.put(id, new RaftCore(config(id), storages.get(id), snapshots.get(id), new SplittableRandom(seed++),
                nodeTicks.getOrDefault(id, RaftCore.DEFAULT_TICK)));
        applied.put(id, new ArrayList<>());
        appliedIndex.put(id, 0L);
        receiving.remove(id);
        snapshots.get(id).latest().ifPresent(s -> restoreState(id, s.meta().lastIndex()));
        down.remove(id);
        drain(id);
    }

    void crash(String id) {
        down.add(id);
    }

    /**
     * Crashes a follower of {@code leader}, has the leader commit {@code count} entries and take a
     * snapshot of them (compacting its log): once restarted, the follower needs that snapshot.
     *
     * @return the follower's id
     */
    String followerLeftBehindASnapshot(String leader, int count) {
        String lagging = java.util.Arrays.stream(ids()).filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        crash(lagging);
        for (int i = 0; i < count; i++) {
            propose(leader, "value-" + i);
        }
        tickAll(3);
        takeSnapshot(leader);
        return lagging;
    }

    /** The state machine here is the list of applied commands; a snapshot is that list. */
    io.raft4j.message.SnapshotMeta takeSnapshot(String id) {
        RaftCore c = cores.get(id);
        long index = appliedIndex.getOrDefault(id, 0L);
        io.raft4j.message.SnapshotMeta meta = new io.raft4j.message.SnapshotMeta(index, c.termAt(index), c.clusterConfig());
        try (io.raft4j.spi.SnapshotStore.Sink sink = snapshots.get(id).begin(meta)) {
            sink.out().write(String.join("\n", applied.get(id)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sink.publish(null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        c.snapshotTaken(meta);
        drain(id);
        return meta;
    }

    final Map<String, Long> appliedIndex = new LinkedHashMap<>();

    private void restoreState(String id, long index) {
        try (java.io.InputStream in = snapshots.get(id).open(index)) {
            String content = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            applied.put(id, new ArrayList<>(content.isEmpty() ? List.of() : List.of(content.split("\n"))));
            appliedIndex.put(id, index);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void storeChunk(String id, SnapshotChunk chunk) {
        try {
            if (chunk.offset() == 0) {
                receiving.put(id, snapshots.get(id).begin(chunk.meta()));
            }
            io.raft4j.spi.SnapshotStore.Sink sink = receiving.get(id);
            sink.out().write(chunk.data().unsafeArray());
            if (chunk.last()) {
                boolean ok = true;
                try {
                    sink.publish(chunk.checksum());
                } catch (io.raft4j.spi.StorageException e) {
                    ok = false;
                }
                receiving.remove(id);
                cores.get(id).snapshotReceived(chunk.meta(), ok);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    RaftCore core(String id) {
        return cores.get(id);
    }

    /** Hands out and carries out everything the core has ready: persist, then send, then apply. */
    void drain(String id) {
        RaftCore c = cores.get(id);
        while (c.hasReady()) {
            Ready rd = c.ready();
            for (SnapshotChunk chunk : rd.snapshotChunks()) {
                storeChunk(id, chunk);
            }
            if (rd.compaction() != null) {
                LogCompaction lc = rd.compaction();
                if (lc.discardAll()) {
                    storages.get(id).reset(lc.index(), lc.term());
                } else {
                    storages.get(id).compact(lc.index(), lc.term());
                }
            }
            if (rd.snapshotToInstall() != null) {
                restoreState(id, rd.snapshotToInstall().lastIndex());
            }
            storages.get(id).append(rd.entriesToPersist(), rd.hardState());
            inFlight.addAll(rd.messages());
            if (!rd.entriesToPersist().isEmpty()) {
                LogEntry last = rd.entriesToPersist().get(rd.entriesToPersist().size() - 1);
                c.persisted(last.index(), last.term());
            }
            for (RaftMessage m : rd.messagesAfterPersist()) {
                if (m.to().equals(id)) {
                    c.step(m);
                } else {
                    inFlight.add(m);
                }
            }
            for (ReadState rs : rd.readStates()) {
                reads.computeIfAbsent(id, k -> new ArrayList<>()).add(rs.requestId() + "@" + rs.readIndex());
            }
            for (long abandoned : rd.abandonedReads()) {
                reads.computeIfAbsent(id, k -> new ArrayList<>()).add(abandoned + " abandoned");
            }
            for (LogEntry e : rd.committedEntries()) {
                if (e.type() == io.raft4j.message.EntryType.COMMAND) {
                    applied.get(id).add(e.data().toUtf8());
                }
                appliedIndex.put(id, e.index());
            }
        }
    }

    /** Delivers queued messages until none are left (dropping those to down nodes or over cut links). */
    void deliverAll() {
        int guard = 0;
        while (!inFlight.isEmpty()) {
            if (++guard > 1_000_000) {
                throw new AssertionError("messages never settle");
            }
            RaftMessage m = inFlight.poll();
            if (down.contains(m.to()) || down.contains(m.from()) || cut.contains(m.from() + ">" + m.to()) || dropIf.test(m)) {
                continue;
            }
            cores.get(m.to()).step(m);
            drain(m.to());
        }
    }

    void tick(String id) {
        if (!down.contains(id)) {
            cores.get(id).tick();
            drain(id);
        }
    }

    /** Ticks every live node {@code n} times, delivering messages after each round. */
    void tickAll(int n) {
        for (int i = 0; i < n; i++) {
            for (String id : allIds()) {
                tick(id);
            }
            deliverAll();
        }
    }

    void campaign(String id) {
        cores.get(id).campaign();
        drain(id);
        deliverAll();
    }

    long propose(String id, String command) {
        long index = cores.get(id).propose(Bytes.ofUtf8(command));
        drain(id);
        return index;
    }

    /** Ticks until a leader is elected (failing the test if none within 100 rounds) and returns it. */
    String awaitLeader() {
        for (int i = 0; i < 100 && leader() == null; i++) {
            tickAll(1);
        }
        if (leader() == null) {
            throw new AssertionError("no leader elected");
        }
        return leader();
    }

    /** {@link #awaitLeader()}, then a couple of rounds so the leader's no-op is committed. */
    String awaitSettledLeader() {
        awaitLeader();
        tickAll(2);
        return leader();
    }

    String leader() {
        String leader = null;
        for (String id : allIds()) {
            if (!down.contains(id) && cores.get(id).role() == Role.LEADER) {
                if (leader != null && cores.get(leader).term() == cores.get(id).term()) {
                    throw new AssertionError("two leaders in term " + cores.get(id).term());
                }
                if (leader == null || cores.get(id).term() > cores.get(leader).term()) {
                    leader = id;
                }
            }
        }
        return leader;
    }

    void isolate(String id) {
        for (String other : allIds()) {
            cut.add(id + ">" + other);
            cut.add(other + ">" + id);
        }
    }

    void heal() {
        cut.clear();
    }

    String[] ids() {
        return ids.clone();
    }
}

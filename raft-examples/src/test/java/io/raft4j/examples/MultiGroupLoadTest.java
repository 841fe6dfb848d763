package io.raft4j.examples;

import io.raft4j.IndeterminateException;
import io.raft4j.NotLeaderException;
import io.raft4j.RaftNode;
import io.raft4j.RaftStoppedException;
import io.raft4j.ReadConsistency;
import io.raft4j.core.RaftConfig;
import io.raft4j.message.Bytes;
import io.raft4j.spi.LogStorage;
import io.raft4j.spi.StateMachine;
import io.raft4j.storage.rocksdb.RocksDbLogStore;
import io.raft4j.transport.netty.NettyTransport;
import io.raft4j.transport.netty.NettyTransportConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Twenty groups of three nodes in one JVM, each process's nodes on one transport and one store,
 * all writing at once while one more group's state machines are blocked: every group commits, no
 * group sees another's commands, the members of each group applied the same commands at the same
 * indexes, and closing leaves no thread of the runtime behind.
 */
class MultiGroupLoadTest {
    private static final int GROUPS = 20;
    private static final int WRITES = 25;
    private static final String BLOCKED = "blocked";

    /** Sums the commands and digests every (index, command) applied, so members can be compared. */
    static final class Digest implements StateMachine<Long> {
        private final CountDownLatch gate;
        volatile long sum;
        volatile long digest;

        Digest(CountDownLatch gate) {
            this.gate = gate;
        }

        @Override
        public Long apply(long index, Bytes command) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            String text = command.toUtf8();
            sum += Long.parseLong(text.substring(text.indexOf(':') + 1));
            digest = digest * 31 + index * 17 + text.hashCode();
            return sum;
        }

        @Override
        public Long query(Bytes query) {
            return sum;
        }

        @Override
        public Snapshot snapshot() {
            long s = sum;
            long d = digest;
            return out -> {
                DataOutputStream data = new DataOutputStream(out);
                data.writeLong(s);
                data.writeLong(d);
                data.flush();
            };
        }

        @Override
        public void restore(InputStream in) throws IOException {
            DataInputStream data = new DataInputStream(in);
            sum = data.readLong();
            digest = data.readLong();
        }
    }

    private static final class Process implements AutoCloseable {
        final NettyTransport transport;
        final RocksDbLogStore logs;
        final Map<String, LogStorage> groupLogs = new LinkedHashMap<>();
        final Map<String, RaftNode<Long>> nodes = new LinkedHashMap<>();
        final Map<String, Digest> machines = new LinkedHashMap<>();

        Process(Path dataDir) {
            logs = RocksDbLogStore.open(dataDir);
            transport = NettyTransport.start(NettyTransportConfig.builder("load").listen("127.0.0.1", 0).build());
        }

        void start(String id, String group, Map<String, String> members, CountDownLatch gate) {
            LogStorage log = logs.forGroup(group);
            groupLogs.put(group, log);
            Digest machine = new Digest(gate);
            machines.put(group, machine);
            RaftConfig config = RaftConfig.builder(id).groupId(group).initialMembers(members).build();
            RaftNode<Long> node = RaftNode.builder(config, machine).transport(transport).storage(log)
                    .tickMillis(50).build();
            nodes.put(group, node);
            node.start();
        }

        @Override
        public void close() {
            nodes.values().forEach(RaftNode::close);
            transport.close();
            groupLogs.values().forEach(LogStorage::close);
            logs.close();
        }
    }

    @Test
    void twentyGroupsCommitAtOnceWithoutCrossTalkAndLeaveNoThreads(@TempDir Path dir) throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        List<String> groups = new ArrayList<>();
        for (int g = 0; g < GROUPS; g++) {
            groups.add("group-" + g);
        }
        CountDownLatch open = new CountDownLatch(0);
        CountDownLatch blockedGate = new CountDownLatch(1);
        Map<String, Process> processes = new LinkedHashMap<>();
        Map<String, String> members = new LinkedHashMap<>();
        try {
            for (String id : new String[] {"p1", "p2", "p3"}) {
                Process p = new Process(dir.resolve(id));
                processes.put(id, p);
                members.put(id, "127.0.0.1:" + p.transport.localPort());
            }
            processes.forEach((id, p) -> {
                groups.forEach(g -> p.start(id, g, members, open));
                p.start(id, BLOCKED, members, blockedGate);
            });
            // The blocked group commits its first command; its apply then never returns.
            RaftNode<Long> blockedLeader = awaitLeader(processes, BLOCKED);
            blockedLeader.propose(Bytes.ofUtf8(BLOCKED + ":1"));

            ExecutorService writers = Executors.newFixedThreadPool(GROUPS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int g = 0; g < GROUPS; g++) {
                    String group = groups.get(g);
                    long increment = g + 1;
                    done.add(writers.submit(() -> {
                        for (int i = 0; i < WRITES; i++) {
                            add(processes, group, increment, i * increment);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(180, TimeUnit.SECONDS);
                }
            } finally {
                writers.shutdownNow();
            }
            for (int g = 0; g < GROUPS; g++) {
                String group = groups.get(g);
                long want = (g + 1L) * WRITES;
                for (Process p : processes.values()) {
                    Digest machine = p.machines.get(group);
                    Await.until(() -> machine.sum == want, group + " applied " + want);
                }
                Set<Long> digests = processes.values().stream().map(p -> p.machines.get(group).digest)
                        .collect(Collectors.toSet());
                assertEquals(1, digests.size(), group + ": its members applied different commands: " + digests);
            }
            for (Process p : processes.values()) {
                assertEquals(0, p.machines.get(BLOCKED).sum, BLOCKED + " applied nothing while its apply was blocked");
            }
            blockedGate.countDown();
            for (Process p : processes.values()) {
                Digest machine = p.machines.get(BLOCKED);
                Await.until(() -> machine.sum == 1, BLOCKED + " applied once released");
            }
        } finally {
            blockedGate.countDown();
            processes.values().forEach(Process::close);
        }
        Await.until(() -> runtimeThreads(before).isEmpty(), "the runtime's threads to end: " + runtimeThreads(before));
    }

    private static List<String> runtimeThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t) && t.isAlive())
                .map(Thread::getName).filter(n -> n.startsWith("raft") || n.contains("rocksdb") || n.startsWith("pool"))
                .toList();
    }

    private static void add(Map<String, Process> processes, String group, long increment, long before) throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            RaftNode<Long> leader = awaitLeader(processes, group);
            try {
                long after = leader.propose(Bytes.ofUtf8(group + ":" + increment)).get(60, TimeUnit.SECONDS);
                assertEquals(before + increment, after, group);
                return;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof NotLeaderException) {
                    continue;
                }
                if (!(e.getCause() instanceof IndeterminateException || e.getCause() instanceof RaftStoppedException)) {
                    throw e;
                }
            }
            long now = read(processes, group);
            if (now == before + increment) {
                return;
            }
            assertEquals(before, now, group);
        }
        throw new AssertionError(group + ": no leader took the write");
    }

    /** A linearizable read of {@code group}'s counter, from whichever node leads it by then. */
    private static long read(Map<String, Process> processes, String group) throws Exception {
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                return awaitLeader(processes, group).query(Bytes.EMPTY).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException || e.getCause() instanceof IndeterminateException
                        || e.getCause() instanceof RaftStoppedException)) {
                    throw e;
                }
            }
        }
        throw new AssertionError(group + ": no leader answered a read");
    }

    private static RaftNode<Long> awaitLeader(Map<String, Process> processes, String group) {
        Await.until(() -> processes.values().stream().anyMatch(p -> p.nodes.get(group).isLeader()),
                "a leader of " + group);
        return processes.values().stream().map(p -> p.nodes.get(group)).filter(RaftNode::isLeader).findFirst()
                .orElseThrow();
    }
}

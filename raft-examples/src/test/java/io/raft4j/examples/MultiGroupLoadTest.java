package io.raft4j.examples;

import io.raft4j.RaftNode;
import io.raft4j.message.Bytes;
import io.raft4j.spi.StateMachine;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static io.raft4j.examples.GroupCounters.awaitLeader;
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

    /** One process of the test, and the state machines of its nodes by group. */
    private record Process(GroupProcess groups, Map<String, Digest> machines) {
        Process(Path dataDir) throws IOException {
            this(new GroupProcess(dataDir, "load", 0, 50, UnaryOperator.identity()), new LinkedHashMap<>());
        }

        void start(String id, String group, Map<String, String> members, CountDownLatch gate) {
            Digest machine = new Digest(gate);
            machines.put(group, machine);
            groups.start(id, group, members, machine);
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
                members.put(id, "127.0.0.1:" + p.groups().transport.localPort());
            }
            processes.forEach((id, p) -> {
                groups.forEach(g -> p.start(id, g, members, open));
                p.start(id, BLOCKED, members, blockedGate);
            });
            // The blocked group commits its first command; its apply then never returns.
            RaftNode<Long> blockedLeader = awaitLeader(groupProcesses(processes), BLOCKED);
            blockedLeader.propose(Bytes.ofUtf8(BLOCKED + ":1"));

            ExecutorService writers = Executors.newFixedThreadPool(GROUPS);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int g = 0; g < GROUPS; g++) {
                    String group = groups.get(g);
                    long increment = g + 1;
                    done.add(writers.submit(() -> {
                        for (int i = 0; i < WRITES; i++) {
                            GroupCounters.write(groupProcesses(processes), group, group + ":" + increment, i * increment,
                                    (i + 1) * increment);
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
                    Digest machine = p.machines().get(group);
                    Await.until(() -> machine.sum == want, group + " applied " + want);
                }
                Set<Long> digests = processes.values().stream().map(p -> p.machines().get(group).digest)
                        .collect(Collectors.toSet());
                assertEquals(1, digests.size(), group + ": its members applied different commands: " + digests);
            }
            for (Process p : processes.values()) {
                assertEquals(0, p.machines().get(BLOCKED).sum, BLOCKED + " applied nothing while its apply was blocked");
            }
            blockedGate.countDown();
            for (Process p : processes.values()) {
                Digest machine = p.machines().get(BLOCKED);
                Await.until(() -> machine.sum == 1, BLOCKED + " applied once released");
            }
        } finally {
            blockedGate.countDown();
            processes.values().forEach(p -> p.groups().close());
        }
        Await.until(() -> runtimeThreads(before).isEmpty(), "the runtime's threads to end: " + runtimeThreads(before));
    }

    private static List<String> runtimeThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t) && t.isAlive())
                .map(Thread::getName).filter(n -> n.startsWith("raft") || n.contains("rocksdb") || n.startsWith("pool"))
                .toList();
    }

    private static Map<String, GroupProcess> groupProcesses(Map<String, Process> processes) {
        Map<String, GroupProcess> groups = new LinkedHashMap<>();
        processes.forEach((id, p) -> groups.put(id, p.groups()));
        return groups;
    }
}

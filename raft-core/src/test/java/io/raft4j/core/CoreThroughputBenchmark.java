package io.raft4j.core;

import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.message.Bytes;
import io.raft4j.message.LogEntry;
import io.raft4j.message.RaftMessage;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Commits per second of the pure core alone: three {@link RaftCore}s, messages passed in memory,
 * writes "durable" at once, 128-byte commands proposed in batches of {@link #BATCH}. Shows that the
 * protocol logic is never the bottleneck.
 *
 * <pre>
 * mvn -q -pl raft-core test-compile
 * java -cp "raft-core/target/test-classes:raft-core/target/classes:$(cat raft-core/target/test-classpath.txt)" \
 *      org.openjdk.jmh.Main CoreThroughputBenchmark
 * </pre>
 * ({@code mvn -pl raft-core dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt}
 * writes the class path file.)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CoreThroughputBenchmark {
    static final int BATCH = 1000;

    private final Map<String, RaftCore> cores = new LinkedHashMap<>();
    private final Map<String, InMemoryLogStorage> storages = new LinkedHashMap<>();
    private final ArrayDeque<RaftMessage> inFlight = new ArrayDeque<>();
    private RaftCore leader;
    private final Bytes command = Bytes.wrap(new byte[128]);

    @Setup(Level.Trial)
    public void setUp() {
        for (String id : new String[]{"n1", "n2", "n3"}) {
            InMemoryLogStorage storage = new InMemoryLogStorage();
            storages.put(id, storage);
            cores.put(id, new RaftCore(RaftConfig.builder(id).initialMembers("n1", "n2", "n3").build(),
                    storage, new SplittableRandom(id.hashCode())));
        }
        // Elect a leader the ordinary way, by ticking (fresh nodes refuse votes for one timeout).
        for (int i = 0; i < 200 && leader == null; i++) {
            cores.values().forEach(RaftCore::tick);
            pump();
            leader = cores.values().stream().filter(c -> c.role() == Role.LEADER).findFirst().orElse(null);
        }
        if (leader == null) {
            throw new IllegalStateException("no leader elected");
        }
        pump();
    }

    /** Compacts the in-memory logs now and then so a long run does not fill the heap. */
    @Setup(Level.Iteration)
    public void compact() {
        for (Map.Entry<String, InMemoryLogStorage> e : storages.entrySet()) {
            long commit = cores.get(e.getKey()).commitIndex() - 1;
            if (commit > e.getValue().firstIndex()) {
                e.getValue().compact(commit, e.getValue().term(commit));
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long commitBatch() {
        long target = 0;
        for (int i = 0; i < BATCH; i++) {
            target = leader.propose(command);
        }
        while (leader.commitIndex() < target) {
            pump();
        }
        return leader.commitIndex();
    }

    private void pump() {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Map.Entry<String, RaftCore> e : cores.entrySet()) {
                RaftCore c = e.getValue();
                while (c.hasReady()) {
                    progress = true;
                    Ready rd = c.ready();
                    storages.get(e.getKey()).append(rd.entriesToPersist(), rd.hardState());
                    inFlight.addAll(rd.messages());
                    if (!rd.entriesToPersist().isEmpty()) {
                        LogEntry last = rd.entriesToPersist().get(rd.entriesToPersist().size() - 1);
                        c.persisted(last.index(), last.term());
                    }
                    inFlight.addAll(rd.messagesAfterPersist());
                }
            }
            RaftMessage m;
            while ((m = inFlight.poll()) != null) {
                progress = true;
                cores.get(m.to()).step(m);
            }
        }
    }
}

package io.raft4j;

import io.raft4j.core.RaftConfig;
import io.raft4j.memory.InMemoryLogStorage;
import io.raft4j.memory.InMemoryTransport;
import io.raft4j.message.Bytes;
import io.raft4j.message.HardState;
import io.raft4j.message.LogEntry;
import io.raft4j.spi.StateMachine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Nothing in the runtime interrupts the threads it owns (it stops them with a task of their own),
 * so an interrupt they get comes from a plug-in or a stranger: a state machine, a storage or a
 * callback that caught an InterruptedException and, as is good manners, set the flag again before
 * returning. It must not end the thread nor keep it from waiting.
 */
class StrayInterruptTest {

    /** Sets the interrupt flag of the thread applying "interrupt"; answers "check" with that thread's flag. */
    static final class Interrupting implements StateMachine<String> {
        @Override
        public String apply(long index, Bytes command) {
            if (command.toUtf8().equals("interrupt")) {
                Thread.currentThread().interrupt();
            }
            return command.toUtf8().equals("check") ? "interrupted " + Thread.currentThread().isInterrupted() : "ok";
        }
    }

    /**
     * The apply thread took the flag left by apply() as the order to end: its wait for the next
     * batch threw InterruptedException and the thread returned, saying nothing. The node ran on,
     * leading and accepting proposals, and none was ever applied again: their futures never completed.
     */
    @Test
    void anInterruptLeftByTheStateMachineDoesNotEndTheApplyThread() throws Exception {
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, new Interrupting()).transport(network)
                    .storage(new InMemoryLogStorage()).tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                assertEquals("ok", node.propose(Bytes.ofUtf8("interrupt")).get(5, TimeUnit.SECONDS));
                assertEquals("ok", node.propose(Bytes.ofUtf8("after")).get(5, TimeUnit.SECONDS));
                assertNull(node.failure());
            } finally {
                node.close();
            }
        }
    }

    /** The same on the storage thread: an append that left the flag set ended it, and nothing was written again. */
    @Test
    void anInterruptLeftByTheStorageDoesNotEndTheStorageThread() throws Exception {
        AtomicBoolean interruptNextAppend = new AtomicBoolean();
        ForwardingStorage storage = new ForwardingStorage(new InMemoryLogStorage()) {
            @Override
            public void append(List<LogEntry> entries, HardState hs) {
                super.append(entries, hs);
                if (interruptNextAppend.compareAndSet(true, false)) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public boolean writesWithoutBlocking() {
                return false; // written on the storage thread
            }
        };
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, new LocalCluster.RecordingStateMachine())
                    .transport(network).storage(storage).tickMillis(10).build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                assertEquals("applied:a", node.propose(Bytes.ofUtf8("a")).get(5, TimeUnit.SECONDS));
                interruptNextAppend.set(true);
                assertEquals("applied:b", node.propose(Bytes.ofUtf8("b")).get(5, TimeUnit.SECONDS));
                assertEquals("applied:c", node.propose(Bytes.ofUtf8("c")).get(5, TimeUnit.SECONDS));
                assertNull(node.failure());
            } finally {
                node.close();
            }
        }
    }

    /**
     * On the node's own loop thread (here applying, with applyOnLoop) the flag was never cleared:
     * every park returned at once, and the idle loop spun on a core for as long as the node ran. The
     * next apply on that thread still found the flag set.
     */
    @Test
    void anInterruptLeftOnTheOwnLoopThreadIsCleared() throws Exception {
        RaftConfig config = RaftConfig.builder("solo").initialMembers("solo").build();
        try (InMemoryTransport network = new InMemoryTransport()) {
            RaftNode<String> node = RaftNode.builder(config, new Interrupting()).transport(network)
                    .storage(new InMemoryLogStorage()).applyOnLoop(true).runOnTransportLoop(false).tickMillis(10)
                    .build();
            node.start();
            try {
                LocalCluster.await(Duration.ofSeconds(10), node::isLeader);
                assertEquals("ok", node.propose(Bytes.ofUtf8("interrupt")).get(5, TimeUnit.SECONDS));
                assertEquals("interrupted false", node.propose(Bytes.ofUtf8("check")).get(5, TimeUnit.SECONDS));
                assertNull(node.failure());
            } finally {
                node.close();
            }
        }
    }
}

package io.raft4j.memory;

import io.raft4j.message.RaftMessage;
import io.raft4j.spi.Transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Transport} inside one JVM: one instance is the network that every local node registers
 * with. Delivery is a direct hand-off to the receiver's inbox unless a delay is set.
 *
 * <p>Fault hooks for tests: {@link #isolate(String)}, {@link #partition(Set[])}, {@link #block(String,
 * String)} (one-way), {@link #setDropRate(double)}, {@link #setDelayMillis(long)}, and {@link #heal()}.
 * Blocks, isolations and partitions name nodes by id: they hold for a node whenever it registers, so
 * one that was down when the fault was set, and restarts, is inside it, as a new node is.
 */
public final class InMemoryTransport implements Transport, AutoCloseable {
    private record Address(String groupId, String nodeId) {
    }

    private record Link(String from, String to) {
    }

    private final Map<Address, Inbound> nodes = new ConcurrentHashMap<>();
    private final Set<Link> blocked = ConcurrentHashMap.newKeySet();
    private final Set<String> isolated = ConcurrentHashMap.newKeySet();
    /** The sides of the partition in force, {@code null} if none. */
    private volatile List<Set<String>> sides;
    private final SplittableRandom random;
    private volatile double dropRate;
    private volatile long delayMillis;
    /** Set holding {@code this}, as {@link #register} and {@link #delayer()} check it; {@link #send} reads it without. */
    private volatile boolean closed;
    private ScheduledExecutorService delayer;

    /** A network with no faults; {@code seed} drives random drops when a drop rate is set. */
    public InMemoryTransport(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A network with no faults, seeded with 0. */
    public InMemoryTransport() {
        this(0);
    }

    /**
     * As {@link Transport#register}.
     *
     * @throws IllegalStateException if that node is registered already, or this network is closed
     */
    @Override
    public synchronized void register(String groupId, String localId, Inbound inbound) {
        if (closed) {
            throw new IllegalStateException("cannot register " + localId + " in group " + groupId
                    + ": the in-memory transport is closed");
        }
        if (nodes.putIfAbsent(new Address(groupId, localId), inbound) != null) {
            throw new IllegalStateException(localId + " is already registered in group " + groupId);
        }
    }

    @Override
    public void unregister(String groupId, String localId) {
        nodes.remove(new Address(groupId, localId));
    }

    @Override
    public void send(RaftMessage message) {
        if (closed || cut(message.from(), message.to()) || shouldDrop()) {
            return;
        }
        Address to = new Address(message.groupId(), message.to());
        Inbound target = nodes.get(to);
        if (target == null) {
            Inbound sender = nodes.get(new Address(message.groupId(), message.from()));
            if (sender != null) {
                sender.peerUnreachable(message.to());
            }
            return;
        }
        long delay = delayMillis;
        if (delay > 0) {
            deliverLater(to, message, delay);
        } else {
            target.receive(message);
        }
    }

    /** Whether a block, isolation or partition in force stops messages from {@code from} to {@code to}. */
    private boolean cut(String from, String to) {
        if (blocked.contains(new Link(from, to))) {
            return true;
        }
        if (from.equals(to)) {
            return false;
        }
        if (isolated.contains(from) || isolated.contains(to)) {
            return true;
        }
        List<Set<String>> current = sides;
        return current != null && !sameSide(from, to, current);
    }

    private boolean shouldDrop() {
        double rate = dropRate;
        if (rate <= 0) {
            return false;
        }
        synchronized (random) {
            return random.nextDouble() < rate;
        }
    }

    /**
     * Delivers {@code message} after {@code delay} to whoever is registered at {@code to} then: a
     * node that unregistered meanwhile (closed, or crashed in a test) must not get it, and one
     * registered again under its id (restarted) does, as over a network.
     */
    private void deliverLater(Address to, RaftMessage message, long delay) {
        ScheduledExecutorService executor = delayer();
        if (executor == null) {
            return; // closed meanwhile
        }
        Runnable arrive = () -> {
            Inbound target = closed ? null : nodes.get(to);
            if (target != null) {
                target.receive(message);
            }
        };
        try {
            executor.schedule(arrive, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Closed between delayer() and here: dropped, as everything sent to a closed network.
        }
    }

    /** The thread that delivers delayed messages, started at the first; {@code null} once closed. */
    private synchronized ScheduledExecutorService delayer() {
        if (closed) {
            return null;
        }
        if (delayer == null) {
            delayer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "in-memory-transport-delay");
                t.setDaemon(true);
                return t;
            });
        }
        return delayer;
    }

    /**
     * Cuts {@code nodeId} off from every other node, both ways, until {@link #heal()}: also from
     * nodes that register later, and whenever {@code nodeId} itself registers.
     */
    public void isolate(String nodeId) {
        isolated.add(nodeId);
    }

    /**
     * Splits the nodes into groups that cannot reach each other, by id: a node registering later
     * (restarted, or new) is on the side that names it, and a node that no group names is isolated.
     * Heals the network first ({@link #heal()}): earlier blocks, the drop rate and the delay are gone.
     */
    @SafeVarargs
    public final void partition(Set<String>... sides) {
        heal();
        List<Set<String>> copy = new ArrayList<>();
        for (Set<String> side : sides) {
            copy.add(Set.copyOf(side));
        }
        this.sides = List.copyOf(copy);
    }

    private static boolean sameSide(String a, String b, List<Set<String>> sides) {
        for (Set<String> side : sides) {
            if (side.contains(a) && side.contains(b)) {
                return true;
            }
        }
        return false;
    }

    /** Drops every message from {@code from} to {@code to} (one way), until {@link #heal()}. */
    public void block(String from, String to) {
        blocked.add(new Link(from, to));
    }

    /** Removes every block and partition, the drop rate and the delay. */
    public void heal() {
        blocked.clear();
        isolated.clear();
        sides = null;
        dropRate = 0;
        delayMillis = 0;
    }

    /**
     * Drops each message with probability {@code rate} (0 to 1).
     *
     * @throws IllegalArgumentException if {@code rate} is not within [0, 1] (NaN included)
     */
    public void setDropRate(double rate) {
        if (!(rate >= 0 && rate <= 1)) { // written so that NaN fails too
            throw new IllegalArgumentException("drop rate must be within [0, 1]: " + rate);
        }
        this.dropRate = rate;
    }

    /**
     * Delays every message by {@code millis}; 0 delivers at once.
     *
     * @throws IllegalArgumentException if {@code millis} is negative
     */
    public void setDelayMillis(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("delay must not be negative: " + millis);
        }
        this.delayMillis = millis;
    }

    /**
     * Closes the network: nothing is sent or delivered any more (messages still delayed are
     * dropped), registering throws, and the nodes still registered are unregistered and told
     * ({@link Inbound#transportClosed()}), as a network transport does: a {@code RaftNode} then stops
     * with a failure. Close the nodes first.
     */
    @Override
    public void close() {
        List<Inbound> registered;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (delayer != null) {
                delayer.shutdownNow();
            }
            registered = new ArrayList<>(nodes.values());
            nodes.clear();
        }
        RuntimeException firstFailure = null;
        for (Inbound inbound : registered) {
            try {
                inbound.transportClosed();
            } catch (RuntimeException e) {
                // The others are told all the same; the first failure is the closer's to see.
                if (firstFailure == null) {
                    firstFailure = e;
                } else {
                    firstFailure.addSuppressed(e);
                }
            }
        }
        if (firstFailure != null) {
            throw firstFailure;
        }
    }
}

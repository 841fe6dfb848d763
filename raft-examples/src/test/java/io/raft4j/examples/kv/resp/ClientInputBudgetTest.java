package io.raft4j.examples.kv.resp;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node-wide budget of client input and the connections' accounts in it. */
class ClientInputBudgetTest {
    /** An account whose evictions are recorded instead of closing a channel. */
    private static final class Client {
        final String name;
        final ClientInputAccount account;
        final List<String> evictions = new ArrayList<>();

        Client(ClientInputBudget budget, String name) {
            this.name = name;
            this.account = budget.openAccount(name, evictions::add);
        }

        boolean evicted() {
            return !evictions.isEmpty();
        }
    }

    /** A client that opened its account and took {@code bytes} for its buffers. */
    private static Client holding(ClientInputBudget budget, String name, long bytes) {
        Client c = new Client(budget, name);
        assertTrue(c.account.reserveBuffered(bytes), name + " takes " + bytes);
        return c;
    }

    /** A connection another node forwards over (RAFT.FORWARDED), exempt from eviction, holding {@code bytes}. */
    private static Client forwarding(ClientInputBudget budget, String name, long bytes) {
        Client c = new Client(budget, name);
        assertTrue(c.account.exemptFromEviction());
        assertTrue(c.account.reserveBuffered(bytes), name + " takes " + bytes);
        return c;
    }

    @Test
    void aReservationIsTakenIfItFitsUnderTheLimitWithoutEvictingAnyone() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client a = new Client(budget, "a");
        Client b = new Client(budget, "b");
        assertTrue(a.account.reserveBuffered(600));
        assertTrue(b.account.reserveBuffered(400), "600 + 400 is exactly the limit");
        assertEquals(1000, budget.usedBytes());
        assertEquals(400, b.account.heldBytes());
        assertFalse(a.evicted() || b.evicted());
        assertEquals(0, budget.closedConnections());
    }

    @Test
    void inputThatDoesNotFitEvictsTheBiggestHolderNotTheAsker() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client stalled = holding(budget, "stalled", 700);
        Client small = holding(budget, "small", 100);
        Client asker = holding(budget, "asker", 100);

        assertTrue(asker.account.reserveBuffered(300), "900 + 300 is over 1000, but the stalled one holds more than 400");
        assertTrue(stalled.evicted(), "the biggest holder is evicted");
        assertFalse(small.evicted() || asker.evicted(), "one eviction made room");
        assertEquals(0, stalled.account.heldBytes());
        assertTrue(stalled.account.isClosed());
        assertEquals(500, budget.usedBytes(), "its 700 given back, the asker's 300 taken");
        assertEquals(400, asker.account.heldBytes());
        assertEquals(1, budget.evictedConnections());
        assertEquals(1, budget.closedConnections());
        String why = stalled.evictions.get(0);
        assertTrue(why.startsWith("client input over --max-client-input-bytes") && why.contains("700 bytes")
                && why.contains("1000 bytes"), why);
    }

    @Test
    void anAskerHoldingTheMostIsRefusedAndNobodyIsEvicted() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client other = holding(budget, "other", 400);
        Client asker = holding(budget, "asker", 350);
        assertFalse(asker.account.reserveBuffered(300), "it would hold 650, more than the other's 400");
        assertFalse(other.evicted());
        assertEquals(750, budget.usedBytes(), "a refused reservation takes nothing");
        assertEquals(0, budget.closedConnections(), "counted when the decoder refuses the connection");
        asker.account.refuse();
        assertEquals(1, budget.closedConnections());
        assertEquals(0, budget.evictedConnections());
    }

    @Test
    void anAskerThatWouldHoldAsMuchAsTheBiggestIsRefused() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client other = holding(budget, "other", 600);
        Client asker = holding(budget, "asker", 300);
        assertFalse(asker.account.reserveBuffered(300), "a tie keeps the connection already holding it");
        assertFalse(other.evicted());
    }

    @Test
    void ofTwoEqualBiggestHoldersTheOneOpenedLastIsEvicted() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client older = holding(budget, "older", 450);
        Client younger = holding(budget, "younger", 450);
        Client asker = new Client(budget, "asker");
        assertTrue(asker.account.reserveBuffered(200));
        assertTrue(younger.evicted());
        assertFalse(older.evicted());
        assertEquals(650, budget.usedBytes());
    }

    /**
     * Under the limit, one eviction of a connection holding more than the asker would always makes
     * room; more are needed when the total went over it, as answers owed are counted whatever the limit.
     */
    @Test
    void biggestHoldersAreEvictedOneAfterAnotherUntilTheInputFits() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client asker = holding(budget, "asker", 50);
        Client a = new Client(budget, "a");
        Client b = new Client(budget, "b");
        Client c = new Client(budget, "c");
        a.account.owe(500);
        b.account.owe(450);
        c.account.owe(400);
        assertEquals(1400, budget.usedBytes());

        assertTrue(asker.account.reserveBuffered(250), "a's 500 are not enough; b's 450 then are");
        assertTrue(a.evicted() && b.evicted());
        assertFalse(c.evicted() || asker.evicted(), "not one more than needed");
        assertEquals(400 + 300, budget.usedBytes());
        assertEquals(2, budget.evictedConnections());
    }

    @Test
    void evictionsStopOnceTheAskerWouldHoldTheMostAndItIsRefused() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client big = new Client(budget, "big");
        Client smaller = new Client(budget, "smaller");
        Client asker = new Client(budget, "asker");
        big.account.owe(700);
        smaller.account.owe(600);

        // 1300 + 650: the biggest (700) goes, as the asker would hold less; 1250 are still over, and
        // the asker would hold more than the 600 left.
        assertFalse(asker.account.reserveBuffered(650));
        assertTrue(big.evicted());
        assertFalse(smaller.evicted());
        assertEquals(600, budget.usedBytes());
    }

    /**
     * A follower's forwarding connection carries many clients' writes and so is typically the biggest
     * holder; evicting it made the follower answer all of them -UNCERTAIN. Like Redis's replication
     * links, it is never evicted: the biggest of the others is.
     */
    @Test
    void anExemptConnectionHoldingTheMostIsSkippedAndTheNextBiggestEvictableOneIsEvicted() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client forwarding = forwarding(budget, "forwarding", 600);
        Client stalled = holding(budget, "stalled", 300);
        Client asker = holding(budget, "asker", 50);

        assertTrue(asker.account.reserveBuffered(200), "950 + 200 is over 1000; the stalled one holds more than 250");
        assertFalse(forwarding.evicted(), "the forwarding connection is never evicted");
        assertTrue(stalled.evicted(), "the biggest evictable holder is");
        assertFalse(asker.evicted());
        assertEquals(600 + 250, budget.usedBytes(), "the exempt connection's input still counts");
        assertEquals(1, budget.evictedConnections());
        String why = stalled.evictions.get(0);
        assertTrue(why.startsWith("client input over --max-client-input-bytes: this connection held the most"), why);
    }

    @Test
    void anOrdinaryAskerIsRefusedWhenOnlyExemptConnectionsHoldMoreThanItWould() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client forwarding = forwarding(budget, "forwarding", 700);
        Client small = holding(budget, "small", 100);
        Client asker = holding(budget, "asker", 100);

        assertFalse(asker.account.reserveBuffered(200), "1100 is over; only the exempt connection holds more than 300");
        assertFalse(forwarding.evicted() || small.evicted(), "nobody is evicted: the small one holds less than the asker would");
        assertEquals(900, budget.usedBytes(), "a refused reservation takes nothing");
        asker.account.refuse();
        assertEquals(1, budget.closedConnections());
        assertEquals(0, budget.evictedConnections());
        // A buffer grown over the limit is refused alike, not made room for by the exempt one.
        assertFalse(asker.account.settleBuffered(350));
        assertFalse(forwarding.evicted());
    }

    @Test
    void anExemptAskerEvictsBiggerOrdinaryHoldersNeverAnotherExemptOneAndIsOtherwiseRefused() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client otherForwarding = forwarding(budget, "other forwarding", 500);
        Client stalled = holding(budget, "stalled", 350);
        Client asker = forwarding(budget, "forwarding asker", 100);

        assertTrue(asker.account.reserveBuffered(200), "950 + 200 is over; the stalled one holds more than 300");
        assertTrue(stalled.evicted());
        assertFalse(otherForwarding.evicted() || asker.evicted());
        assertEquals(800, budget.usedBytes());

        assertFalse(asker.account.reserveBuffered(300), "1100 is over, and no evictable connection holds more than 600");
        assertFalse(otherForwarding.evicted());
        asker.account.refuse(); // closed for its own input, as any connection: the bound holds
        assertEquals(2, budget.closedConnections());
        assertEquals(1, budget.evictedConnections());
    }

    @Test
    void anExemptionComesTooLateForAConnectionEvictedAlreadyAndIsGivenBackOnClose() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client victim = holding(budget, "victim", 700);
        Client asker = holding(budget, "asker", 100);
        assertTrue(asker.account.reserveBuffered(300));
        assertTrue(victim.evicted());
        assertFalse(victim.account.exemptFromEviction(), "an eviction that began first goes on");
        assertTrue(victim.account.isClosed());
        assertEquals(1, victim.evictions.size());

        Client forwarding = forwarding(budget, "forwarding", 500);
        assertEquals(900, budget.usedBytes());
        forwarding.account.close();
        assertEquals(400, budget.usedBytes(), "what an exempt connection held comes back when it closes");
    }

    @Test
    void aBufferThatGrewOverTheLimitEvictsBiggerHoldersOrIsRefused() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client big = holding(budget, "big", 600);
        Client growing = holding(budget, "growing", 100);
        assertTrue(growing.account.settleBuffered(500), "over the limit, but the other holds more");
        assertTrue(big.evicted());
        assertEquals(500, budget.usedBytes());
        assertFalse(growing.account.settleBuffered(1200), "over the limit, holding the most");
        assertEquals(1200, budget.usedBytes(), "memory held is counted, over the limit or not");
        assertTrue(growing.account.settleBuffered(1100), "shrinking is never refused, even while over");
        assertTrue(growing.account.settleBuffered(0));
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void aConnectionHoldingOnlyUnansweredRequestsIsEvictedLikeAny() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client pipelining = new Client(budget, "pipelining");
        Client asker = new Client(budget, "asker");
        pipelining.account.owe(300);
        pipelining.account.owe(500);
        assertEquals(800, pipelining.account.owedBytes());
        assertEquals(800, budget.usedBytes());
        assertTrue(asker.account.reserveBuffered(201), "800 + 201 is over; the 800 owed are the most");
        assertTrue(pipelining.evicted());
        assertEquals(201, budget.usedBytes());
        // Its replies are written, or dropped, after the eviction: nothing is given back twice.
        pipelining.account.paid(300);
        pipelining.account.paid(500);
        assertEquals(0, pipelining.account.owedBytes());
        assertEquals(201, budget.usedBytes());
    }

    @Test
    void aRefusedConnectionIsNeverEvictedAndEachIsCountedOnce() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client refused = new Client(budget, "refused");
        Client asker = new Client(budget, "asker");
        refused.account.owe(900); // a refused connection still owes the replies before its -ERR
        refused.account.refuse();
        assertFalse(asker.account.reserveBuffered(200), "the refused one is closing already: not evicted again");
        assertFalse(refused.evicted());
        assertEquals(1, budget.closedConnections());

        Client evicted = new Client(budget, "evicted");
        Client another = new Client(budget, "another");
        refused.account.close();
        assertTrue(evicted.account.reserveBuffered(800));
        assertTrue(another.account.reserveBuffered(300));
        assertTrue(evicted.evicted());
        evicted.account.refuse(); // its decoder refusing it too, in a race with the eviction
        assertEquals(2, budget.closedConnections());
        assertEquals(1, budget.evictedConnections());
    }

    @Test
    void anEvictedAccountStopsCountingAndEverythingComesBackWhenAllClose() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        Client victim = holding(budget, "victim", 200);
        Client asker = new Client(budget, "asker");
        victim.account.settleBuffered(650);
        victim.account.owe(100);
        assertTrue(asker.account.reserveBuffered(300));
        assertTrue(victim.evicted());
        assertEquals(300, budget.usedBytes());
        // The victim's event loop goes on until it closes the connection: reads, replies, its buffers released.
        assertTrue(victim.account.reserveBuffered(5000), "not refused: it reads nothing more");
        assertTrue(victim.account.settleBuffered(9000));
        victim.account.owe(40);
        victim.account.paid(140);
        victim.account.settleBuffered(0);
        assertEquals(0, victim.account.heldBytes());
        assertEquals(300, budget.usedBytes());
        victim.account.close();
        victim.account.close();
        assertEquals(1, victim.evictions.size(), "evicted once");
        asker.account.settleBuffered(0);
        asker.account.close();
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void closingGivesEverythingBackOnceAndLaterChangesLeaveTheBudgetAlone() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        ClientInputAccount a = budget.openAccount();
        ClientInputAccount other = budget.openAccount();
        other.owe(10);
        assertTrue(a.reserveBuffered(200));
        a.settleBuffered(250);
        a.owe(300);
        assertEquals(560, budget.usedBytes());
        a.close();
        assertEquals(10, budget.usedBytes());
        assertEquals(0, a.heldBytes());
        // A reply completing after the close, the decoder releasing its buffer: nothing is given back twice.
        a.paid(300);
        a.settleBuffered(0);
        a.owe(40);
        assertTrue(a.reserveBuffered(5000), "a closed connection is not refused: it reads nothing more");
        a.close();
        assertEquals(10, budget.usedBytes());
        other.paid(10);
        assertEquals(0, budget.usedBytes());
    }

    /**
     * Accounts changed by their own threads while others' inputs evict them: the total never reads
     * below 0, each eviction is handed over once, and once every account is closed the total is 0.
     */
    @Test
    void concurrentGrowthShrinkingAndEvictionsNeverTakeTheTotalBelowZeroNorLeak() throws InterruptedException {
        ClientInputBudget budget = new ClientInputBudget(128 << 10);
        int threads = 4;
        int accountsPerThread = 8;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong lowest = new AtomicLong();
        AtomicInteger handedOver = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(threads);
        List<Throwable> failures = new ArrayList<>();
        Thread watcher = new Thread(() -> {
            while (!stop.get()) {
                lowest.accumulateAndGet(budget.usedBytes(), Math::min);
            }
        });
        watcher.start();
        for (int t = 0; t < threads; t++) {
            long seed = t;
            new Thread(() -> {
                try {
                    runOwner(budget, accountsPerThread, new Random(seed), handedOver);
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                } finally {
                    done.countDown();
                }
            }).start();
        }
        assertTrue(done.await(60, TimeUnit.SECONDS), "owners finished");
        stop.set(true);
        watcher.join();
        assertEquals(List.of(), failures);
        assertEquals(0, lowest.get(), "never below 0");
        assertEquals(0, budget.usedBytes(), "nothing leaked");
        assertEquals(handedOver.get(), budget.evictedConnections(), "each eviction handed over once");
        assertTrue(budget.evictedConnections() > 0, "the run evicted some");
    }

    /**
     * As above, one connection per event loop forwarding from another node (exempt), exempted while
     * others may be choosing it: none of them is ever evicted, and nothing leaks.
     */
    @Test
    void concurrentEvictionsNeverEvictAnExemptConnection() throws InterruptedException {
        ClientInputBudget budget = new ClientInputBudget(128 << 10);
        int threads = 4;
        AtomicInteger handedOver = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(threads);
        List<Throwable> failures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long seed = 100 + t;
            new Thread(() -> {
                try {
                    runOwner(budget, 8, new Random(seed), handedOver, true);
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                } finally {
                    done.countDown();
                }
            }).start();
        }
        assertTrue(done.await(60, TimeUnit.SECONDS), "owners finished");
        assertEquals(List.of(), failures);
        assertEquals(0, budget.usedBytes(), "nothing leaked");
        assertEquals(handedOver.get(), budget.evictedConnections());
        assertTrue(budget.evictedConnections() > 0, "the run evicted some ordinary connections");
    }

    private static void runOwner(ClientInputBudget budget, int accounts, Random random, AtomicInteger handedOver) {
        runOwner(budget, accounts, random, handedOver, false);
    }

    /**
     * One event loop's worth of connections: reads, requests, replies; closes those evicted, and
     * reopens them. With {@code firstForwards}, the first of them announces RAFT.FORWARDED at some
     * turn after it opens, often holding input already, and is never to be evicted from then on.
     */
    private static void runOwner(ClientInputBudget budget, int accounts, Random random, AtomicInteger handedOver,
                                 boolean firstForwards) {
        AtomicBoolean[] exempt = new AtomicBoolean[accounts];
        ClientInputAccount[] open = new ClientInputAccount[accounts];
        long[] buffered = new long[accounts];
        AtomicBoolean[] evicted = new AtomicBoolean[accounts];
        for (int round = 0; round < 20_000; round++) {
            int i = random.nextInt(accounts);
            if (open[i] == null || (evicted[i].get() && open[i].isClosed())) {
                if (open[i] != null) {
                    open[i].close(); // the evicted connection's loop closes it
                }
                AtomicBoolean flag = new AtomicBoolean();
                AtomicBoolean isExempt = new AtomicBoolean();
                evicted[i] = flag;
                exempt[i] = isExempt;
                open[i] = budget.openAccount("c" + i, why -> {
                    if (flag.getAndSet(true)) {
                        throw new AssertionError("handed over twice");
                    }
                    if (isExempt.get()) {
                        throw new AssertionError("an exempt connection evicted");
                    }
                    handedOver.incrementAndGet();
                });
                buffered[i] = 0;
            }
            ClientInputAccount a = open[i];
            if (firstForwards && i == 0 && !exempt[i].get() && random.nextInt(4) == 0) {
                // Announced on its own loop while others may be making room; exempt only if no eviction began first.
                exempt[i].set(a.exemptFromEviction());
            }
            switch (random.nextInt(4)) {
                case 0 -> {
                    long more = random.nextInt(8 << 10);
                    if (a.reserveBuffered(more)) {
                        buffered[i] += more;
                    }
                }
                case 1 -> {
                    buffered[i] = Math.max(0, buffered[i] + random.nextInt(8 << 10) - (4 << 10));
                    if (!a.settleBuffered(buffered[i])) {
                        a.refuse(); // and its connection closes
                        a.close();
                        open[i] = null;
                    }
                }
                case 2 -> {
                    long bytes = random.nextInt(2 << 10);
                    a.owe(bytes);
                    a.paid(bytes);
                }
                default -> {
                    a.close();
                    open[i] = null;
                }
            }
        }
        for (ClientInputAccount a : open) {
            if (a != null) {
                a.close();
            }
        }
    }

    @Test
    void noLimitCountsButNeverRefuses() {
        ClientInputBudget budget = ClientInputBudget.unlimited();
        ClientInputAccount a = budget.openAccount();
        assertTrue(a.reserveBuffered(Integer.MAX_VALUE));
        assertTrue(a.settleBuffered(3L << 31));
        assertEquals(3L << 31, budget.usedBytes());
        assertEquals(0, budget.limitBytes());
        a.close();
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void refusalsAreCountedAndNameTheOption() {
        ClientInputBudget budget = new ClientInputBudget(4096);
        String why = budget.openAccount().refuse();
        assertTrue(why.contains("--max-client-input-bytes") && why.contains("4096"), why);
        assertEquals(1, budget.closedConnections());
    }

    @Test
    void theDefaultIsAQuarterOfTheSmallerOfHeapAndDirectMemory() {
        long limit = ClientInputBudget.defaultLimit();
        assertTrue(limit > 0);
        assertTrue(limit <= Runtime.getRuntime().maxMemory() / 4, limit + " bytes");
        assertThrows(IllegalArgumentException.class, () -> new ClientInputBudget(-1));
    }
}

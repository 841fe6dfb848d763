package io.raft4j.examples.kv.resp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node-wide budget of client input and the connections' accounts in it. */
class ClientInputBudgetTest {
    @Test
    void aReservationIsTakenOnlyIfItFitsUnderTheLimit() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        ClientInputAccount a = budget.openAccount();
        ClientInputAccount b = budget.openAccount();
        assertTrue(a.reserveBuffered(600));
        assertFalse(b.reserveBuffered(401), "600 + 401 is over 1000");
        assertEquals(600, budget.usedBytes(), "a refused reservation takes nothing");
        assertTrue(b.reserveBuffered(400), "600 + 400 is exactly the limit");
        assertEquals(1000, budget.usedBytes());
        assertEquals(400, b.heldBytes());
    }

    @Test
    void settlingRecordsTheExactBytesAndRefusesOnlyGrowthOverTheLimit() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        ClientInputAccount a = budget.openAccount();
        assertTrue(a.reserveBuffered(100));
        assertTrue(a.settleBuffered(700), "700 fits");
        assertEquals(700, budget.usedBytes());
        assertFalse(a.settleBuffered(1200), "the buffer grew past the limit");
        assertEquals(1200, budget.usedBytes(), "memory held is counted, over the limit or not");
        assertTrue(a.settleBuffered(1100), "shrinking is never refused, even while over");
        assertTrue(a.settleBuffered(0));
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void owedArgumentsCountUntilPaidAndCountForTheLimit() {
        ClientInputBudget budget = new ClientInputBudget(1000);
        ClientInputAccount a = budget.openAccount();
        ClientInputAccount b = budget.openAccount();
        a.owe(300);
        a.owe(500);
        assertEquals(800, a.owedBytes());
        assertEquals(800, budget.usedBytes());
        assertFalse(b.reserveBuffered(201), "owed arguments leave 200");
        a.paid(300);
        assertTrue(b.reserveBuffered(201));
        a.paid(500);
        assertEquals(0, a.owedBytes());
        assertEquals(201, budget.usedBytes());
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

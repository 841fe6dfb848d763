package io.raft4j.examples.kv.bench;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class BenchValuesTest {
    /**
     * Found in a sweep: the values were cut from a fixed 1 MiB pool, so --size 1048576 up to the
     * accepted 8 MiB threw "bound must be positive" as the first value was made, after the cluster
     * had started.
     */
    @Test
    void everyAcceptedSizeMakesValues() {
        for (int size : new int[] {1, 8, 128, (1 << 20) - 1, 1 << 20, 3_000_000, BenchCommand.MAX_VALUE_BYTES}) {
            BenchValues values = new BenchValues(size, new Random(42));
            byte[] first = values.next(1);
            byte[] second = values.next(2);
            assertEquals(size, first.length);
            assertEquals(size, second.length);
            assertFalse(size >= 8 && Arrays.equals(first, second), "two values alike at size " + size);
        }
    }
}

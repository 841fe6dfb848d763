package io.raft4j.examples.kv.bench;

import java.util.Random;

/**
 * The values the benchmark writes: {@code size} bytes cut at a random offset from a pool of random
 * bytes, the first eight overwritten by a sequence number so that no two are alike. The pool is
 * at least twice the size: it was a fixed 1 MiB, and any --size from 1 MiB up (up to 8 MiB are
 * accepted) asked {@code Random.nextInt} for an offset below zero, which threw once the cluster ran.
 */
final class BenchValues {
    private static final int MIN_POOL_BYTES = 1 << 20;

    private final int size;
    private final Random random;
    private final byte[] pool;

    BenchValues(int size, Random random) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive, was " + size);
        }
        this.size = size;
        this.random = random;
        this.pool = new byte[Math.max(MIN_POOL_BYTES, 2 * size)];
        random.nextBytes(pool);
    }

    /** A fresh value carrying {@code seq}. */
    byte[] next(long seq) {
        byte[] value = new byte[size];
        System.arraycopy(pool, random.nextInt(pool.length - size + 1), value, 0, size);
        for (int i = 0; i < Math.min(8, size); i++) {
            value[i] = (byte) (seq >>> (8 * i));
        }
        return value;
    }
}

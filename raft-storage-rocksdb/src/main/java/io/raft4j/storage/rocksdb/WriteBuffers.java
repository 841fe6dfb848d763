package io.raft4j.storage.rocksdb;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * The direct buffers payloads are written to segment files through, shared by every group of the
 * process: a buffer per group (or per writing thread) kept a MiB of direct memory for each group
 * that ever stored a large payload, hundreds of MiB in a process hosting hundreds of groups. At most
 * {@value #KEPT} are kept between writes; more writing at once get buffers of their own, dropped
 * afterwards (freed by the garbage collector).
 */
final class WriteBuffers {
    static final int BUFFER_BYTES = 1 << 20;
    static final int KEPT = 2;
    private static final ArrayBlockingQueue<ByteBuffer> IDLE = new ArrayBlockingQueue<>(KEPT);

    private WriteBuffers() {
    }

    /** A cleared buffer of {@link #BUFFER_BYTES}, to {@link #give} back when done. */
    static ByteBuffer take() {
        ByteBuffer buffer = IDLE.poll();
        return buffer != null ? buffer.clear() : ByteBuffer.allocateDirect(BUFFER_BYTES);
    }

    static void give(ByteBuffer buffer) {
        IDLE.offer(buffer);
    }
}

package io.raft4j.snapshot;

import io.raft4j.message.ClusterConfig;
import io.raft4j.message.SnapshotMeta;
import io.raft4j.spi.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A snapshot written and read in pieces of 64 KiB ({@link FileNamingOutputStream#MAX_PIECE_BYTES})
 * comes back byte for byte whatever the sizes of the writes and reads around those pieces: empty,
 * either side of 64 KiB and of a 1 MiB chunk, and not a multiple of either. Random bytes, so a piece
 * written or read at the wrong offset shows.
 */
class SnapshotPieceBoundariesTest {
    private static final ClusterConfig CONFIG = ClusterConfig.ofVoters(Set.of("a", "b", "c"));
    private static final int PIECE = FileNamingOutputStream.MAX_PIECE_BYTES;
    private static final int[] SIZES = {0, 1, PIECE - 1, PIECE, PIECE + 1, 1 << 20, (1 << 20) + 1, 3 * PIECE + 5};

    @TempDir
    Path dir;

    @Test
    void writesAndReadsOfEverySizeAroundThePiecesGiveBackTheSameBytes() throws IOException {
        int total = Arrays.stream(SIZES).sum() * 2;
        byte[] content = new byte[total];
        new SplittableRandom(92).nextBytes(content);
        CRC32C crc = new CRC32C();
        crc.update(content);

        FileSnapshotStore store = new FileSnapshotStore(dir);
        try (SnapshotStore.Sink sink = store.begin(new SnapshotMeta(7, 1, CONFIG))) {
            int at = 0;
            for (int round = 0; round < 2; round++) {
                for (int size : SIZES) {
                    sink.out().write(content, at, size);
                    at += size;
                }
            }
            assertEquals(total, at);
            assertEquals(total, sink.publish(crc.getValue()).sizeBytes());
        }

        FileSnapshotStore reopened = new FileSnapshotStore(dir); // checks size and CRC of the file
        assertEquals(7, reopened.latest().orElseThrow().meta().lastIndex());
        for (int size : SIZES) {
            for (int offset : new int[] {0, 1, PIECE - 1, PIECE, PIECE + 1, total - size, total - 1}) {
                byte[] read = reopened.read(7, offset, size).toByteArray();
                int expected = Math.max(0, Math.min(size, total - offset));
                assertArrayEquals(Arrays.copyOfRange(content, offset, offset + expected), read,
                        size + " bytes read at " + offset);
            }
        }
        try (InputStream in = reopened.open(7)) {
            assertArrayEquals(content, in.readAllBytes(), "the whole snapshot through open()");
        }
        try (InputStream in = reopened.open(7)) {
            byte[] back = new byte[total];
            int at = 0;
            for (int i = 0; at < total; i++) {
                int read = in.read(back, at, Math.min(SIZES[i % SIZES.length] + 1, total - at));
                at += Math.max(0, read);
            }
            assertEquals(-1, in.read());
            assertArrayEquals(content, back, "the whole snapshot through reads of every size");
        }
    }
}

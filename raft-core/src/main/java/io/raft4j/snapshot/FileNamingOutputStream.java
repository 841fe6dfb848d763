package io.raft4j.snapshot;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * An output stream to a file whose I/O errors name the file. The JDK reports a failed write as
 * "No space left on device" and nothing more, which left an operator of a node whose snapshot failed
 * to guess which disk was full (found by a full-disk drill); this says
 * "writing /data/n1/snapshots/tmp-123.data: No space left on device", the original as its cause.
 */
final class FileNamingOutputStream extends FilterOutputStream {
    /** The most handed to the file at once (see {@link #write(byte[], int, int)}). */
    static final int MAX_PIECE_BYTES = 64 << 10;
    private final Path file;

    FileNamingOutputStream(Path file, OutputStream out) {
        super(out);
        this.file = file;
    }

    @Override
    public void write(int b) throws IOException {
        try {
            out.write(b);
        } catch (IOException e) {
            throw failed("writing", file, e);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        // Not FilterOutputStream's version, which writes a byte at a time. In pieces: a file
        // channel's stream copies a heap array through a temporary direct buffer of the size
        // written, which the JDK keeps for the thread; a follower's storage thread writing 1 MiB
        // chunks of a received snapshot kept a MiB of direct memory per group for good.
        try {
            for (int done = 0; done < len; ) {
                int piece = Math.min(len - done, MAX_PIECE_BYTES);
                out.write(b, off + done, piece);
                done += piece;
            }
        } catch (IOException e) {
            throw failed("writing", file, e);
        }
    }

    @Override
    public void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            throw failed("writing", file, e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } catch (IOException e) {
            throw failed("closing", file, e);
        }
    }

    /**
     * {@code e} as an error of {@code doing} {@code file}: "syncing /data/x: Input/output error";
     * as it is if it names its file already (the JDK's errors of opening, renaming, deleting).
     */
    static IOException failed(String doing, Path file, IOException e) {
        if (e instanceof FileSystemException) {
            return e;
        }
        return new IOException(doing + " " + file + ": " + e.getMessage(), e);
    }
}

package io.raft4j.storage.rocksdb;

import io.raft4j.message.LogEntry;
import io.raft4j.spi.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The payloads of one group's large entries, outside RocksDB: append-only segment files that each
 * payload is written to once, fsynced by a thread of their own.
 *
 * <p>Why: RocksDB writes every value twice (its WAL, then an SST file when the memtable flushes) and
 * the rocksdbjni build on Maven Central checksums its WAL in software; for large payloads that, not
 * the disk, bounded throughput. Here a payload is written once, its CRC32C computed by the JDK (in
 * hardware), and RocksDB only carries a {@link Codec.SegmentRef} of a few dozen bytes.
 *
 * <p>Crash safety: {@link #write} hands the payloads to a thread of its own, which writes and syncs
 * them (and a new file's directory entry) while the caller writes the references to RocksDB, so
 * the two syncs overlap instead of following each other; the caller acknowledges nothing before
 * both are done. A crash can therefore leave references to payloads that never reached the disk,
 * but only those of the group's last append, which was never acknowledged: the caller records that
 * append ({@link Codec.SegmentWrite}) in the same RocksDB batch as its references, and recovery
 * ends the log before it if its payloads are incomplete. A crash can also leave bytes no reference
 * points to at the end of a file, which nothing reads; they are reclaimed with the file.
 *
 * <p>Files are named by a sequence number ({@code 0000000000000007.seg}) and only the newest is
 * appended to. Because appends always go to the newest file, the segments referenced by a log's
 * entries never decrease with the index; so a file can be deleted once the log is compacted past
 * the highest index that ever referenced it. Each opening starts a new file, so a torn tail of the
 * previous run is never appended to.
 *
 * <p>A file no longer referenced is not deleted but <em>recycled</em> (up to {@value #MAX_FREE_FILES}
 * kept): renamed to {@code NNNNNNNNNNNNNNNN.free}, and renamed again to the next segment's name when
 * one is needed, then overwritten from its start. Measured on ext4: deleting a 64 MiB file took
 * 65-275 ms, on the thread that compacted the log, and an {@code fdatasync} of bytes overwritten in
 * place does not wait for block allocation as one of a growing file does. Stale bytes past the write
 * position are harmless: a reference that outlives a crash points at bytes synced before it, or
 * belongs to the last append, whose payloads recovery checks (a payload of stale bytes fails its
 * checksum).
 *
 * <p>Thread-safety: one writer ({@link #write}, {@link #releaseThrough}, {@link #releaseAll}, under
 * the storage's write lock, which waits for each write's sync before the next call) and any number
 * of readers; the file table is guarded by {@code this},
 * I/O happens outside it.
 */
final class PayloadSegments implements AutoCloseable {
    private static final String SUFFIX = ".seg";
    private static final String FREE_SUFFIX = ".free";
    /** Released files kept for reuse; beyond this they are deleted. */
    static final int MAX_FREE_FILES = 4;
    /** Group ids longer than this (in UTF-8 bytes) get a hashed directory name. */
    private static final int MAX_PLAIN_NAME_BYTES = 100;
    private static final int WRITE_CHUNK_BYTES = 1 << 20;
    /** The most read from a segment file at once (see {@link #readFully}). */
    private static final int READ_PIECE_BYTES = 256 << 10;
    /** How long a group's payload thread waits for another write before it ends (the next starts one). */
    private static final long SYNCER_IDLE_MILLIS = 2_000;

    private final Path directory;
    private final String groupId;
    private final long fileBytes;

    // Guarded by this.
    /** Every segment file present, by sequence, to the highest index that referenced it (-1: none). */
    private final TreeMap<Long, Long> highestIndex = new TreeMap<>();
    private final Map<Long, FileChannel> readers = new HashMap<>();
    /** Released files waiting for reuse, by their former sequence number. */
    private final ArrayDeque<Long> free = new ArrayDeque<>();
    private boolean closed;

    // Writer only.
    private long current = -1;
    /** Never reused, even after the files before it are deleted. */
    private long nextSequence;
    private FileChannel currentChannel;
    private long currentSize;
    private final CRC32C crc = new CRC32C();
    private ExecutorService syncer;
    /**
     * The syncer thread's buffer of payloads to write (one write at a time: the writer waits for
     * each). Held by that thread, so it goes with it once the thread ends idle: kept by the group,
     * a process hosting hundreds of groups held a MiB of direct memory for each that ever stored a
     * large payload.
     */
    private final ThreadLocal<ByteBuffer> chunks =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(WRITE_CHUNK_BYTES));

    private PayloadSegments(Path directory, String groupId, long fileBytes) {
        this.directory = directory;
        this.groupId = groupId;
        this.fileBytes = fileBytes;
    }

    /**
     * Lists the segment files of {@code groupId} under {@code root} (none if the directory does not
     * exist; it is created on the first write).
     */
    static PayloadSegments open(Path root, String groupId, long fileBytes) {
        PayloadSegments segments = new PayloadSegments(root.resolve(directoryName(groupId)), groupId, fileBytes);
        segments.scan();
        return segments;
    }

    /** A file-system-safe directory name for a group: its UTF-8 bytes in hex, or a hash of them if long. */
    static String directoryName(String groupId) {
        byte[] utf8 = groupId.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= MAX_PLAIN_NAME_BYTES) {
            return "g-" + HexFormat.of().formatHex(utf8);
        }
        try {
            return "h-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(utf8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * Deletes the segment directory of {@code groupId} under {@code root} with everything in it
     * (only that group's files are there), then syncs {@code root} so that the removal is durable.
     * Nothing is open on it: the group's storage is closed. {@code afterEachFile} runs after each
     * file is deleted (for tests that stop half-way).
     *
     * @return the number of files deleted
     */
    static int deleteDirectory(Path root, String groupId, Runnable afterEachFile) throws IOException {
        Path directory = root.resolve(directoryName(groupId));
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        int deleted = 0;
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(directory)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList(); // children before parents
        }
        for (Path path : paths) {
            boolean file = !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
            Files.deleteIfExists(path);
            if (file) {
                deleted++;
                afterEachFile.run();
            }
        }
        Database.syncDirectory(root);
        return deleted;
    }

    private void scan() {
        if (!Files.isDirectory(directory)) {
            return;
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                long sequence = sequenceOf(name, SUFFIX);
                long freeSequence = sequenceOf(name, FREE_SUFFIX);
                if (sequence >= 0) {
                    highestIndex.put(sequence, -1L);
                } else if (freeSequence >= 0) {
                    free.add(freeSequence);
                } else {
                    throw new StorageException("group " + groupId + ": unexpected file " + file + " among the"
                            + " payload segments (expected only NNNNNNNNNNNNNNNN" + SUFFIX + " and NNNNNNNNNNNNNNNN"
                            + FREE_SUFFIX + "). Nothing was changed.");
                }
                nextSequence = Math.max(nextSequence, Math.max(sequence, freeSequence) + 1);
            }
        } catch (IOException e) {
            throw new StorageException("group " + groupId + ": cannot list its payload segments in " + directory
                    + ": " + e, e);
        }
    }

    private static long sequenceOf(String name, String suffix) {
        if (name.length() != 16 + suffix.length() || !name.endsWith(suffix)) {
            return -1;
        }
        try {
            return Long.parseUnsignedLong(name.substring(0, 16), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private Path file(long sequence) {
        return directory.resolve(String.format("%016x%s", sequence, SUFFIX));
    }

    private Path freeFile(long sequence) {
        return directory.resolve(String.format("%016x%s", sequence, FREE_SUFFIX));
    }

    // ---- writing -------------------------------------------------------------------------------

    /**
     * Starts appending the payloads of {@code entries} to the newest segment (starting one if it is
     * full): returns at once where each will be, while another thread writes and syncs them. The
     * caller must wait for {@link Write#awaitDurable} before it treats anything pointing at them
     * as durable, and before the next write.
     */
    Write write(List<LogEntry> entries) throws IOException {
        long total = 0;
        for (LogEntry entry : entries) {
            total += entry.data().length();
        }
        boolean started = currentChannel == null || (currentSize > 0 && currentSize + total > fileBytes);
        if (started) {
            startSegment();
        }
        List<Codec.SegmentRef> refs = new ArrayList<>(entries.size());
        long from = currentSize;
        long offset = from;
        for (LogEntry entry : entries) {
            byte[] data = entry.data().unsafeArray();
            crc.reset();
            crc.update(data, 0, data.length);
            refs.add(new Codec.SegmentRef(current, offset, data.length, (int) crc.getValue()));
            offset += data.length;
        }
        currentSize = offset;
        FileChannel channel = currentChannel;
        Future<?> durable = syncer().submit(() -> {
            writePayloads(channel, entries, from);
            channel.force(false);
            if (started) {
                // The new file's name (created or renamed from a recycled file) must be as durable
                // as its bytes.
                Database.syncDirectory(directory);
            }
            return null;
        });
        return new Write(refs, current, file(current), from, offset, durable);
    }

    /**
     * Payloads on their way to a segment file: where each goes ({@link #refs}, in order), the
     * bytes {@code [from, to)} of segment {@code segment} they fill, and the wait for their sync.
     */
    static final class Write {
        private final List<Codec.SegmentRef> refs;
        private final long segment;
        private final Path file;
        private final long from;
        private final long to;
        private final Future<?> durable;

        private Write(List<Codec.SegmentRef> refs, long segment, Path file, long from, long to, Future<?> durable) {
            this.refs = refs;
            this.segment = segment;
            this.file = file;
            this.from = from;
            this.to = to;
            this.durable = durable;
        }

        List<Codec.SegmentRef> refs() {
            return refs;
        }

        /** This write as recorded for recovery: entries {@code first..last} of the append. */
        Codec.SegmentWrite asRecorded(long first, long last) {
            return new Codec.SegmentWrite(first, last, segment, from, to);
        }

        /**
         * Waits, not interruptibly, until the payloads (and a new file's name) are durable.
         *
         * @throws IOException if they may not be, naming the file: the JDK's error of a write or a
         *                     sync says "No space left on device" and nothing more, which left the
         *                     operator of a node stopped by a full disk to guess which one
         */
        void awaitDurable() throws IOException {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        durable.get();
                        return;
                    } catch (InterruptedException e) {
                        interrupted = true; // the sync goes on regardless; stopping halfway helps no one
                    } catch (ExecutionException e) {
                        Throwable cause = e.getCause();
                        if (cause instanceof IOException io) {
                            throw new IOException("writing and syncing payloads to " + file + " failed: "
                                    + io.getMessage(), io);
                        }
                        if (cause instanceof RuntimeException runtime) {
                            throw runtime;
                        }
                        if (cause instanceof Error error) {
                            throw error;
                        }
                        throw new IOException(cause);
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** The thread that writes and syncs payloads, started with the first write. */
    private ExecutorService syncer() {
        if (syncer == null) {
            String name = "raft4j-segments-" + groupId;
            ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, SYNCER_IDLE_MILLIS, TimeUnit.MILLISECONDS,
                    new LinkedBlockingQueue<>(), task -> {
                        Thread thread = new Thread(task, name);
                        thread.setDaemon(true);
                        return thread;
                    });
            executor.allowCoreThreadTimeOut(true); // an idle group keeps no thread, nor its buffers
            syncer = executor;
        }
        return syncer;
    }

    /** On the syncer: writes the payloads at {@code position}, gathered into writes of up to a MiB. */
    private void writePayloads(FileChannel channel, List<LogEntry> entries, long position) throws IOException {
        ByteBuffer chunk = chunks.get();
        chunk.clear();
        for (LogEntry entry : entries) {
            byte[] data = entry.data().unsafeArray();
            // A payload larger than the buffer goes through it in pieces: written from its heap
            // array, the JDK copied it into a temporary direct buffer of its size, which it keeps
            // for the thread (8 MiB more per group that stored an 8 MiB entry).
            if (data.length > chunk.remaining()) {
                position = flushChunk(chunk, channel, position);
            }
            for (int from = 0; from < data.length; ) {
                int length = Math.min(data.length - from, chunk.remaining());
                chunk.put(data, from, length);
                from += length;
                if (!chunk.hasRemaining()) {
                    position = flushChunk(chunk, channel, position);
                }
            }
        }
        flushChunk(chunk, channel, position);
    }

    /**
     * Syncs segment {@code sequence} and the directory, if the file is there: after a crash, the
     * payloads of the last append may read back whole from the page cache without being on disk.
     */
    void sync(long sequence) throws IOException {
        Path path = file(sequence);
        if (!Files.exists(path)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.force(false);
        }
        Database.syncDirectory(directory);
    }

    /** Replaces the thread that writes and syncs payloads (for tests injecting failures). */
    void syncer(ExecutorService replacement) {
        syncer = replacement;
    }

    /** The segment the last {@link #write} went to. */
    long newest() {
        return current;
    }

    /** Records that entries up to {@code index} reference segment {@code sequence}. */
    synchronized void referenced(long sequence, long index) {
        highestIndex.merge(sequence, index, Math::max);
    }

    private static long flushChunk(ByteBuffer chunk, FileChannel channel, long position) throws IOException {
        chunk.flip();
        long next = writeFully(channel, chunk, position);
        chunk.clear();
        return next;
    }

    private static long writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
        return position;
    }

    /**
     * Starts the next segment file: a recycled one if there is one, else a new one. Either way the
     * caller syncs the directory after its first write, before anything references the file.
     */
    private void startSegment() throws IOException {
        long sequence;
        Long recycled;
        synchronized (this) {
            checkOpen();
            sequence = nextSequence++;
            highestIndex.put(sequence, -1L);
            recycled = free.poll();
        }
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
            Database.syncDirectory(directory.getParent());
            Database.syncDirectory(directory.getParent().getParent());
        }
        if (recycled != null) {
            Files.move(freeFile(recycled), file(sequence), StandardCopyOption.ATOMIC_MOVE);
        }
        FileChannel channel = FileChannel.open(file(sequence), recycled != null ? StandardOpenOption.WRITE
                : StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
        FileChannel previous = currentChannel;
        current = sequence;
        currentChannel = channel;
        currentSize = 0;
        if (previous != null) {
            closeQuietly(previous); // forced already: its bytes are durable
            releaseIfUnreferenced();
        }
    }

    // ---- reading -------------------------------------------------------------------------------

    /**
     * Reads and checks the payload {@code ref} points to, the payload of entry {@code index}.
     *
     * @throws StorageException if the file is missing, too short, or the bytes fail their checksum
     */
    byte[] read(long index, Codec.SegmentRef ref) {
        byte[] data = new byte[ref.length()];
        for (int attempt = 1; ; attempt++) {
            FileChannel channel = null;
            try {
                channel = reader(index, ref.segment());
                readFully(channel, ByteBuffer.wrap(data), index, ref);
                break;
            } catch (ClosedChannelException e) {
                // A reader's thread interrupted mid-read closes the channel (a FileChannel does
                // that), also under other readers of it: open the file again. The interrupted
                // thread itself fails its read.
                forgetReader(ref.segment(), channel);
                if (attempt == 2 || Thread.currentThread().isInterrupted()) {
                    throw new StorageException("group " + groupId + ": reading the payload of entry " + index
                            + " from " + file(ref.segment()) + " was interrupted: " + e, e);
                }
            } catch (IOException e) {
                throw new StorageException("group " + groupId + ": cannot read the payload of entry " + index + " from "
                        + file(ref.segment()) + ": " + e, e);
            }
        }
        CRC32C check = new CRC32C();
        check.update(data, 0, data.length);
        if ((int) check.getValue() != ref.crc()) {
            throw Codec.corrupt(groupId, "entry " + index, "checksum mismatch of its payload in "
                    + file(ref.segment()) + " at " + ref.offset());
        }
        return data;
    }

    private void readFully(FileChannel channel, ByteBuffer buffer, long index, Codec.SegmentRef ref) throws IOException {
        long position = ref.offset();
        int end = buffer.limit();
        while (buffer.hasRemaining()) {
            // In pieces: the JDK reads into a heap buffer through a temporary direct one of the size
            // asked, which it keeps for the thread; asked whole, a node's own loop thread kept one
            // the size of the largest payload it had read, per group.
            // Position plus a piece, but without the int overflow of that sum near 2 GiB.
            buffer.limit(buffer.position() + Math.min(end - buffer.position(), READ_PIECE_BYTES));
            int read = channel.read(buffer, position);
            buffer.limit(end);
            if (read < 0) {
                throw Codec.corrupt(groupId, "entry " + index, "its payload segment " + file(ref.segment())
                        + " ends at " + position + ", before the payload's end " + (ref.offset() + ref.length()));
            }
            position += read;
        }
    }

    private synchronized void forgetReader(long sequence, FileChannel closed) {
        if (closed != null) {
            readers.remove(sequence, closed);
        }
    }

    /**
     * A read-only channel of segment {@code sequence}, shared by readers. Never the writer's own:
     * a reader's thread interrupted mid-read closes the channel it reads, which must not stop the
     * writes (found in review: the next append failed and poisoned the storage).
     */
    private synchronized FileChannel reader(long index, long sequence) throws IOException {
        checkOpen();
        FileChannel channel = readers.get(sequence);
        if (channel == null) {
            if (!highestIndex.containsKey(sequence)) {
                throw Codec.corrupt(groupId, "entry " + index, "its payload segment " + file(sequence) + " is missing");
            }
            try {
                channel = FileChannel.open(file(sequence), StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw Codec.corrupt(groupId, "entry " + index, "its payload segment " + file(sequence) + " is missing");
            }
            readers.put(sequence, channel);
        }
        return channel;
    }

    // ---- reclaiming ----------------------------------------------------------------------------

    /**
     * Releases every segment but the newest whose referencing entries all lie at or below
     * {@code index} (the log was compacted through it): recycled, or deleted if enough are kept
     * for reuse already. Call after the compaction is durable.
     */
    void releaseThrough(long index) {
        List<Long> unused = new ArrayList<>();
        synchronized (this) {
            for (Iterator<Map.Entry<Long, Long>> it = highestIndex.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Long, Long> segment = it.next();
                if (segment.getKey() != current && segment.getValue() <= index) {
                    unused.add(segment.getKey());
                    it.remove();
                    closeQuietly(readers.remove(segment.getKey()));
                }
            }
        }
        for (long sequence : unused) {
            try {
                if (keepForReuse()) {
                    Files.move(file(sequence), freeFile(sequence), StandardCopyOption.ATOMIC_MOVE);
                    synchronized (this) {
                        free.add(sequence);
                    }
                } else {
                    Files.deleteIfExists(file(sequence));
                }
            } catch (IOException e) {
                // Left as it is: the next opening finds it unreferenced and releases it again.
            }
        }
    }

    /**
     * The log holds no entry any more: every segment but the newest is released, and the newest
     * forgets its references, so it is released once the log moves past it.
     */
    void releaseAll() {
        synchronized (this) {
            highestIndex.replace(current, -1L);
        }
        releaseThrough(Long.MAX_VALUE);
    }

    /** Releases segments nothing references (after opening, once every reference was recorded). */
    void releaseIfUnreferenced() {
        releaseThrough(-1);
    }

    private synchronized boolean keepForReuse() {
        return free.size() < MAX_FREE_FILES;
    }

    /** Segment files present, not counting those kept for reuse (for tests). */
    synchronized int files() {
        return highestIndex.size();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the payload segments of group " + groupId + " are closed");
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        readers.values().forEach(PayloadSegments::closeQuietly);
        readers.clear();
        closeQuietly(currentChannel);
        currentChannel = null;
        if (syncer != null) {
            syncer.shutdown(); // idle: the writer waited for its last write
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Read-only or already forced: nothing is lost.
            }
        }
    }
}

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
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The payloads of one group's large entries, outside RocksDB: append-only segment files that each
 * payload is written to once, behind a {@link SegmentRecord} header, and synced by the writer.
 *
 * <p>Why: RocksDB writes every value twice (its WAL, then an SST file when the memtable flushes) and
 * the rocksdbjni build on Maven Central checksums its WAL in software; for large payloads that, not
 * the disk, bounded throughput. Here a payload is written once, its CRC32C computed by the JDK (in
 * hardware), and RocksDB only carries a {@link Codec.SegmentRef} of a few dozen bytes.
 *
 * <p>Crash safety is the storage's ({@link RocksDbLogStorage}): the headers make a file readable
 * without RocksDB, so an append that only adds entries syncs its segment file alone and its
 * references go to RocksDB's memtable; after a crash, {@link #readRecords} reads them back from the
 * group's mark. A crash can leave bytes no reference points to at the end of a file, which nothing
 * takes (they fail their checksums, or belong to an append that is not whole); they are reclaimed
 * with the file.
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
 * position are harmless: every record names the segment it was written as, so a record of the
 * file's former life ends the records of its current one, and a reference points at bytes synced
 * before it.
 *
 * <p>Thread-safety: one writer ({@link #startSegment}, {@link #write}, {@link #releaseThrough},
 * {@link #releaseAll}, under the storage's write lock) and any number of readers; the file table is
 * guarded by {@code this}, I/O happens outside it.
 */
final class PayloadSegments implements AutoCloseable {
    private static final String SUFFIX = ".seg";
    private static final String FREE_SUFFIX = ".free";
    /** Each write starts at a multiple of this (see {@link #aligned}). */
    static final long WRITE_ALIGNMENT = 4096;
    /** Released files kept for reuse; beyond this they are deleted. */
    static final int MAX_FREE_FILES = 4;
    /** Group ids longer than this (in UTF-8 bytes) get a hashed directory name. */
    private static final int MAX_PLAIN_NAME_BYTES = 100;
    /** The most read from a segment file at once (see {@link #readAt}). */
    private static final int READ_PIECE_BYTES = 256 << 10;

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
    private volatile SyncCheck afterSync = () -> { };

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
     * Whether the next {@link #write} of {@code entries} must go to a new segment: there is none
     * yet (each opening starts one), or the newest has no room for their records.
     */
    boolean needsNewSegment(List<LogEntry> entries) {
        return currentChannel == null || (currentSize > 0 && currentSize + recordBytes(entries) > fileBytes);
    }

    /**
     * Starts the next segment file (a recycled one if there is one) and syncs the directory, so
     * that its name is durable before anything, such as the group's mark, names it. The file
     * before it is released only by {@link #releaseIfUnreferenced}, once the caller has moved the
     * mark: released before that, a crash left a mark naming a file no longer there.
     *
     * @return its sequence number
     */
    long startSegment() throws IOException {
        long sequence;
        Long recycled;
        synchronized (this) {
            checkOpen();
            sequence = nextSequence++;
            highestIndex.put(sequence, -1L);
            recycled = free.poll();
        }
        try {
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
            closeQuietly(previous); // forced already: its bytes are durable
            Database.syncDirectory(directory);
        } catch (IOException e) {
            throw new IOException("starting the payload segment " + file(sequence) + " failed: " + e.getMessage(), e);
        }
        return sequence;
    }

    /**
     * Writes {@code entries} to the newest segment, each payload behind its {@link SegmentRecord}
     * header, and syncs the file; returns where each payload is, in order. {@code appendLast} is
     * the last index of the append (the records are then self-indexed: recovery may take them from
     * the file), or {@link SegmentRecord#NOT_SELF_INDEXED}. Call {@link #startSegment} first if
     * {@link #needsNewSegment} says so.
     *
     * @throws IOException if the payloads may not be durable, naming the file: the JDK's error of a
     *                     write or a sync says "No space left on device" and nothing more, which
     *                     left the operator of a node stopped by a full disk to guess which disk
     */
    List<Codec.SegmentRef> write(List<LogEntry> entries, long appendLast) throws IOException {
        List<Codec.SegmentRef> refs = new ArrayList<>(entries.size());
        long from = currentSize;
        ByteBuffer chunk = WriteBuffers.take();
        try {
            long position = from;
            for (LogEntry entry : entries) {
                byte[] data = entry.data().unsafeArray();
                crc.reset();
                crc.update(data, 0, data.length);
                int dataCrc = (int) crc.getValue();
                if (chunk.remaining() < SegmentRecord.HEADER_BYTES) {
                    position = flushChunk(chunk, currentChannel, position);
                }
                new SegmentRecord(entry.type(), current, entry.index(), entry.term(), appendLast, data.length, dataCrc)
                        .encode(chunk, crc);
                refs.add(new Codec.SegmentRef(current, position + chunk.position(), data.length, dataCrc));
                // A payload larger than the buffer goes through it in pieces: written from its heap
                // array, the JDK copied it into a temporary direct buffer of its size, which it
                // keeps for the thread (8 MiB more per thread that wrote an 8 MiB entry).
                for (int at = 0; at < data.length; ) {
                    if (!chunk.hasRemaining()) {
                        position = flushChunk(chunk, currentChannel, position);
                    }
                    int length = Math.min(data.length - at, chunk.remaining());
                    chunk.put(data, at, length);
                    at += length;
                }
            }
            position = flushChunk(chunk, currentChannel, position);
            currentChannel.force(false);
            afterSync.check();
            currentSize = aligned(position);
        } catch (IOException | RuntimeException | Error e) {
            // What was written may be there: the mark moves past it (see the storage).
            currentSize = Math.max(currentSize, aligned(from + recordBytes(entries)));
            if (!(e instanceof IOException)) {
                throw e;
            }
            throw new IOException("writing and syncing payloads to " + file(current) + " failed: " + e.getMessage(), e);
        } finally {
            WriteBuffers.give(chunk);
        }
        return refs;
    }

    /** The bytes {@link #write} puts in the file for {@code entries}: each payload and its header. */
    private static long recordBytes(List<LogEntry> entries) {
        long bytes = 0;
        for (LogEntry entry : entries) {
            bytes += SegmentRecord.HEADER_BYTES + entry.data().length();
        }
        return bytes;
    }

    /**
     * Where the write after one ending at {@code position} starts: the next 4 KiB boundary (the
     * bytes between are never written nor read). An append that began inside the page the one
     * before it ended in was measured 7-11% slower (64 x 4 KiB per append): the page just synced
     * is written again and synced again.
     */
    static long aligned(long position) {
        return (position + WRITE_ALIGNMENT - 1) & -WRITE_ALIGNMENT;
    }

    /** A check run after each sync of payloads; throws to fail it (tests inject I/O errors so). */
    interface SyncCheck {
        void check() throws IOException;
    }

    void afterSync(SyncCheck check) {
        afterSync = check;
    }

    /** The segment the last {@link #write} went to, -1 if none since opening. */
    long newest() {
        return current;
    }

    /** Where the next record of the newest segment goes: the end of what is written to it. */
    long writtenEnd() {
        return currentSize;
    }

    /**
     * Syncs segment {@code sequence} and the directory: after a crash, records may read back whole
     * from the page cache without being on disk, and recovery must not take them before they are.
     */
    void sync(long sequence) throws IOException {
        if (!Files.exists(file(sequence))) {
            return; // reading it says so
        }
        try (FileChannel channel = FileChannel.open(file(sequence), StandardOpenOption.WRITE)) {
            channel.force(false);
        }
        Database.syncDirectory(directory);
    }

    /** Records that entries up to {@code index} reference segment {@code sequence}. */
    synchronized void referenced(long sequence, long index) {
        highestIndex.merge(sequence, index, Math::max);
    }

    private static long flushChunk(ByteBuffer chunk, FileChannel channel, long position) throws IOException {
        chunk.flip();
        while (chunk.hasRemaining()) {
            position += channel.write(chunk, position);
        }
        chunk.clear();
        return position;
    }

    // ---- recovering ----------------------------------------------------------------------------

    /**
     * Reads the self-indexed records of segment {@code sequence} from {@code from}: each whole
     * record, payload checked, in file order (each write starting at the {@link #aligned} position
     * after the last record of the append before it), until the first that is not one (the end of what was
     * written, a torn record, bytes of the file's former life, or a record whose reference went to
     * RocksDB). Grouping them into appends is the caller's.
     *
     * @throws StorageException if the file is missing or cannot be read
     */
    List<StoredRecord> readRecords(long sequence, long from) {
        Path path = file(sequence);
        List<StoredRecord> records = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            long position = from;
            ByteBuffer header = ByteBuffer.allocate(SegmentRecord.HEADER_BYTES);
            while (size - position >= SegmentRecord.HEADER_BYTES) {
                header.clear();
                readAt(channel, header, position);
                header.flip();
                SegmentRecord record = SegmentRecord.parse(header, crc);
                long payloadAt = position + SegmentRecord.HEADER_BYTES;
                if (record == null || !record.selfIndexed() || record.segment() != sequence
                        || record.length() > size - payloadAt) {
                    break;
                }
                byte[] data = new byte[record.length()];
                readAt(channel, ByteBuffer.wrap(data), payloadAt);
                crc.reset();
                crc.update(data, 0, data.length);
                if ((int) crc.getValue() != record.dataCrc()) {
                    break;
                }
                records.add(new StoredRecord(record, data,
                        new Codec.SegmentRef(sequence, payloadAt, record.length(), record.dataCrc())));
                position = payloadAt + record.length();
                if (record.index() == record.appendLast()) {
                    position = aligned(position); // the next write starts there
                }
            }
        } catch (NoSuchFileException e) {
            throw Codec.corrupt(groupId, "mark", "its payload segment " + path + " is missing");
        } catch (IOException e) {
            throw new StorageException("group " + groupId + ": cannot read the payload segment " + path + ": " + e, e);
        }
        return records;
    }

    /** A record read back by {@link #readRecords}: its header, payload and where the payload is. */
    record StoredRecord(SegmentRecord record, byte[] data, Codec.SegmentRef ref) {
    }

    /**
     * Fills {@code buffer} from {@code position}, or as much of it as the file holds; returns the
     * position reached. In pieces: the JDK reads into a heap buffer through a temporary direct one
     * of the size asked, which it keeps for the thread; asked whole, a node's own loop thread kept
     * one the size of the largest payload it had read, per group.
     */
    private static long readAt(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        int end = buffer.limit();
        while (buffer.hasRemaining()) {
            // Position plus a piece, but without the int overflow of that sum near 2 GiB.
            buffer.limit(buffer.position() + Math.min(end - buffer.position(), READ_PIECE_BYTES));
            int read = channel.read(buffer, position);
            buffer.limit(end);
            if (read < 0) {
                break;
            }
            position += read;
        }
        return position;
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
        long reached = readAt(channel, buffer, ref.offset());
        if (buffer.hasRemaining()) {
            throw Codec.corrupt(groupId, "entry " + index, "its payload segment " + file(ref.segment())
                    + " ends at " + reached + ", before the payload's end " + (ref.offset() + ref.length()));
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

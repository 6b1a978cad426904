package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the emulator's chats outlive the emulator: an append-only log of JSON lines ({@value #FILE}) in a state
 * directory, one line per change (the records are {@link ChatRegistry}'s), rewritten compactly at every start to a
 * temporary file that then replaces the log by an atomic rename, so a crash while rewriting leaves the old log whole.
 *
 * <p>Each change is written with one {@code write} before the call that made it answers, so it survives the process
 * being killed (kill -9); lines are not flushed to the disk one by one, so a power loss may cost the last ones. A last
 * line cut short by a kill in the middle of its write is dropped at the next start, with a warning. A lock file keeps
 * a second emulator off the same directory. Without a directory ({@link #inMemory()}) nothing is kept.
 */
final class ChatJournal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChatJournal.class);

    static final String FILE = "chats.jsonl";
    private static final String TEMPORARY = FILE + ".tmp";
    private static final String LOCK = "emulator.lock";

    private final Path file;
    private final List<ObjectNode> saved;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private FileChannel log;

    private ChatJournal(Path file, List<ObjectNode> saved, FileChannel lockChannel, FileLock lock) {
        this.file = file;
        this.saved = saved;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** A journal that keeps nothing: the emulator's state lives and dies with it. */
    static ChatJournal inMemory() {
        return new ChatJournal(null, List.of(), null, null);
    }

    /**
     * Opens (creating it if needed) the journal in {@code directory} and reads what it holds.
     *
     * @throws UncheckedIOException naming the directory when it cannot be read or written
     * @throws IllegalStateException when another emulator uses the directory, or a line other than the last is not
     *                               a record (the file was edited or is not ours)
     */
    static ChatJournal open(Path directory) {
        FileChannel lockChannel = null;
        try {
            Files.createDirectories(directory);
            lockChannel =
                    FileChannel.open(directory.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = tryLock(lockChannel, directory);
            Path file = directory.resolve(FILE);
            List<ObjectNode> saved = Files.exists(file) ? read(file) : List.of();
            return new ChatJournal(file, saved, lockChannel, lock);
        } catch (IOException e) {
            closeQuietly(lockChannel);
            throw new UncheckedIOException("cannot use the emulator's state directory " + directory, e);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel channel, Path directory) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            throw new IllegalStateException(
                    "the emulator's state directory " + directory + " is in use by another emulator");
        }
        return lock;
    }

    private static List<ObjectNode> read(Path file) throws IOException {
        String content = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        String[] lines = content.split("\n", -1);
        List<ObjectNode> records = new ArrayList<>(lines.length);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            boolean last = i == lines.length - 1;
            try {
                JsonNode node = Json.mapper().readTree(line);
                if (!(node instanceof ObjectNode record)) {
                    throw new IllegalStateException(file + " line " + (i + 1) + " is not a JSON object");
                }
                records.add(record);
            } catch (JsonProcessingException e) {
                if (!last) {
                    throw new IllegalStateException(
                            file + " line " + (i + 1) + " is not a record (" + e.getOriginalMessage()
                                    + "); move the file away to start the emulator afresh",
                            e);
                }
                // Only the last line can be torn: the process died in the middle of writing it.
                LOG.warn("{}: dropping an unfinished last line ({} characters)", file, line.length());
            }
        }
        return records;
    }

    /** The records the journal held when opened, oldest first. */
    List<ObjectNode> saved() {
        return saved;
    }

    /** Replaces the log with {@code records} (the whole state as it is now); later changes append to it. */
    synchronized void rewrite(List<ObjectNode> records) {
        if (file == null) {
            return;
        }
        Path temporary = file.resolveSibling(TEMPORARY);
        try {
            try (FileChannel out = FileChannel.open(
                    temporary,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                for (ObjectNode record : records) {
                    write(out, record);
                }
                // On the disk before the rename, so the rename never exposes a file that is still being written.
                out.force(true);
            }
            closeLog();
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            log = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite the emulator's chats in " + file, e);
        }
    }

    /** Adds one change at the end of the log. */
    synchronized void append(ObjectNode record) {
        if (file == null) {
            return;
        }
        if (log == null) {
            throw new IllegalStateException("the emulator's journal " + file + " is closed or was never rewritten");
        }
        try {
            write(log, record);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the emulator's chats to " + file, e);
        }
    }

    private static void write(FileChannel channel, ObjectNode record) throws IOException {
        byte[] json = Json.mapper().writeValueAsBytes(record);
        ByteBuffer line = ByteBuffer.allocate(json.length + 1).put(json).put((byte) '\n');
        line.flip();
        while (line.hasRemaining()) {
            channel.write(line);
        }
    }

    private void closeLog() throws IOException {
        if (log != null) {
            log.close();
            log = null;
        }
    }

    /** Flushes the log to the disk and lets another emulator use the directory. */
    @Override
    public synchronized void close() {
        if (file == null) {
            return;
        }
        try {
            if (log != null) {
                log.force(true);
            }
            closeLog();
        } catch (IOException e) {
            LOG.warn("Could not flush the emulator's chats to {}: {}", file, e.toString());
        } finally {
            try {
                lock.release();
            } catch (IOException e) {
                LOG.debug("Could not release the lock on {}: {}", file.getParent(), e.toString());
            }
            closeQuietly(lockChannel);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("Could not close {}: {}", channel, e.toString());
        }
    }
}

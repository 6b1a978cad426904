package dev.thoughtstream.chunker;

import dev.thoughtstream.chunker.context.ContextStore;
import dev.thoughtstream.chunker.thought.ThoughtBufferProcessor;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A key of a time index: when something is due for a chat, and which chat. Two stores use it: the deadline index
 * (when an open thought closes, {@link ThoughtBufferProcessor}) and the context prune index (when a chat's context
 * next has something to prune, {@link ContextStore}).
 *
 * <p>Serialized as 16 bytes, deadline then chat id, each big-endian with the sign bit flipped. RocksDB orders
 * keys by unsigned bytes, so this encoding makes byte order equal numeric order (chat ids of Telegram groups are
 * negative, and without the flip they would sort after every positive id). A range scan from {@link #LOWEST} to
 * {@link #lastDueAt(long)} therefore visits exactly the entries that are due, oldest deadline first.
 */
public record DeadlineKey(long deadlineMs, long chatId) {
    static final int SIZE = 2 * Long.BYTES;

    public static final DeadlineKey LOWEST = new DeadlineKey(Long.MIN_VALUE, Long.MIN_VALUE);

    public static final Serde<DeadlineKey> SERDE = Serdes.serdeFrom(serializer(), deserializer());

    /** The greatest key whose deadline is {@code nowMs}: the inclusive upper bound of "due by now". */
    public static DeadlineKey lastDueAt(long nowMs) {
        return new DeadlineKey(nowMs, Long.MAX_VALUE);
    }

    byte[] toBytes() {
        return ByteBuffer.allocate(SIZE)
                .putLong(deadlineMs ^ Long.MIN_VALUE)
                .putLong(chatId ^ Long.MIN_VALUE)
                .array();
    }

    static DeadlineKey fromBytes(byte[] bytes) {
        if (bytes.length != SIZE) {
            throw new SerializationException("a deadline key has " + SIZE + " bytes, not " + bytes.length);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new DeadlineKey(buffer.getLong() ^ Long.MIN_VALUE, buffer.getLong() ^ Long.MIN_VALUE);
    }

    private static Serializer<DeadlineKey> serializer() {
        return (topic, key) -> key == null ? null : key.toBytes();
    }

    private static Deserializer<DeadlineKey> deserializer() {
        return (topic, bytes) -> bytes == null ? null : fromBytes(bytes);
    }
}

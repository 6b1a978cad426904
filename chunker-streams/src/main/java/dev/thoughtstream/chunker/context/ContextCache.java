package dev.thoughtstream.chunker.context;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.thoughtstream.common.event.ContextMessage;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The chat contexts the instance's stream tasks read or wrote lately, kept as objects, so that reading a context
 * does not deserialize its whole stored value again. A thought reads its chat's context once per message (the
 * redelivery check) and once to close, and every reply part delivered reads and rewrites it; deserializing grows
 * with the context (docs/chunker.md, "The context cache", has what it saves).
 *
 * <p>Only {@link ContextStore} uses it, and it writes every change to the store first and to the cache after, so
 * an entry is always what the store holds. The store changes behind the cache's back only while the task's
 * processors are not initialised (restoring, standby, wiped after a failed transaction): Kafka Streams closes a
 * running task's processors before it suspends the task, and initialises them again only once the state is
 * restored (StreamTask#suspend, #completeRestoration). So {@link ContextStore} forgets the task's entries at both
 * moments ({@link #forget}). Each entry records its task, and another task's entry is never returned, so a chat
 * whose partition changed is read from its new task's store.
 *
 * <p>One cache serves every task of the instance, bounded by an estimate of the heap its contexts take
 * ({@code CONTEXT_CACHE_MAX_BYTES}); Caffeine picks what goes by how recently and how often each chat was read, so a
 * burst of new chats does not push out the regulars. 0 turns it off: every read deserializes.
 */
public final class ContextCache {
    /** Object headers, references and the {@code atMs} of one message, next to its text. */
    static final int MESSAGE_HEAP_OVERHEAD = 80;

    private final Cache<Long, Entry> entries;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    private record Entry(TaskId task, ChatContext context) {}

    /** @param maxBytes {@code CONTEXT_CACHE_MAX_BYTES}: the most heap the cached contexts may take, roughly; 0: off */
    public ContextCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative but was " + maxBytes);
        }
        this.entries = maxBytes == 0
                ? null
                : Caffeine.newBuilder()
                        .maximumWeight(maxBytes)
                        .weigher((Long chatId, Entry entry) -> heapWeight(entry.context()))
                        // Eviction on the stream thread that writes, not in the common pool: no thread of its own.
                        .executor(Runnable::run)
                        .build();
    }

    /** No cache: every read goes to the store. */
    public static ContextCache off() {
        return new ContextCache(0);
    }

    /** The chat's context as the task last read or wrote it, or null when the cache does not have it. */
    ChatContext get(TaskId task, long chatId) {
        if (entries == null) {
            return null;
        }
        Entry entry = entries.getIfPresent(chatId);
        if (entry == null || !entry.task().equals(task)) {
            misses.increment();
            return null;
        }
        hits.increment();
        return entry.context();
    }

    /** What the task's store now holds for the chat; null once the store no longer holds it. */
    void put(TaskId task, long chatId, ChatContext context) {
        if (entries == null) {
            return;
        }
        if (context == null) {
            entries.invalidate(chatId);
        } else {
            entries.put(chatId, new Entry(Objects.requireNonNull(task, "task"), context));
        }
    }

    /** Forgets every context of the task: its processors are closing or starting. */
    void forget(TaskId task) {
        if (entries != null) {
            entries.asMap().values().removeIf(entry -> entry.task().equals(task));
        }
    }

    /** Reads answered from the cache. */
    public long hits() {
        return hits.sum();
    }

    /** Reads that had to deserialize the stored value (none while the cache is off). */
    public long misses() {
        return misses.sum();
    }

    /** The estimated heap the cached contexts take now. */
    public long estimatedBytes() {
        return entries == null
                ? 0
                : entries.policy().eviction().orElseThrow().weightedSize().orElse(0L);
    }

    /** A context's heap, estimated: a fixed overhead per message, and two bytes a character at most. */
    static int heapWeight(ChatContext context) {
        long bytes = MESSAGE_HEAP_OVERHEAD;
        for (ContextMessage message : context.messages()) {
            bytes += MESSAGE_HEAP_OVERHEAD + 2L * message.text().length();
        }
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }
}

package dev.thoughtstream.chunker.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class ContextCacheTest {
    private static final TaskId TASK_0 = new TaskId(0, 0);
    private static final TaskId TASK_1 = new TaskId(0, 1);

    @Test
    void givenATasksContext_whenThatTaskReadsIt_thenItGetsTheSameObjectAndAHitIsCounted() {
        ContextCache cache = new ContextCache(1_000_000);
        ChatContext context = context(3, "hello");

        cache.put(TASK_0, 42, context);

        assertSame(context, cache.get(TASK_0, 42));
        assertEquals(1, cache.hits());
        assertEquals(0, cache.misses());
    }

    @Test
    void givenAContextCachedByAnotherTask_whenReadByThisTask_thenItIsAMiss() {
        // A chat whose partition changed (more partitions) must be read from its new task's store.
        ContextCache cache = new ContextCache(1_000_000);
        cache.put(TASK_0, 42, context(3, "hello"));

        assertNull(cache.get(TASK_1, 42));
        assertEquals(1, cache.misses());
    }

    @Test
    void whenATaskIsForgotten_thenOnlyItsContextsGo() {
        ContextCache cache = new ContextCache(1_000_000);
        ChatContext other = context(1, "kept");
        cache.put(TASK_0, 1, context(1, "gone"));
        cache.put(TASK_0, 2, context(1, "gone too"));
        cache.put(TASK_1, 3, other);

        cache.forget(TASK_0);

        assertNull(cache.get(TASK_0, 1));
        assertNull(cache.get(TASK_0, 2));
        assertSame(other, cache.get(TASK_1, 3));
    }

    @Test
    void whenTheStoreNoLongerHoldsAChat_thenNeitherDoesTheCache() {
        ContextCache cache = new ContextCache(1_000_000);
        cache.put(TASK_0, 42, context(2, "hello"));

        cache.put(TASK_0, 42, null);

        assertNull(cache.get(TASK_0, 42));
    }

    @Test
    void givenManyContexts_thenTheCacheKeepsWithinItsBytes() {
        ChatContext sample = context(100, "a message of about forty characters, ok?");
        int weight = ContextCache.heapWeight(sample);
        ContextCache cache = new ContextCache(10L * weight);

        for (long chat = 1; chat <= 100; chat++) {
            cache.put(TASK_0, chat, context(100, "a message of about forty characters, ok?"));
        }

        assertTrue(cache.estimatedBytes() <= 10L * weight, "at most ten contexts: " + cache.estimatedBytes());
        long cached = 0;
        for (long chat = 1; chat <= 100; chat++) {
            cached += cache.get(TASK_0, chat) == null ? 0 : 1;
        }
        assertTrue(cached > 0 && cached <= 10, "some, at most ten, are kept: " + cached);
    }

    @Test
    void givenZeroBytes_thenNothingIsCachedAndNothingCounted() {
        ContextCache cache = ContextCache.off();

        cache.put(TASK_0, 42, context(1, "hello"));

        assertNull(cache.get(TASK_0, 42));
        assertEquals(0, cache.estimatedBytes());
        assertEquals(0, cache.hits() + cache.misses());
    }

    @Test
    void aNegativeSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ContextCache(-1));
    }

    @Test
    void theWeightCountsEveryMessageAndTwoBytesAChar() {
        ChatContext context = context(2, "abcd");

        assertEquals(
                ContextCache.MESSAGE_HEAP_OVERHEAD + 2 * (ContextCache.MESSAGE_HEAP_OVERHEAD + 8),
                ContextCache.heapWeight(context));
    }

    private static ChatContext context(int messages, String text) {
        List<ContextMessage> list = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
            list.add(new ContextMessage(i % 2 == 0 ? Role.USER : Role.ASSISTANT, text, 1_000L + i));
        }
        return new ChatContext(list, messages);
    }
}

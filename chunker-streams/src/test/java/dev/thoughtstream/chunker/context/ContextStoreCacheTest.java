package dev.thoughtstream.chunker.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thoughtstream.chunker.ChunkerTopology;
import dev.thoughtstream.chunker.DeadlineKey;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import dev.thoughtstream.common.serde.JsonSerde;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The context store with the instance's cache between it and the processors: both processors of a task share it,
 * and a processor that closes or starts forgets its task's entries, because the store may change behind the cache
 * (a restore) only between those two moments.
 */
class ContextStoreCacheTest {
    private static final long CHAT = 42;
    private static final long NOW = 1_760_000_000_000L;
    private static final ContextPolicy POLICY = new ContextPolicy(Duration.ofHours(6), 100, 12_000);

    @TempDir
    Path stateDir;

    private MockProcessorContext<Void, Void> task;
    private KeyValueStore<Long, ChatContext> stored;
    private final ContextCache cache = new ContextCache(1_000_000);

    @BeforeEach
    void stores() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "context-store-cache-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "never-contacted:9092");
        task = new MockProcessorContext<>(props, new TaskId(0, 3), stateDir.toFile());
        task.setCurrentSystemTimeMs(NOW);
        stored = add(ChunkerTopology.CONTEXT_STORE, Serdes.Long(), new JsonSerde<>(ChatContext.class));
        add(ChunkerTopology.CONTEXT_PRUNE_INDEX_STORE, DeadlineKey.SERDE, Serdes.Long());
    }

    @Test
    void givenTwoProcessorsOfATask_whenOneWritesAContext_thenTheOtherReadsItFromTheCache() {
        ContextStore threads = ContextStore.from(task, POLICY, cache);
        ContextStore deliveries = ContextStore.from(task, POLICY, cache);

        threads.put(CHAT, context("hello"));
        long hitsBefore = cache.hits();
        ChatContext read = deliveries.get(CHAT);

        assertEquals(stored.get(CHAT), read, "what the store holds");
        assertEquals(hitsBefore + 1, cache.hits(), "and no deserialization");
    }

    @Test
    void givenACachedContext_whenTheStoreIsRestoredAndTheProcessorStartsAgain_thenTheRestoredContextIsRead() {
        ContextStore before = ContextStore.from(task, POLICY, cache);
        before.put(CHAT, context("before the crash"));
        before.get(CHAT);

        // the task is suspended, and its store restored from the changelog to another value (not through the cache)
        before.close();
        ChatContext restored = new ChatContext(List.of(new ContextMessage(Role.USER, "restored", NOW)), 7, NOW, 0);
        stored.put(CHAT, restored);
        ContextStore after = ContextStore.from(task, POLICY, cache);

        assertEquals(restored, after.get(CHAT));
    }

    @Test
    void givenACachedContext_whenAProcessorStarts_thenItDoesNotTrustWhatWasCachedBefore() {
        // Kafka Streams initialises a revived task's processors after restoring its store, with no close in between
        // if the task was closed dirty.
        ContextStore before = ContextStore.from(task, POLICY, cache);
        before.put(CHAT, context("stale"));
        ChatContext restored = new ChatContext(List.of(new ContextMessage(Role.USER, "restored", NOW)), 9, NOW, 0);
        stored.put(CHAT, restored);

        ContextStore after = ContextStore.from(task, POLICY, cache);

        assertEquals(restored, after.get(CHAT));
    }

    @Test
    void whenAContextIsDeleted_thenNoProcessorReadsItAgain() {
        ContextStore threads = ContextStore.from(task, POLICY, cache);
        ContextStore deliveries = ContextStore.from(task, POLICY, cache);
        threads.put(CHAT, context("hello"));
        deliveries.get(CHAT);

        threads.delete(CHAT);

        assertNull(deliveries.get(CHAT));
    }

    @Test
    void givenTheCacheOff_thenEveryReadComesFromTheStore() {
        ContextStore contexts = ContextStore.from(task, POLICY, ContextCache.off());
        contexts.put(CHAT, context("hello"));
        ChatContext changed = new ChatContext(List.of(new ContextMessage(Role.USER, "changed", NOW)), 3, NOW, 0);

        stored.put(CHAT, changed);

        assertEquals(changed, contexts.get(CHAT));
    }

    private static ChatContext context(String text) {
        return new ChatContext(List.of(new ContextMessage(Role.USER, text, NOW)), 5);
    }

    private <K, V> KeyValueStore<K, V> add(String name, Serde<K> keySerde, Serde<V> valueSerde) {
        KeyValueStore<K, V> store = Stores.keyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(name), keySerde, valueSerde)
                .withLoggingDisabled()
                .withCachingDisabled()
                .build();
        store.init(task.getStateStoreContext(), store);
        task.addStateStore(store);
        return store;
    }
}

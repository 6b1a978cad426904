package dev.thoughtstream.bench.micro;

import dev.thoughtstream.chunker.ChunkerTopology;
import dev.thoughtstream.chunker.DeadlineKey;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.common.serde.JsonSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The chunker's five state stores, by the names and with the serdes {@link ChunkerTopology} declares, registered on
 * a {@link MockProcessorContext}: the real processors ({@code ThoughtBufferProcessor},
 * {@code DeliveryContextProcessor}) then run their real code (including {@code ContextStore} and the
 * {@link DeadlineKey} range scans) against real stores, without a broker and without a TopologyTestDriver
 * (whose piped records and wall-clock advancing would be measured too).
 *
 * <p>Two differences from production, both forced by {@link MockProcessorContext}, which supports neither: no
 * changelogging (its cost is a producer send per changed key at commit, measured by the restore benchmark) and no
 * record cache in front of RocksDB (in production, a range scan merges the cache's dirty entries with RocksDB's;
 * after each commit flushes the cache, that is RocksDB alone, as here).
 *
 * @param <K> the processor's output key type
 * @param <V> the processor's output value type
 */
public final class ChunkerStores<K, V> implements AutoCloseable {
    /** Where the stores live. */
    public enum Kind {
        /** Persistent RocksDB stores, as the chunker runs. */
        ROCKSDB,
        /** Kafka Streams' in-memory stores: the same code paths without RocksDB's cost, for comparison. */
        MEMORY;

        public static Kind parse(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT));
        }
    }

    private final MockProcessorContext<K, V> context;
    private final Path stateDir;
    private final List<StateStore> stores = new ArrayList<>();

    public ChunkerStores(Kind kind) {
        try {
            stateDir = Files.createTempDirectory("thoughtstream-bench-stores");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a state directory for the benchmark stores", e);
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "thoughtstream-bench-micro");
        // Never contacted: the mock context only needs a syntactically valid configuration.
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        context = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        add(kind, ChunkerTopology.OPEN_THOUGHTS_STORE, Serdes.Long(), new JsonSerde<>(OpenThought.class));
        add(kind, ChunkerTopology.DEADLINE_INDEX_STORE, DeadlineKey.SERDE, Serdes.Long());
        add(kind, ChunkerTopology.ALBUMS_STORE, Serdes.Long(), Serdes.String());
        add(kind, ChunkerTopology.CONTEXT_STORE, Serdes.Long(), new JsonSerde<>(ChatContext.class));
        add(kind, ChunkerTopology.CONTEXT_PRUNE_INDEX_STORE, DeadlineKey.SERDE, Serdes.Long());
    }

    private <SK, SV> void add(Kind kind, String name, Serde<SK> keySerde, Serde<SV> valueSerde) {
        KeyValueBytesStoreSupplier supplier =
                kind == Kind.ROCKSDB ? Stores.persistentKeyValueStore(name) : Stores.inMemoryKeyValueStore(name);
        KeyValueStore<SK, SV> store = Stores.keyValueStoreBuilder(supplier, keySerde, valueSerde)
                .withLoggingDisabled()
                .withCachingDisabled()
                .build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
        stores.add(store);
    }

    public MockProcessorContext<K, V> context() {
        return context;
    }

    public KeyValueStore<Long, OpenThought> openThoughts() {
        return context.getStateStore(ChunkerTopology.OPEN_THOUGHTS_STORE);
    }

    public KeyValueStore<DeadlineKey, Long> deadlines() {
        return context.getStateStore(ChunkerTopology.DEADLINE_INDEX_STORE);
    }

    public KeyValueStore<Long, ChatContext> contexts() {
        return context.getStateStore(ChunkerTopology.CONTEXT_STORE);
    }

    /** Closes the stores and deletes their directory. */
    @Override
    public void close() {
        for (StateStore store : stores) {
            store.close();
        }
        try (Stream<Path> walk = Files.walk(stateDir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + stateDir, e);
        }
    }
}

package dev.thoughtstream.chunker;

import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextCache;
import dev.thoughtstream.chunker.context.ContextStore;
import dev.thoughtstream.chunker.context.DeliveryContextProcessor;
import dev.thoughtstream.chunker.deadletter.DeadLetteringHandler;
import dev.thoughtstream.chunker.thought.EarlyCommits;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.chunker.thought.ThoughtBufferProcessor;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.serde.JsonSerde;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunker's Kafka Streams topology and settings.
 *
 * <pre>
 *   [updates]   → updates-source   → thought-buffer   → thoughts-sink → [thoughts]
 *                                                     → replies-sink  → [replies]  (commands, wordless messages)
 *   [delivered] → delivered-source → delivery-context
 *                  stores: open-thoughts, thought-deadlines, chat-albums (thought-buffer);
 *                          chat-context, chat-context-prune-index (both)
 * </pre>
 *
 * Store and node names are part of the deployed state (changelog topics are named
 * {@code <application.id>-<store>-changelog}); renaming one loses that state.
 */
public final class ChunkerTopology {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkerTopology.class);

    public static final String UPDATES_SOURCE = "updates-source";
    public static final String DELIVERED_SOURCE = "delivered-source";
    public static final String THOUGHT_BUFFER = "thought-buffer";
    public static final String DELIVERY_CONTEXT = "delivery-context";
    public static final String THOUGHTS_SINK = "thoughts-sink";
    public static final String REPLIES_SINK = "replies-sink";

    public static final String OPEN_THOUGHTS_STORE = "open-thoughts";
    public static final String DEADLINE_INDEX_STORE = "thought-deadlines";
    public static final String CONTEXT_STORE = "chat-context";
    public static final String ALBUMS_STORE = "chat-albums";
    /** {@link ContextStore}'s index of when each chat's context next has something to prune. */
    public static final String CONTEXT_PRUNE_INDEX_STORE = "chat-context-prune-index";

    private ChunkerTopology() {}

    /** The topology; pure: builds the description only, touches neither Kafka nor the disk. */
    public static Topology buildTopology(ChunkerConfig config, Topics topics) {
        return buildTopology(config, topics, ChunkerMetrics.detached());
    }

    /** The topology, recording into {@code metrics} (no I/O either). */
    public static Topology buildTopology(ChunkerConfig config, Topics topics, ChunkerMetrics metrics) {
        return buildTopology(config, topics, metrics, () -> ReprocessFence.NONE);
    }

    /**
     * The topology, recording into {@code metrics}, answering nothing for input below {@code fence} (asked for when a
     * task starts; building reads nothing).
     */
    public static Topology buildTopology(
            ChunkerConfig config, Topics topics, ChunkerMetrics metrics, Supplier<ReprocessFence> fence) {
        return buildTopology(config, topics, metrics, fence, StageTracer.noop());
    }

    /** As above, continuing each thought's trace from its first message's ({@code tracer}; no I/O either). */
    public static Topology buildTopology(
            ChunkerConfig config,
            Topics topics,
            ChunkerMetrics metrics,
            Supplier<ReprocessFence> fence,
            StageTracer tracer) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tracer, "tracer");
        Objects.requireNonNull(fence, "fence");
        Objects.requireNonNull(topics, "topics");
        Topology topology = new Topology();
        topology.addSource(
                UPDATES_SOURCE,
                topics.updates().keySerde().deserializer(),
                topics.updates().valueSerde().deserializer(),
                topics.updates().name());
        topology.addSource(
                DELIVERED_SOURCE,
                topics.delivered().keySerde().deserializer(),
                topics.delivered().valueSerde().deserializer(),
                topics.delivered().name());
        // One for the whole instance: the input rate that decides an early commit is the instance's, not a task's.
        EarlyCommits earlyCommits = new EarlyCommits(config.earlyCommitBelowPerSecond());
        // One for the whole instance too, so that CONTEXT_CACHE_MAX_BYTES bounds the instance, and both processors
        // of a task see each other's writes.
        ContextCache contextCache = new ContextCache(config.contextCacheMaxBytes());
        metrics.watch(contextCache);
        topology.addProcessor(
                THOUGHT_BUFFER,
                () -> new ThoughtBufferProcessor(config, metrics, fence, tracer, earlyCommits, contextCache),
                UPDATES_SOURCE);
        topology.addProcessor(
                DELIVERY_CONTEXT, () -> new DeliveryContextProcessor(config.context(), contextCache), DELIVERED_SOURCE);
        topology.addStateStore(openThoughtsStore(), THOUGHT_BUFFER);
        topology.addStateStore(deadlineIndexStore(), THOUGHT_BUFFER);
        topology.addStateStore(albumsStore(), THOUGHT_BUFFER);
        // One store, two processors: both input topics are keyed and partitioned by chat id, so a chat's updates
        // and deliveries reach the same task and its context has a single writer thread.
        topology.addStateStore(contextStore(), THOUGHT_BUFFER, DELIVERY_CONTEXT);
        topology.addStateStore(contextPruneIndexStore(), THOUGHT_BUFFER, DELIVERY_CONTEXT);
        topology.addSink(
                THOUGHTS_SINK,
                topics.thoughts().name(),
                topics.thoughts().keySerde().serializer(),
                topics.thoughts().valueSerde().serializer(),
                THOUGHT_BUFFER);
        // Commands and wordless messages are answered here, without the model, so they skip the thoughts topic.
        topology.addSink(
                REPLIES_SINK,
                topics.replies().name(),
                topics.replies().keySerde().serializer(),
                topics.replies().valueSerde().serializer(),
                THOUGHT_BUFFER);
        return topology;
    }

    // Caching lets the many puts and deletes a chatty chat causes within one commit interval reach the changelog
    // as one write per key.
    private static StoreBuilder<KeyValueStore<Long, OpenThought>> openThoughtsStore() {
        return Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(OPEN_THOUGHTS_STORE),
                        Serdes.Long(),
                        new JsonSerde<>(OpenThought.class))
                .withCachingEnabled();
    }

    private static StoreBuilder<KeyValueStore<DeadlineKey, Long>> deadlineIndexStore() {
        return Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(DEADLINE_INDEX_STORE), DeadlineKey.SERDE, Serdes.Long())
                .withCachingEnabled();
    }

    /** Chat id → the media_group_id of the chat's latest album: one reply per album, not per photo. */
    private static StoreBuilder<KeyValueStore<Long, String>> albumsStore() {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ALBUMS_STORE), Serdes.Long(), Serdes.String())
                .withCachingEnabled();
    }

    private static StoreBuilder<KeyValueStore<Long, ChatContext>> contextStore() {
        return Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(CONTEXT_STORE),
                        Serdes.Long(),
                        new JsonSerde<>(ChatContext.class))
                .withCachingEnabled();
    }

    private static StoreBuilder<KeyValueStore<DeadlineKey, Long>> contextPruneIndexStore() {
        return Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(CONTEXT_PRUNE_INDEX_STORE), DeadlineKey.SERDE, Serdes.Long())
                .withCachingEnabled();
    }

    /**
     * The chunker's {@code group.instance.id} when the instance has a stable id: Kafka Streams gives each stream
     * thread's main consumer {@code <id>-<thread index>} (StreamsConfig#getMainConsumerConfigs), so the restarted
     * process's threads take their old places in the group at once, without a rebalance, and with the same state
     * directory the same tasks stay where their state is. The streams group protocol ({@code group.protocol=streams},
     * KIP-1071) refuses static membership in Kafka 4.3 (a ConfigException), so an operator who chose it stays dynamic.
     */
    static Optional<String> staticMembership(KafkaSettings kafka) {
        Optional<String> id = kafka.groupInstanceId(ChunkerService.NAME);
        String protocol = kafka.clientOverrides().getOrDefault(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic");
        if (id.isPresent() && "streams".equalsIgnoreCase(protocol.strip())) {
            LOG.warn("group.protocol=streams does not support static membership: the chunker joins as a dynamic "
                    + "member, and a restarted instance waits for the dead member's session to time out");
            return Optional.empty();
        }
        return id;
    }

    /**
     * The Kafka Streams settings: the pass-through client properties of {@code kafka} first, then the chunker's
     * own, which win (a pass-through property that collides is reported). Internal topics get the configured
     * replication factor, if one is set.
     */
    public static Properties streamsProperties(ChunkerConfig config, KafkaSettings kafka) {
        Properties props = new Properties();
        props.putAll(kafka.clientProperties());
        Map<String, Object> own = new LinkedHashMap<>();
        own.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        own.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        own.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        own.put(
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                Long.toString(config.commitInterval().toMillis()));
        // Streams punctuates only between polls, and a quiet poll lasts poll.ms (default 100): without this, a thought
        // would close up to 100 ms after its deadline whatever the punctuation interval says.
        own.put(
                StreamsConfig.POLL_MS_CONFIG,
                Long.toString(config.punctuateInterval().toMillis()));
        own.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        own.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.toString(config.numThreads()));
        own.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, Integer.toString(config.numStandbyReplicas()));
        own.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetteringHandler.class.getName());
        own.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetteringHandler.class.getName());
        own.put(
                StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
                Topics.withPrefix(kafka.topicPrefix()).deadLetters().name());
        kafka.replicationFactor().ifPresent(rf -> own.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, rf.toString()));
        staticMembership(kafka).ifPresent(id -> own.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id));

        Set<String> overridden = new TreeSet<>();
        own.forEach((name, value) -> {
            if (kafka.clientOverrides().containsKey(name)) {
                overridden.add(name);
            }
            props.put(name, value);
        });
        if (!overridden.isEmpty()) {
            LOG.warn(
                    "pass-through client properties {} are set by the chunker itself; the chunker's values win",
                    overridden);
        }
        return props;
    }
}

package dev.thoughtstream.bench.restore;

import dev.thoughtstream.bench.Machine;
import dev.thoughtstream.bench.micro.Fixtures;
import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.ChunkerService;
import dev.thoughtstream.chunker.ChunkerTopology;
import dev.thoughtstream.chunker.DeadlineKey;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.serde.JsonSerde;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.kafka.EmbeddedKafka;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunker's context store for many chats, its size, and how long a restarted chunker takes to
 * get it back. See {@code docs/benchmarks.md} for what each figure means.
 *
 * <ol>
 *   <li>An in-process broker (testkit's {@link EmbeddedKafka}) starts; the real {@link ChunkerService} starts once
 *       on it, which creates the pipeline topics and lets Kafka Streams create its changelog topics exactly as in
 *       production, then stops.</li>
 *   <li>The context store is filled by producing to its changelogs ({@code <app>-chat-context-changelog} and
 *       {@code <app>-chat-context-prune-index-changelog}) what the store itself would log: the chunker's own
 *       serdes, one record per chat (the compacted form), into the partition of the chat's task (the murmur2
 *       partition of the chat id key, as every chat-keyed topic uses). Driving 10 million messages through the
 *       pipeline instead would take hours on two cores and would measure the pipeline, not the store.</li>
 *   <li>A chunker starts on an empty state directory and restores the stores from the changelogs (as after losing
 *       the disk, or after a {@code kill -9} under exactly-once, which wipes the local stores). The restored store
 *       is then read back through interactive queries and compared, chat by chat and message by message, with what
 *       was written; and a few chats send a real message, whose thoughts must carry the restored context: the
 *       chunker reads the restored store as its own.</li>
 *   <li>That chunker stops cleanly and starts again on the same state directory (a clean restart: the checkpoints
 *       say the stores are current, so nothing is restored).</li>
 * </ol>
 */
public final class RestoreBenchmark {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreBenchmark.class);
    static final String APPLICATION_ID = "bench-restore-chunker";
    static final String TOPIC_PREFIX = "bench.";
    /** The target for the restore: a restarted chunker works again within a minute. */
    static final Duration TARGET = Duration.ofSeconds(60);

    private static final Duration RUNNING_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(60);

    private final RestoreOptions options;
    private final PrintStream out;
    private final Consumer<ReadOnlyKeyValueStore<Long, ChatContext>> inspector;

    /**
     * @param inspector sees the restored context store of the fresh-state restore, while that chunker runs (before
     *                  the probe messages change a few chats)
     */
    public RestoreBenchmark(
            RestoreOptions options, PrintStream out, Consumer<ReadOnlyKeyValueStore<Long, ChatContext>> inspector) {
        this.options = options;
        this.out = out;
        this.inspector = inspector;
    }

    /** The figures of one run. */
    public record Result(
            long changelogBytes,
            long rocksDbBytes,
            double freshRestoreSeconds,
            double freshSecondsToRunning,
            long freshRecordsRestored,
            double keptRestoreSeconds,
            double keptSecondsToRunning,
            long keptRecordsRestored,
            int chatsVerified,
            long messagesVerified,
            List<Thought> probeThoughts) {}

    public Result run() throws InterruptedException {
        Path dataDir = options.dataDir().orElseGet(RestoreBenchmark::temporaryDirectory);
        try {
            return run(dataDir);
        } finally {
            if (!options.keep()) {
                deleteRecursively(dataDir);
            } else {
                out.println("data kept in " + dataDir);
            }
        }
    }

    private Result run(Path dataDir) throws InterruptedException {
        out.println("== machine");
        out.println(Machine.describe());
        out.println("== parameters");
        out.printf(
                Locale.ROOT,
                "chats %,d × messages %,d = %,d context messages; %d partitions; %d probe chats;" + " data in %s%n",
                options.chats(),
                options.messages(),
                (long) options.chats() * options.messages(),
                options.partitions(),
                options.probeChats(),
                dataDir);
        try (EmbeddedKafka broker = EmbeddedKafka.start(dataDir.resolve("kafka"), 0)) {
            KafkaSettings kafka = new KafkaSettings(
                    broker.bootstrapServers(), TOPIC_PREFIX, options.partitions(), Optional.empty(), Map.of());
            ChunkerConfig setupConfig = config(dataDir.resolve("state-setup"));
            out.printf(
                    "broker %s; chunker application id %s, default settings (%s)%n",
                    broker.bootstrapServers(), APPLICATION_ID, setupConfig.context());
            createTopics(setupConfig, kafka);

            ContextPolicy policy = setupConfig.context();
            ContextCorpus corpus = new ContextCorpus(options.messages(), System.currentTimeMillis(), policy);
            out.println("== fill");
            fill(kafka, corpus);

            out.println("== restore: fresh state directory (lost disk, or kill -9 under exactly-once)");
            Path stateDir = dataDir.resolve("state");
            ChunkerConfig config = config(stateDir);
            double freshRestore;
            double freshToRunning;
            long freshRecords;
            int chats;
            long messages;
            List<Thought> probes;
            try (ChunkerInstance chunker = new ChunkerInstance(config, kafka)) {
                chunker.start();
                chunker.awaitRunning(RUNNING_TIMEOUT);
                freshRestore = chunker.timings().totalSeconds();
                freshToRunning = chunker.secondsToRunning();
                freshRecords = chunker.timings().totalRecords();
                printRestore(chunker);
                ReadOnlyKeyValueStore<Long, ChatContext> store = awaitQueryable(chunker);
                long[] verified = verify(store, corpus);
                chats = (int) verified[0];
                messages = verified[1];
                out.printf(
                        Locale.ROOT,
                        "verified: the restored store holds all %,d chats, %,d messages, each equal"
                                + " to what was written%n",
                        chats,
                        messages);
                inspector.accept(store);
                probes = probe(kafka, corpus, policy);
            }
            out.println("== state size");
            long changelogBytes = printChangelogSizes(kafka);
            long rocksDbBytes = printRocksDbSizes(stateDir.resolve(APPLICATION_ID));

            out.println("== restore: local state directory kept (clean restart)");
            double keptRestore;
            double keptToRunning;
            long keptRecords;
            try (ChunkerInstance chunker = new ChunkerInstance(config, kafka)) {
                chunker.start();
                chunker.awaitRunning(RUNNING_TIMEOUT);
                keptRestore = chunker.timings().totalSeconds();
                keptToRunning = chunker.secondsToRunning();
                keptRecords = chunker.timings().totalRecords();
                printRestore(chunker);
                long count = count(awaitQueryable(chunker));
                out.printf(Locale.ROOT, "the store still holds %,d chats%n", count);
                if (count != options.chats()) {
                    throw new IllegalStateException(
                            "after the clean restart the store holds " + count + " chats, not " + options.chats());
                }
            }
            out.println("== against the target");
            out.printf(
                    Locale.ROOT,
                    "restore of %,d chats × %,d messages from the changelogs: %.1f s (Kafka Streams'"
                            + " restore listener), %.1f s from start() to RUNNING; target ≤ %d s: %s%n",
                    options.chats(),
                    options.messages(),
                    freshRestore,
                    freshToRunning,
                    TARGET.toSeconds(),
                    freshToRunning <= TARGET.toSeconds() ? "met" : "missed");
            return new Result(
                    changelogBytes,
                    rocksDbBytes,
                    freshRestore,
                    freshToRunning,
                    freshRecords,
                    keptRestore,
                    keptToRunning,
                    keptRecords,
                    chats,
                    messages,
                    probes);
        }
    }

    private ChunkerConfig config(Path stateDir) {
        return ChunkerConfig.from(Config.of(Map.of(
                ChunkerConfig.CHUNKER_APPLICATION_ID,
                APPLICATION_ID,
                ChunkerConfig.STREAMS_STATE_DIR,
                stateDir.toString())));
    }

    /**
     * Runs the real chunker once: it creates the pipeline topics, and Kafka Streams creates the changelogs with the
     * partition count and configuration it validates on every later start.
     */
    private void createTopics(ChunkerConfig config, KafkaSettings kafka) throws InterruptedException {
        long started = System.nanoTime();
        try (ChunkerService service = new ChunkerService(config, kafka)) {
            service.start();
            if (!service.awaitRunning(Duration.ofMinutes(2))) {
                throw new IllegalStateException("the chunker did not reach RUNNING within 2 minutes");
            }
        }
        out.printf(
                Locale.ROOT,
                "topics and changelogs created by a first run of ChunkerService (%.1f s)%n",
                seconds(started));
    }

    static String changelog(String store) {
        return APPLICATION_ID + "-" + store + "-changelog";
    }

    /** The partition of the chat's task: what the producer's default partitioner gives the chat id key. */
    private int partitionOf(byte[] chatKey) {
        return Utils.toPositive(Utils.murmur2(chatKey)) % options.partitions();
    }

    private void fill(KafkaSettings kafka, ContextCorpus corpus) {
        Properties props = kafka.clientProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L * 1024 * 1024));
        // Kafka Streams' changelog producer does not compress by default; neither does this, so sizes compare.
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        String contexts = changelog(ChunkerTopology.CONTEXT_STORE);
        String index = changelog(ChunkerTopology.CONTEXT_PRUNE_INDEX_STORE);
        JsonSerde<ChatContext> contextSerde = new JsonSerde<>(ChatContext.class);
        var chatKeys = Serdes.Long().serializer();
        var indexValues = Serdes.Long().serializer();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long started = System.nanoTime();
        long bytes = 0;
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < options.chats(); i++) {
                long chatId = ContextCorpus.chatId(i);
                ChatContext context = corpus.contextFor(chatId);
                byte[] key = chatKeys.serialize(contexts, chatId);
                byte[] value = contextSerde.serialize(contexts, context);
                int partition = partitionOf(key);
                bytes += key.length + value.length;
                producer.send(new ProducerRecord<>(contexts, partition, key, value), (metadata, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
                producer.send(
                        new ProducerRecord<>(
                                index,
                                partition,
                                DeadlineKey.SERDE
                                        .serializer()
                                        .serialize(index, new DeadlineKey(context.pruneAtMs(), chatId)),
                                indexValues.serialize(index, chatId)),
                        (metadata, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            }
                        });
                if (failure.get() != null) {
                    break;
                }
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException(
                    "filling the changelogs failed: " + failure.get().getMessage(), failure.get());
        }
        double s = seconds(started);
        out.printf(
                Locale.ROOT,
                "wrote %,d contexts (%,d messages, %.1f MiB of keys and values) to %s and %,d"
                        + " entries to %s in %.1f s (%.1f MiB/s, generation and JSON included)%n",
                options.chats(),
                (long) options.chats() * options.messages(),
                mib(bytes),
                contexts,
                options.chats(),
                index,
                s,
                mib(bytes) / s);
    }

    private void printRestore(ChunkerInstance chunker) {
        RestoreTimings timings = chunker.timings();
        if (timings.stores().isEmpty()) {
            out.println("restore listener: nothing restored (the checkpoints matched the changelog ends)");
        }
        timings.stores()
                .forEach((store, r) -> out.printf(
                        Locale.ROOT,
                        "restore listener: %-26s %,12d records from %d partitions in %6.2f s%n",
                        store,
                        r.records(),
                        r.partitions(),
                        r.seconds()));
        out.printf(
                Locale.ROOT,
                "restore: %,d records, %.2f s from the first partition's start to the last one's end"
                        + "; start() → RUNNING %.2f s (group join and assignment included)%n",
                timings.totalRecords(),
                timings.totalSeconds(),
                chunker.secondsToRunning());
    }

    /** Interactive queries may refuse for a moment after RUNNING while the stores register; poll until they answer. */
    private static ReadOnlyKeyValueStore<Long, ChatContext> awaitQueryable(ChunkerInstance chunker)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return chunker.contextStore();
            } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
    }

    /** Compares every stored context with what was written; returns {chats, messages}. */
    private long[] verify(ReadOnlyKeyValueStore<Long, ChatContext> store, ContextCorpus corpus) {
        long chats = 0;
        long messages = 0;
        try (KeyValueIterator<Long, ChatContext> it = store.all()) {
            while (it.hasNext()) {
                var entry = it.next();
                ChatContext expected = corpus.contextFor(entry.key);
                if (!expected.equals(entry.value)) {
                    throw new IllegalStateException(
                            "chat " + entry.key + ": the restored context differs from what" + " was written");
                }
                chats++;
                messages += entry.value.messages().size();
            }
        }
        if (chats != options.chats()) {
            throw new IllegalStateException("the restored store holds " + chats + " chats, not " + options.chats());
        }
        return new long[] {chats, messages};
    }

    private static long count(ReadOnlyKeyValueStore<Long, ChatContext> store) {
        long n = 0;
        try (KeyValueIterator<Long, ChatContext> it = store.all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    /**
     * A few chats (first, last, spread between) each send one new message to the updates topic; the chunker closes
     * each as a thought after the gap. Each thought's context must be the snapshot of the restored context: the
     * chunker read it from the restored store.
     */
    private List<Thought> probe(KafkaSettings kafka, ContextCorpus corpus, ContextPolicy policy)
            throws InterruptedException {
        if (options.probeChats() == 0) {
            return List.of();
        }
        Topics topics = Topics.withPrefix(kafka.topicPrefix());
        Map<Long, Integer> probeChats = new LinkedHashMap<>();
        for (int k = 0; k < options.probeChats(); k++) {
            int index = options.probeChats() == 1
                    ? 0
                    : (int) ((long) k * (options.chats() - 1) / (options.probeChats() - 1));
            probeChats.put(ContextCorpus.chatId(index), index);
        }
        long sent = System.currentTimeMillis();
        Properties producerProps = kafka.clientProperties();
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<Long, StoredUpdate> producer = new KafkaProducer<>(
                producerProps,
                topics.updates().keySerde().serializer(),
                topics.updates().valueSerde().serializer())) {
            long updateId = 1;
            for (long chatId : probeChats.keySet()) {
                StoredUpdate update = Fixtures.textUpdate(
                        updateId++,
                        chatId,
                        corpus.lastUserMessageId() + 1,
                        "Are you still there after the restart?",
                        System.currentTimeMillis());
                try {
                    producer.send(new ProducerRecord<>(topics.updates().name(), chatId, update))
                            .get(30, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException e) {
                    throw new IllegalStateException("cannot send the probe message of chat " + chatId, e);
                }
            }
        }
        Map<Long, Thought> thoughts = new HashMap<>();
        Properties consumerProps = kafka.clientProperties();
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<Long, Thought> consumer = new KafkaConsumer<>(
                consumerProps,
                new LongDeserializer(),
                topics.thoughts().valueSerde().deserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topics.thoughts().name(), Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(info.topic(), info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
            while (thoughts.size() < probeChats.size()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + thoughts.size() + " of " + probeChats.size()
                            + " probe thoughts arrived within " + PROBE_TIMEOUT);
                }
                for (ConsumerRecord<Long, Thought> record : consumer.poll(Duration.ofMillis(200))) {
                    if (probeChats.containsKey(record.key())) {
                        thoughts.put(record.key(), record.value());
                    }
                }
            }
        }
        List<Thought> result = new ArrayList<>();
        for (long chatId : probeChats.keySet()) {
            Thought thought = thoughts.get(chatId);
            List<ContextMessage> expected = corpus.contextFor(chatId).snapshot(thought.closedAtMs(), policy);
            if (expected.isEmpty() || !expected.equals(thought.context())) {
                throw new IllegalStateException("chat " + chatId + ": the probe thought's context ("
                        + thought.context().size() + " messages) is not the restored context's snapshot ("
                        + expected.size() + " messages)");
            }
            result.add(thought);
        }
        out.printf(
                Locale.ROOT,
                "probe: %d chats sent a new message; each thought (%.1f s after sending) carried the"
                        + " restored context: %s messages, as the snapshot of what was written%n",
                result.size(),
                (System.currentTimeMillis() - sent) / 1000.0,
                result.stream().map(t -> Integer.toString(t.context().size())).toList());
        return result;
    }

    /** The size on the broker's disk of each of the chunker's changelogs (all partitions); returns the total. */
    private long printChangelogSizes(KafkaSettings kafka) {
        Map<String, long[]> byTopic = new TreeMap<>();
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            Map<Integer, Map<String, LogDirDescription>> dirs =
                    admin.describeLogDirs(List.of(1)).allDescriptions().get(30, TimeUnit.SECONDS);
            for (Map<String, LogDirDescription> broker : dirs.values()) {
                for (LogDirDescription dir : broker.values()) {
                    for (Map.Entry<TopicPartition, ReplicaInfo> replica :
                            dir.replicaInfos().entrySet()) {
                        String topic = replica.getKey().topic();
                        if (topic.startsWith(APPLICATION_ID + "-") && topic.endsWith("-changelog")) {
                            long[] sizes = byTopic.computeIfAbsent(topic, t -> new long[2]);
                            sizes[0] += replica.getValue().size();
                            sizes[1]++;
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing the log directories", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe the broker's log directories: " + e.getMessage(), e);
        }
        long total = 0;
        for (Map.Entry<String, long[]> topic : byTopic.entrySet()) {
            out.printf(
                    Locale.ROOT,
                    "changelog %-55s %10.1f MiB in %d partitions%n",
                    topic.getKey(),
                    mib(topic.getValue()[0]),
                    topic.getValue()[1]);
            total += topic.getValue()[0];
        }
        out.printf(
                Locale.ROOT,
                "changelogs total %.1f MiB (log segments on the broker's disk, one replica)%n",
                mib(total));
        return total;
    }

    /** The size of each store's RocksDB directories (all tasks), after a clean close; returns the total. */
    private long printRocksDbSizes(Path appStateDir) {
        Map<String, Long> byStore = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(appStateDir)) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                Path rocksdb = task.resolve("rocksdb");
                if (!Files.isDirectory(rocksdb)) {
                    continue;
                }
                try (Stream<Path> stores = Files.list(rocksdb)) {
                    for (Path store : (Iterable<Path>) stores::iterator) {
                        byStore.merge(store.getFileName().toString(), sizeOf(store), Long::sum);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure " + appStateDir, e);
        }
        long total = 0;
        for (Map.Entry<String, Long> store : byStore.entrySet()) {
            out.printf(Locale.ROOT, "RocksDB  %-55s %10.1f MiB%n", store.getKey(), mib(store.getValue()));
            total += store.getValue();
        }
        out.printf(
                Locale.ROOT,
                "RocksDB total %.1f MiB (all tasks, after a clean close; the whole state directory" + " %.1f MiB)%n",
                mib(total),
                mib(sizeOf(appStateDir)));
        return total;
    }

    private static long sizeOf(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure " + dir, e);
        }
    }

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("thoughtstream-restore-bench");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory for the restore benchmark", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete the benchmark's data directory {}: {}", dir, e.toString());
        }
    }

    private static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}

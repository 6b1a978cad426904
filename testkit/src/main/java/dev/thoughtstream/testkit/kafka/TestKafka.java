package dev.thoughtstream.testkit.kafka;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Kafka broker of a test JVM. {@code KAFKA_BOOTSTRAP_SERVERS} (system property or environment variable)
 * points the tests at an existing broker; otherwise an {@link EmbeddedKafka} is started in a temporary directory
 * on first use and stopped and deleted when the JVM exits. Tests share it, so each test works under its own
 * {@link #uniquePrefix topic prefix}.
 */
public final class TestKafka {
    private static final Logger LOG = LoggerFactory.getLogger(TestKafka.class);

    /** Same name as the services use, so one variable points both at a broker. */
    public static final String BOOTSTRAP = KafkaSettings.BOOTSTRAP;
    /** The partition count of {@link #settings} and {@link #createTopics(String)}. */
    public static final int PARTITIONS = 3;

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
    private static final String RUN_ID =
            Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    private static final AtomicLong PREFIX_COUNTER = new AtomicLong();
    private static final int MAX_RECORDS_IN_MESSAGE = 20;

    private static volatile String bootstrapServers;
    private static KafkaProducer<byte[], byte[]> producer;

    private TestKafka() {}

    /** The broker's {@code bootstrap.servers}, starting the embedded broker on the first call. */
    public static String bootstrapServers() {
        String servers = bootstrapServers;
        if (servers == null) {
            synchronized (TestKafka.class) {
                if (bootstrapServers == null) {
                    bootstrapServers = connect();
                }
                servers = bootstrapServers;
            }
        }
        return servers;
    }

    private static String connect() {
        Optional<String> external = setting(BOOTSTRAP);
        if (external.isPresent()) {
            LOG.info("tests use the Kafka broker at {} ({} is set)", external.get(), BOOTSTRAP);
            return external.get();
        }
        Path dir;
        try {
            dir = Files.createTempDirectory("thoughtstream-test-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the test broker", e);
        }
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start(dir, 0);
        } catch (RuntimeException e) {
            EmbeddedKafka.deleteRecursively(dir);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(kafka, dir), "testkit-kafka-shutdown"));
        return kafka.bootstrapServers();
    }

    private static void stop(EmbeddedKafka kafka, Path dir) {
        synchronized (TestKafka.class) {
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
        }
        kafka.close();
        EmbeddedKafka.deleteRecursively(dir);
    }

    static Optional<String> setting(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            value = System.getenv(name);
        }
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }

    /** Settings for a service under test: this broker, {@code prefix} on every topic, {@value #PARTITIONS} partitions. */
    public static KafkaSettings settings(String topicPrefix) {
        return KafkaSettings.from(config(topicPrefix, PARTITIONS));
    }

    /** The configuration behind {@link #settings}, for services that read more than Kafka settings from it. */
    public static Config config(String topicPrefix, int partitions) {
        return Config.of(Map.of(
                BOOTSTRAP,
                bootstrapServers(),
                "TOPIC_PREFIX",
                topicPrefix,
                "TOPIC_PARTITIONS",
                Integer.toString(partitions)));
    }

    /**
     * A topic prefix no other call (in this JVM or, very probably, another one on the same broker) returns:
     * {@code t-<name>-<run>-<n>.}, with {@code name} reduced to characters legal in a topic name.
     */
    public static String uniquePrefix(String name) {
        String safe = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
        if (safe.length() > 40) {
            safe = safe.substring(0, 40);
        }
        return "t-" + safe + "-" + RUN_ID + "-" + PREFIX_COUNTER.incrementAndGet() + ".";
    }

    /** Creates every pipeline topic under {@code prefix} with {@value #PARTITIONS} partitions. */
    public static Topics createTopics(String prefix) {
        return createTopics(prefix, PARTITIONS);
    }

    /** Creates every pipeline topic under {@code prefix}, the way the services do ({@link TopicAdmin}). */
    public static Topics createTopics(String prefix, int partitions) {
        Topics topics = Topics.withPrefix(prefix);
        TopicAdmin.ensureTopics(KafkaSettings.from(config(prefix, partitions)), topics, ADMIN_TIMEOUT);
        return topics;
    }

    /** Creates one topic (for topics outside the pipeline's); an existing one is left as it is. */
    public static void createTopic(String name, int partitions) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out creating topic " + name + " at " + bootstrapServers(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        }
    }

    /** Producer settings like the services': acks=all, idempotent. Pass serializers to the constructor. */
    public static Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return p;
    }

    /** Consumer settings for a verifier: read_committed, from the earliest offset. Pass deserializers. */
    public static Properties consumerProps(String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return p;
    }

    /** Sends one record and waits for the broker's acknowledgement. */
    public static <K, V> void produce(Topic<K, V> topic, K key, V value) {
        try {
            sharedProducer().send(topic.record(key, value)).get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot produce to " + topic.name() + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out producing to " + topic.name() + " at " + bootstrapServers(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while producing to " + topic.name(), e);
        }
    }

    private static synchronized KafkaProducer<byte[], byte[]> sharedProducer() {
        if (producer == null) {
            Properties p = producerProps();
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "testkit-producer");
            producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    /**
     * Reads {@code topic} from the beginning of every partition (read_committed, no consumer group) until at
     * least {@code atLeast} records were seen, and returns all records seen so far.
     *
     * @throws AssertionError on timeout, listing what was seen
     */
    public static <K, V> List<ConsumerRecord<K, V>> awaitRecords(Topic<K, V> topic, int atLeast, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "testkit-await-" + topic.name());
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord<K, V>> seen = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(
                p, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
            List<TopicPartition> partitions = List.of();
            while (partitions.isEmpty()) {
                Duration remaining = remaining(deadline);
                if (remaining.isZero()) {
                    throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + atLeast
                            + " records on " + topic.name() + ": the topic does not exist");
                }
                try {
                    partitions = consumer.partitionsFor(topic.name(), min(remaining, Duration.ofSeconds(1))).stream()
                            .map(info -> new TopicPartition(info.topic(), info.partition()))
                            .collect(Collectors.toList());
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    LOG.debug("no metadata for {} yet: {}", topic.name(), e.getMessage());
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (seen.size() < atLeast) {
                Duration remaining = remaining(deadline);
                if (remaining.isZero()) {
                    throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for at least "
                            + atLeast + " records on " + topic.name() + "; saw " + seen.size() + describe(seen));
                }
                consumer.poll(min(remaining, Duration.ofMillis(200))).forEach(seen::add);
            }
            return seen;
        }
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String describe(List<? extends ConsumerRecord<?, ?>> records) {
        if (records.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(":");
        for (ConsumerRecord<?, ?> r : records.subList(0, Math.min(records.size(), MAX_RECORDS_IN_MESSAGE))) {
            sb.append("\n  partition ")
                    .append(r.partition())
                    .append(" offset ")
                    .append(r.offset())
                    .append(" key=")
                    .append(abbreviate(r.key()))
                    .append(" value=")
                    .append(abbreviate(r.value()));
        }
        if (records.size() > MAX_RECORDS_IN_MESSAGE) {
            sb.append("\n  ... and ")
                    .append(records.size() - MAX_RECORDS_IN_MESSAGE)
                    .append(" more");
        }
        return sb.toString();
    }

    private static String abbreviate(Object o) {
        String s = o instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(o);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}

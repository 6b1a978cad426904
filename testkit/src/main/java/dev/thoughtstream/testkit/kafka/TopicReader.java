package dev.thoughtstream.testkit.kafka;

import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Everything a downstream service would see on one topic: a read_committed consumer over all its partitions from
 * the beginning, without a consumer group, that keeps what it has read. Unlike {@link TestKafka#awaitRecords} it
 * stays open, so a test can wait for one record, act, and then wait for the next while still holding the first.
 * One thread only.
 */
public final class TopicReader<K, V> implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);

    private final Topic<K, V> topic;
    private final KafkaConsumer<K, V> consumer;
    private final List<TopicPartition> partitions;
    private final List<ConsumerRecord<K, V>> seen = new ArrayList<>();

    /** A reader on the shared test broker ({@link TestKafka#bootstrapServers()}). */
    public TopicReader(Topic<K, V> topic) {
        this(TestKafka.bootstrapServers(), topic, OPEN_TIMEOUT);
    }

    public TopicReader(Topic<K, V> topic, Duration timeout) {
        this(TestKafka.bootstrapServers(), topic, timeout);
    }

    /** A reader on any broker, e.g. a test's own {@link EmbeddedKafka}. */
    public TopicReader(String bootstrapServers, Topic<K, V> topic, Duration timeout) {
        this.topic = topic;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "topic-reader-" + topic.name());
        this.consumer = new KafkaConsumer<>(
                p, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
        this.partitions = consumer.partitionsFor(topic.name(), timeout).stream()
                .map(info -> new TopicPartition(info.topic(), info.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Reads {@code topic} on {@code bootstrapServers} up to its current end, for "written exactly once" checks. */
    public static <K, V> List<ConsumerRecord<K, V>> readAll(
            String bootstrapServers, Topic<K, V> topic, Duration timeout) {
        try (TopicReader<K, V> reader = new TopicReader<>(bootstrapServers, topic, timeout)) {
            return reader.readToEnd(timeout);
        }
    }

    /** Every record read so far, in the order read (per partition, offset order). */
    public List<ConsumerRecord<K, V>> seen() {
        return List.copyOf(seen);
    }

    public List<ConsumerRecord<K, V>> seen(Predicate<ConsumerRecord<K, V>> filter) {
        return seen.stream().filter(filter).toList();
    }

    /** One short poll for more, then everything read so far; meant to be called inside {@link Await}. */
    public List<ConsumerRecord<K, V>> poll() {
        pollOnce();
        return seen();
    }

    /** Reads until at least {@code count} of the records read so far match, and returns the matching ones. */
    public List<ConsumerRecord<K, V>> awaitMatching(
            String what, int count, Predicate<ConsumerRecord<K, V>> filter, Duration timeout) {
        try {
            Await.until(count + " × " + what + " on " + topic.name(), timeout, () -> {
                pollOnce();
                return seen(filter).size() >= count;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; read: " + describe(), e);
        }
        return seen(filter);
    }

    /**
     * Reads up to the current end of every partition: what a read_committed consumer can see now. The end is
     * taken once, at the call; records committed later may or may not be included.
     */
    public List<ConsumerRecord<K, V>> readToEnd(Duration timeout) {
        Map<TopicPartition, Long> end = endOffsets();
        Await.until("the end of " + topic.name() + " at " + end, timeout, () -> {
            pollOnce();
            return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
        });
        return seen();
    }

    /** The read_committed end of every partition (the last stable offset), control records included. */
    public Map<TopicPartition, Long> endOffsets() {
        return consumer.endOffsets(partitions);
    }

    private String describe() {
        return seen.isEmpty()
                ? "nothing"
                : seen.stream()
                        .map(r -> "\n  " + r.partition() + "@" + r.offset() + " key=" + r.key() + " value=" + r.value())
                        .reduce("", String::concat);
    }

    private void pollOnce() {
        consumer.poll(POLL).forEach(seen::add);
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}

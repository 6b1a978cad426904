package dev.thoughtstream.emitter;

import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a whole topic from the beginning without a consumer group and keeps what it has seen, so a test can
 * poll it repeatedly inside {@code Await} without re-reading from scratch. One test thread only.
 */
final class TopicReader<K, V> implements AutoCloseable {
    private final KafkaConsumer<K, V> consumer;
    private final List<ConsumerRecord<K, V>> seen = new ArrayList<>();

    TopicReader(Topic<K, V> topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "emitter-test-reader-" + topic.name());
        consumer = new KafkaConsumer<>(p, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic.name(), Duration.ofSeconds(30)).stream()
                .map(info -> new TopicPartition(info.topic(), info.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Everything seen so far, after one short poll for more. */
    List<ConsumerRecord<K, V>> poll() {
        consumer.poll(Duration.ofMillis(100)).forEach(seen::add);
        return List.copyOf(seen);
    }

    @Override
    public void close() {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
}

package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.topic.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a topic live, as a downstream read_committed consumer would, and notes when each record became
 * visible: the moment a record's consumer could have acted on it, which its own timestamps cannot say.
 */
final class TopicWatcher<K, V> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicWatcher.class);

    /** A record and the wall-clock time this watcher received it. */
    record Seen<K, V>(ConsumerRecord<K, V> record, long seenAtMs) {}

    private final KafkaConsumer<K, V> consumer;
    private final Thread thread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Seen<K, V>> seen = new ArrayList<>();

    TopicWatcher(String bootstrap, Topic<K, V> topic, int partitions) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-watch-" + topic.name());
        consumer = new KafkaConsumer<>(
                p, topic.keySerde().deserializer(), topic.valueSerde().deserializer());
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            tps.add(new TopicPartition(topic.name(), i));
        }
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        thread = new Thread(this::loop, "bench-watch-" + topic.name());
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (running.get()) {
                var records = consumer.poll(Duration.ofMillis(100));
                long now = System.currentTimeMillis();
                synchronized (this) {
                    records.forEach(r -> seen.add(new Seen<>(r, now)));
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            LOG.debug("watcher woken up to stop");
        } catch (RuntimeException e) {
            LOG.warn("watcher stopped by an error: {}", e.toString());
        } finally {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    synchronized List<Seen<K, V>> seen() {
        return List.copyOf(seen);
    }

    @Override
    public void close() {
        running.set(false);
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

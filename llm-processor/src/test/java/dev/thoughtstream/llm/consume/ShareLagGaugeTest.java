package dev.thoughtstream.llm.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Share mode's lag gauge on the in-process broker: a backlog built on purpose shows on the partition it is on, and
 * drains once a consumer of the group acknowledges it; the figures are the Admin API's, refreshed on their own.
 */
class ShareLagGaugeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int PARTITION = 1;
    private static final int BACKLOG = 5;

    private final Metrics metrics = new Metrics(Duration.ofMillis(200));
    private String group;
    private Topics topics;
    private KafkaSettings kafka;
    private ShareLagGauge gauge;

    @BeforeEach
    void setUp(TestInfo test) {
        String prefix = TestKafka.uniquePrefix(
                "share-lag-" + test.getTestMethod().orElseThrow().getName());
        topics = TestKafka.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
        group = prefix + "llm";
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            // As the processor prepares its group: from the earliest offset, read_committed
            ShareGroups.prepare(admin, group, 4, Duration.ofSeconds(10));
        }
    }

    @AfterEach
    void tearDown() {
        if (gauge != null) {
            gauge.close();
        }
    }

    @Test
    void aBacklogBuiltOnPurposeShowsOnItsPartitionAndDrainsOnceTheGroupAcknowledgesIt() throws Exception {
        // given five thoughts on one partition that no consumer of the share group has taken
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < BACKLOG; i++) {
                producer.send(new ProducerRecord<>(
                                topics.thoughts().name(),
                                PARTITION,
                                null,
                                ("thought " + i).getBytes(StandardCharsets.UTF_8)))
                        .get(10, TimeUnit.SECONDS);
            }
        }

        // when the gauge reads the group's lag
        gauge = new ShareLagGauge(kafka, group, topics.thoughts().name(), metrics);

        // then the partition shows the five, the others nothing, and so does the scrape
        Await.until("the backlog on partition " + PARTITION, TIMEOUT, () -> gauge.lag(PARTITION) == BACKLOG);
        assertEquals(0, gauge.lag(0));
        assertEquals(0, gauge.lag(2));
        String series = "thoughtstream_llm_share_group_lag{partition=\"" + PARTITION + "\",topic=\""
                + topics.thoughts().name() + "\"} 5.0";
        assertTrue(metrics.scrape().contains(series), metrics.scrape());

        // when a consumer of the group takes and acknowledges them
        List<ConsumerRecord<byte[], byte[]>> taken = new ArrayList<>();
        try (KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(shareConsumerProps())) {
            consumer.subscribe(List.of(topics.thoughts().name()));
            Await.until("the backlog taken", TIMEOUT, () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(taken::add);
                return taken.size() >= BACKLOG;
            });
            consumer.commitSync(Duration.ofSeconds(10));

            // then the gauge drains to 0 on a later refresh
            Await.until("the backlog drained", TIMEOUT, () -> gauge.lag(PARTITION) == 0);
        }
        assertEquals(BACKLOG, taken.size());

        // and once closed it shows no value rather than a stale one
        gauge.close();
        assertTrue(Double.isNaN(gauge.lag(PARTITION)));
    }

    private Properties shareConsumerProps() {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }
}

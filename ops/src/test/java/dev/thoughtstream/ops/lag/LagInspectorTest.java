package dev.thoughtstream.ops.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class LagInspectorTest {
    private static final long NOW = Instant.parse("2026-03-01T12:00:00Z").toEpochMilli();

    @Test
    void aGroupBehindItsTopicShowsTheRecordsLeftAndTheAgeOfTheOldest() throws Exception {
        // Given 5 updates of one chat written a minute ago, one second apart
        String prefix = TestKafka.uniquePrefix("lag");
        Topics topics = TestKafka.createTopics(prefix);
        String group = prefix + "chunker";
        int partition = -1;
        try (var producer =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 5; i++) {
                ProducerRecord<byte[], byte[]> r = topics.updates().record(42L, null);
                RecordMetadata m = producer.send(new ProducerRecord<>(
                                r.topic(), null, NOW - 60_000 + i * 1000L, r.key(), "{}".getBytes()))
                        .get();
                partition = m.partition();
            }
        }

        // And the chunker's group committed after the first two
        Properties p = TestKafka.consumerProps(group);
        try (var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topics.updates().name(), partition);
            consumer.assign(List.of(tp));
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(2)));
        }

        // When the operator asks for the lag
        OpsSettings settings = OpsSettings.from(TestKafka.config(prefix, TestKafka.PARTITIONS)
                .with(Map.of(
                        OpsSettings.CHUNKER_APPLICATION_ID, group, OpsSettings.EMITTER_GROUP_ID, prefix + "emitter")));
        List<GroupLag> report;
        try (var inspector = new LagInspector(settings, Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))) {
            report = inspector.inspect();
        }

        // Then the chunker is 3 records behind on tg.updates, the oldest of them written 58 s ago
        GroupLag chunker = report.get(0);
        assertEquals("chunker", chunker.stage());
        assertEquals(group, chunker.group());
        GroupLag.TopicLag updates = chunker.topics().get(0);
        assertEquals(topics.updates().name(), updates.topic());
        assertEquals(3, updates.lag());
        assertEquals(3, updates.maxPartitionLag());
        assertEquals(partition, updates.maxPartition());
        assertEquals(58_000L, updates.oldestAgeMs());
        assertEquals(TestKafka.PARTITIONS - 1, updates.partitionsWithoutOffset());
        // And nothing waits on chat.delivered
        assertEquals(0, chunker.topics().get(1).lag());
        assertNull(chunker.topics().get(1).oldestAgeMs());

        // And the emitter's group, never started, is absent with nothing to read
        GroupLag emitter = report.get(2);
        assertEquals("absent", emitter.state());
        assertEquals(0, emitter.topics().get(0).lag());

        // And the table names the stage, the lag and the age
        String text = LagInspector.text(report);
        assertTrue(text.contains("58.0s"), text);
        assertTrue(text.contains("3 (p" + partition + ")"), text);
    }

    @Test
    void aShareGroupsLagIsWhatTheBrokerCountsAndTheOldestRecordIsTheFirstOfThose() throws Exception {
        // Given llm-processor's share group, reading chat.thoughts from the earliest record
        String prefix = TestKafka.uniquePrefix("lag-share");
        Topics topics = TestKafka.createTopics(prefix);
        String group = prefix + "llm";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(
                            new ConfigResource(ConfigResource.Type.GROUP, group),
                            List.of(new AlterConfigOp(
                                    new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET))))
                    .all()
                    .get();
        }
        // And 3 thoughts it processed
        try (var producer =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 3; i++) {
                ProducerRecord<byte[], byte[]> r = topics.thoughts().record(7L, null);
                producer.send(new ProducerRecord<>(r.topic(), null, NOW - 1000, r.key(), "{}".getBytes()))
                        .get();
            }
            Properties p = new Properties();
            p.put("bootstrap.servers", TestKafka.bootstrapServers());
            p.put("group.id", group);
            try (var share = new KafkaShareConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                share.subscribe(List.of(topics.thoughts().name()));
                AtomicInteger seen = new AtomicInteger();
                Await.until("3 thoughts delivered to the share group", Duration.ofSeconds(30), () -> {
                    seen.addAndGet(share.poll(Duration.ofMillis(100)).count());
                    return seen.get() >= 3;
                });
                share.commitSync();
            }
            // And 2 it has not seen yet, the older written 30 s ago
            for (int i = 0; i < 2; i++) {
                ProducerRecord<byte[], byte[]> r = topics.thoughts().record(7L, null);
                producer.send(new ProducerRecord<>(r.topic(), null, NOW - 30_000 + i, r.key(), "{}".getBytes()))
                        .get();
            }
        }

        // When the operator asks for the lag
        OpsSettings settings = OpsSettings.from(TestKafka.config(prefix, TestKafka.PARTITIONS)
                .with(Map.of(OpsSettings.LLM_GROUP_ID, group, OpsSettings.LLM_MODE, "share")));
        GroupLag llm;
        try (var inspector = new LagInspector(settings, Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC))) {
            llm = inspector.inspect().get(1);
        }

        // Then the share group is 2 records behind, the oldest 30 s old
        assertEquals("share", llm.type(), llm.toString());
        assertNull(llm.unavailable(), llm.toString());
        GroupLag.TopicLag thoughts = llm.topics().get(0);
        assertEquals(2, thoughts.lag(), llm.toString());
        assertEquals(30_000L, thoughts.oldestAgeMs(), llm.toString());
    }
}

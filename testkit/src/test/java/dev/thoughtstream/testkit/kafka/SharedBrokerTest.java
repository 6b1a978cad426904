package dev.thoughtstream.testkit.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.api.Test;

/** What the pipeline needs from the test JVM's shared broker ({@link TestKafka}): a real, production-like Kafka. */
class SharedBrokerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static Topic<String, String> stringTopic(String name, int partitions) {
        TestKafka.createTopic(name, partitions);
        return new Topic<>(name, Serdes.String(), Serdes.String());
    }

    @Test
    void theBrokerFinalizesThisReleasesProductionFeatureLevels() throws Exception {
        // given the shared broker
        Map<String, FinalizedVersionRange> features;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
            // when its finalized features are described
            features = admin.describeFeatures()
                    .featureMetadata()
                    .get(30, TimeUnit.SECONDS)
                    .finalizedFeatures();
        }

        // then transactions v2, the consumer and share group protocols and Streams groups are all enabled
        assertTrue(level(features, "transaction.version") >= 2, "transaction.version in " + features);
        assertTrue(level(features, "group.version") >= 1, "group.version in " + features);
        assertTrue(level(features, "share.version") >= 1, "share.version in " + features);
        assertTrue(level(features, "streams.version") >= 1, "streams.version in " + features);
        assertTrue(level(features, "kraft.version") >= 1, "kraft.version (dynamic quorum) in " + features);
        // and the metadata version is a production one, not an unstable testing level
        assertTrue(
                level(features, "metadata.version")
                        <= MetadataVersion.latestProduction().featureLevel(),
                "metadata.version in " + features + " exceeds " + MetadataVersion.latestProduction());
    }

    private static short level(Map<String, FinalizedVersionRange> features, String name) {
        FinalizedVersionRange range = features.get(name);
        return range == null ? 0 : range.maxVersionLevel();
    }

    @Test
    void recordsProducedToTheEmbeddedBrokerAreConsumedInOrder() throws Exception {
        assertEquals(KafkaSmoke.expected(5), KafkaSmoke.produceAndConsumeInAGroup(TestKafka.bootstrapServers(), 5));
    }

    @Test
    void aReadCommittedConsumerSeesCommittedTransactionsAndNotAbortedOnes() throws Exception {
        // given a topic and a transactional producer
        Topic<String, String> topic = stringTopic(TestKafka.uniquePrefix("transactions") + "out", 1);
        Properties props = TestKafka.producerProps();
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "testkit-tx-" + UUID.randomUUID());
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();

            // when one transaction commits, the next aborts, and a third commits
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic.name(), "chat-1", "committed-1"));
            producer.send(new ProducerRecord<>(topic.name(), "chat-1", "committed-2"));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic.name(), "chat-1", "aborted-1"));
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic.name(), "chat-1", "committed-3"));
            producer.commitTransaction();
        }

        // then read_committed shows exactly the committed records, in order
        List<String> committed = TestKafka.awaitRecords(topic, 3, TIMEOUT).stream()
                .map(ConsumerRecord::value)
                .toList();
        assertEquals(List.of("committed-1", "committed-2", "committed-3"), committed);
        // while the aborted record really is in the log (read_uncommitted sees it)
        assertEquals(List.of("committed-1", "committed-2", "aborted-1", "committed-3"), readUncommitted(topic, 4));
    }

    private static List<String> readUncommitted(Topic<String, String> topic, int count) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(topic.name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            Await.until(count + " uncommitted records on " + topic.name(), TIMEOUT, () -> {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> values.add(r.value()));
                return values.size() >= count;
            });
        }
        return values;
    }

    @Test
    void aShareGroupDeliversRecordsRedeliversAReleasedOneAndCountsAcknowledgements() throws Exception {
        // given a topic with three records and a share group that starts from the earliest offset
        Topic<String, String> topic = stringTopic(TestKafka.uniquePrefix("share") + "work", 1);
        for (String v : List.of("job-1", "job-2", "job-3")) {
            TestKafka.produce(topic, "chat-1", v);
        }
        String group = "testkit-share-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(
                            new ConfigResource(ConfigResource.Type.GROUP, group),
                            List.of(new AlterConfigOp(
                                    new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET))))
                    .all()
                    .get(30, TimeUnit.SECONDS);

            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            props.put("share.acknowledgement.mode", "explicit");
            Map<String, Integer> deliveries = new HashMap<>();
            Map<String, Short> lastDeliveryCount = new HashMap<>();
            try (KafkaShareConsumer<String, String> consumer =
                    new KafkaShareConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
                consumer.subscribe(List.of(topic.name()));

                // when a member accepts job-1 and job-3 but releases job-2 once, then accepts it on redelivery
                Await.until("all three jobs accepted", TIMEOUT, () -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                        int seen = deliveries.merge(r.value(), 1, Integer::sum);
                        lastDeliveryCount.put(r.value(), r.deliveryCount().orElse((short) -1));
                        boolean releaseOnce = r.value().equals("job-2") && seen == 1;
                        consumer.acknowledge(r, releaseOnce ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync(Duration.ofSeconds(10));
                    return deliveries.size() == 3 && deliveries.get("job-2") == 2;
                });
            }

            // then the released job came back with a higher delivery count and the others came once
            assertEquals(Map.of("job-1", 1, "job-2", 2, "job-3", 1), deliveries);
            assertEquals((short) 2, lastDeliveryCount.get("job-2"));
            // and the broker counts no unacknowledged record left for the group (its lag drops to 0)
            TopicPartition partition = new TopicPartition(topic.name(), 0);
            AtomicReference<SharePartitionOffsetInfo> last = new AtomicReference<>();
            try {
                Await.until("share group lag 0 on " + partition, TIMEOUT, () -> {
                    last.set(shareOffsets(admin, group, partition));
                    return last.get() != null && last.get().lag().orElse(-1L) == 0L;
                });
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; last offsets: " + last.get(), e);
            }
        }
    }

    private static SharePartitionOffsetInfo shareOffsets(Admin admin, String group, TopicPartition partition) {
        try {
            return admin.listShareGroupOffsets(
                            Map.of(group, new ListShareGroupOffsetsSpec().topicPartitions(List.of(partition))))
                    .partitionsToOffsetInfo(group)
                    .get(10, TimeUnit.SECONDS)
                    .get(partition);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing share group offsets of " + group, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot list share group offsets of " + group, e);
        }
    }
}

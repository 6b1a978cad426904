package dev.thoughtstream.testkit.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

class TestKafkaTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void uniquePrefixesDifferAndAreLegalTopicNamePrefixes() {
        // when many prefixes are made from the same, awkward name
        List<String> prefixes = IntStream.range(0, 100)
                .mapToObj(i -> TestKafka.uniquePrefix("Chunker Streams/ü test"))
                .toList();

        // then all differ, end with '.', and make legal topic names
        assertEquals(100, Set.copyOf(prefixes).size());
        for (String prefix : prefixes) {
            assertTrue(prefix.endsWith("."), prefix);
            org.apache.kafka.common.internals.Topic.validate(prefix + Topics.UPDATES);
            assertTrue(prefix.matches("[a-z0-9.-]+"), prefix);
        }
    }

    @Test
    void settingsPointAServiceAtTheSharedBrokerWithItsPrefix() {
        String prefix = TestKafka.uniquePrefix("settings");

        KafkaSettings settings = TestKafka.settings(prefix);

        assertEquals(TestKafka.bootstrapServers(), settings.bootstrapServers());
        assertEquals(prefix, settings.topicPrefix());
        assertEquals(TestKafka.PARTITIONS, settings.partitions());
    }

    @Test
    void createTopicsCreatesEveryPipelineTopicWithTheGivenPartitions() throws Exception {
        // given a fresh prefix
        String prefix = TestKafka.uniquePrefix("create-topics");

        // when the pipeline's topics are created with 2 partitions
        Topics topics = TestKafka.createTopics(prefix, 2);

        // then all five exist on the broker, each with 2 partitions
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
            Map<String, TopicDescription> described =
                    admin.describeTopics(topics.allNames()).allTopicNames().get(30, TimeUnit.SECONDS);
            assertEquals(Set.copyOf(topics.allNames()), described.keySet());
            described.values().forEach(d -> assertEquals(2, d.partitions().size(), d.name()));
        }
        assertTrue(topics.allNames().stream().allMatch(n -> n.startsWith(prefix)));
    }

    @Test
    void awaitRecordsReturnsWhatWasProducedAcrossPartitions() {
        // given the pipeline topics and updates of three chats (spread over the partitions by key)
        Topics topics = TestKafka.createTopics(TestKafka.uniquePrefix("await-records"));
        for (long chat = 1; chat <= 3; chat++) {
            TestKafka.produce(
                    topics.updates(),
                    chat,
                    StoredUpdate.of(
                            100 + chat,
                            chat,
                            1_700_000_000_000L,
                            Json.mapper().createObjectNode().put("update_id", 100 + chat)));
        }

        // when three records are awaited
        List<ConsumerRecord<Long, StoredUpdate>> records = TestKafka.awaitRecords(topics.updates(), 3, TIMEOUT);

        // then each chat's update came back, deserialised with the topic's serdes
        assertEquals(
                Set.of(1L, 2L, 3L), records.stream().map(ConsumerRecord::key).collect(Collectors.toSet()));
        records.forEach(r -> assertEquals(100 + r.key(), r.value().updateId()));
    }

    @Test
    void awaitRecordsFailsWithTheRecordsItSawWhenTooFewArrive() {
        // given a topic with one record
        String name = TestKafka.uniquePrefix("await-timeout") + "few";
        TestKafka.createTopic(name, 1);
        Topic<String, String> topic = new Topic<>(name, Serdes.String(), Serdes.String());
        TestKafka.produce(topic, "chat-9", "only one");

        // when two are awaited
        AssertionError failure =
                assertThrows(AssertionError.class, () -> TestKafka.awaitRecords(topic, 2, Duration.ofSeconds(2)));

        // then the message names the topic, the shortfall and the record seen
        String msg = failure.getMessage();
        assertTrue(msg.contains("at least 2 records on " + name + "; saw 1"), msg);
        assertTrue(msg.contains("key=chat-9 value=only one"), msg);
    }

    @Test
    void awaitRecordsOnAMissingTopicFailsSayingSo() {
        Topic<String, String> missing =
                new Topic<>(TestKafka.uniquePrefix("missing") + "nothing", Serdes.String(), Serdes.String());

        AssertionError failure =
                assertThrows(AssertionError.class, () -> TestKafka.awaitRecords(missing, 1, Duration.ofSeconds(2)));

        assertTrue(failure.getMessage().contains("does not exist"), failure.getMessage());
    }

    @Test
    void consumerPropsReadOnlyCommittedRecordsFromTheEarliestOffset() {
        var props = TestKafka.consumerProps("g");
        assertEquals("read_committed", props.get("isolation.level"));
        assertEquals("earliest", props.get("auto.offset.reset"));
        assertEquals("g", props.get("group.id"));
        assertNotEquals(null, props.get("bootstrap.servers"));
    }
}

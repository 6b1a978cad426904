package dev.thoughtstream.ops.dlq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeadLetterQueueTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private String prefix;
    private Topics topics;
    private OpsSettings settings;
    private Thought thought;

    @BeforeEach
    void twoDeadLetters() throws Exception {
        prefix = TestKafka.uniquePrefix("dlq");
        topics = TestKafka.createTopics(prefix);
        settings = OpsSettings.from(TestKafka.config(prefix, TestKafka.PARTITIONS));
        thought = new Thought(
                Thought.SCHEMA_VERSION,
                "42:7",
                42L,
                List.of(new ThoughtMessage(7, "hi", 1000)),
                7,
                7,
                1000,
                2000,
                null);
        // A thought llm-processor gave up on, and an update the chunker could not read
        ProducerRecord<byte[], byte[]> original = topics.thoughts().record(42L, thought);
        var thoughtSource = new ConsumerRecord<>(topics.thoughts().name(), 1, 17L, original.key(), original.value());
        thoughtSource.headers().add("trace", "abc".getBytes(StandardCharsets.UTF_8));
        var updateSource = new ConsumerRecord<>(
                topics.updates().name(), 0, 3L, original.key(), "{broken".getBytes(StandardCharsets.UTF_8));
        try (var producer =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(DeadLetters.of(
                            topics.deadLetters().name(), thoughtSource, "llm-processor", "model timed out", 5000))
                    .get();
            producer.send(DeadLetters.of(
                            topics.deadLetters().name(), updateSource, "chunker", "cannot read StoredUpdate", 6000))
                    .get();
        }
    }

    @Test
    void listShowsEveryDeadLetterWithItsReasonAndSource() {
        try (var dlq = new DeadLetterQueue(settings, Clock.systemUTC())) {
            List<DeadLetter> letters = dlq.list();

            assertEquals(2, letters.size());
            DeadLetter first = letters.get(0);
            assertEquals("model timed out", first.reason());
            assertEquals(topics.thoughts().name(), first.sourceTopic());
            assertEquals("1", first.sourcePartition());
            assertEquals("17", first.sourceOffset());
            assertEquals("llm-processor", first.service());
            assertEquals(42L, first.chatId());
            assertFalse(first.redriven());

            // And show finds one by its coordinates, with its value and headers
            DeadLetter shown = dlq.show(first.partition(), first.offset());
            assertEquals(first.coordinates(), shown.coordinates());
            assertTrue(shown.value().contains("\"thoughtId\":\"42:7\""), shown.value());
            assertEquals("abc", shown.headers().get("trace"));
            assertTrue(DeadLetterQueue.listText(letters).contains("model timed out"));
        }
    }

    @Test
    void aRedriveDeliversTheChosenRecordOnceHoweverOftenItRuns() {
        try (var dlq = new DeadLetterQueue(settings, Clock.systemUTC())) {
            // Given a dry run first: it names the record and sends nothing
            RedriveResult dry = dlq.redrive(Optional.of("timed out"), true);
            assertEquals(1, dry.redriven().size());
            assertTrue(dry.dryRun());

            // When the redrive runs twice
            RedriveResult first = dlq.redrive(Optional.of("timed out"), false);
            RedriveResult second = dlq.redrive(Optional.of("timed out"), false);

            // Then the first sent the thought back, the second skipped it
            assertEquals(1, first.redriven().size());
            assertEquals(topics.thoughts().name(), first.redriven().get(0).topic());
            assertEquals(0, second.redriven().size());
            assertEquals("already redriven", second.skipped().get(0).why());

            // And the thoughts topic holds it exactly once: same key and value, origin in a header, no dlq headers
            List<ConsumerRecord<Long, Thought>> onTopic =
                    TopicReader.readAll(TestKafka.bootstrapServers(), topics.thoughts(), TIMEOUT);
            assertEquals(1, onTopic.size(), onTopic.toString());
            ConsumerRecord<Long, Thought> back = onTopic.get(0);
            assertEquals(42L, back.key());
            assertEquals(thought, back.value());
            assertEquals(
                    topics.deadLetters().name() + ":" + first.redriven().get(0).deadLetter(),
                    DeadLetters.header(back.headers(), DeadLetterQueue.REDRIVEN_FROM));
            assertEquals("abc", DeadLetters.header(back.headers(), "trace"));
            assertEquals(null, DeadLetters.header(back.headers(), DeadLetters.REASON));
            // And the update dead letter, not chosen, stays where it is
            assertEquals(
                    0,
                    TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT)
                            .size());
            // And list marks the redriven one
            assertTrue(dlq.list().get(0).redriven());
        }

        // And a redrive run from a new process (a new queue) knows it too
        try (var again = new DeadLetterQueue(settings, Clock.systemUTC())) {
            assertEquals(
                    0,
                    again.redrive(Optional.empty(), false).redriven().stream()
                            .filter(r -> r.topic().equals(topics.thoughts().name()))
                            .count());
        }
    }
}

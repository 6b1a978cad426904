package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input on the replies topic is set aside with its reason; the partition keeps flowing. */
class EmitterDeadLetterTest {
    private static final long CHAT = 4_601;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("dead-letters");
        fx.chatOpens(CHAT);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void unreadableBytesGoToTheDeadLetterTopicWithReasonAndSourceAndTheNextPartIsStillSent() throws Exception {
        // given a running emitter
        EmitterService emitter = fx.startEmitter();

        // when garbage lands on the replies topic (same key, so the same partition) before a valid part
        byte[] key = fx.topics
                .replies()
                .keySerde()
                .serializer()
                .serialize(fx.topics.replies().name(), CHAT);
        byte[] garbage = "{not a reply part".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> raw =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            raw.send(new ProducerRecord<>(fx.topics.replies().name(), key, garbage))
                    .get(30, TimeUnit.SECONDS);
        }
        fx.produce(EmitterFixture.part(CHAT, "r-after-garbage", 0, true, "still here"));

        // then the garbage is on the dead-letter topic, untouched, with the reason and where it came from
        try (TopicReader<byte[], byte[]> dead = new TopicReader<>(fx.topics.deadLetters())) {
            ConsumerRecord<byte[], byte[]> letter = Await.value(
                    "a dead letter",
                    EmitterFixture.TIMEOUT,
                    () -> dead.poll().stream().findFirst());
            assertArrayEquals(garbage, letter.value());
            assertArrayEquals(key, letter.key());
            String reason = DeadLetters.header(letter.headers(), DeadLetters.REASON);
            assertNotNull(reason);
            assertTrue(reason.contains("ReplyPart"), reason);
            assertEquals(fx.topics.replies().name(), DeadLetters.header(letter.headers(), DeadLetters.SOURCE_TOPIC));
            assertNotNull(DeadLetters.header(letter.headers(), DeadLetters.SOURCE_PARTITION));
            assertEquals("0", DeadLetters.header(letter.headers(), DeadLetters.SOURCE_OFFSET));
            assertEquals("emitter", DeadLetters.header(letter.headers(), DeadLetters.SERVICE));
        }
        // and the valid part after it reaches the person, and the dead letter is counted
        assertEquals(List.of("still here"), fx.awaitBotTexts(CHAT, 1));
        assertEquals(1, emitter.deadLettered());
    }

    @Test
    void aTombstoneIsSetAsideAndDoesNotStopThePartition() {
        // given a running emitter
        EmitterService emitter = fx.startEmitter();

        // when a record without a value arrives before a valid part
        byte[] key = fx.topics
                .replies()
                .keySerde()
                .serializer()
                .serialize(fx.topics.replies().name(), CHAT);
        try (KafkaProducer<byte[], byte[]> raw =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            raw.send(new ProducerRecord<>(fx.topics.replies().name(), key, null))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        fx.produce(EmitterFixture.part(CHAT, "r-after-null", 0, true, "after the tombstone"));

        // then the valid part is sent and the empty record is dead-lettered with a reason
        assertEquals(List.of("after the tombstone"), fx.awaitBotTexts(CHAT, 1));
        try (TopicReader<byte[], byte[]> dead = new TopicReader<>(fx.topics.deadLetters())) {
            ConsumerRecord<byte[], byte[]> letter = Await.value(
                    "a dead letter",
                    EmitterFixture.TIMEOUT,
                    () -> dead.poll().stream().findFirst());
            assertEquals(
                    Optional.of("record has no value; a reply part was expected"),
                    Optional.ofNullable(DeadLetters.header(letter.headers(), DeadLetters.REASON)));
        }
        assertEquals(1, emitter.deadLettered());
    }
}

package dev.thoughtstream.ops.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ChatTraceTest {
    private static final long CHAT = 42L;
    private static final long OTHER_CHAT = 43L;

    private final long t0 = System.currentTimeMillis() - Duration.ofMinutes(10).toMillis();
    private Topics topics;
    private OpsSettings settings;
    private KafkaProducer<byte[], byte[]> producer;

    @BeforeEach
    void topics() {
        String prefix = TestKafka.uniquePrefix("trace");
        topics = TestKafka.createTopics(prefix);
        settings = OpsSettings.from(TestKafka.config(prefix, TestKafka.PARTITIONS));
        producer = new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void close() {
        producer.close();
    }

    @Test
    void aChatsTraceShowsEveryStageOfItsConversationAndTheTimeBetweenThem() throws Exception {
        // Given a conversation: an old update, two messages, the thought, a reply of two parts and their outcomes
        int partition = produce(
                topics.updates(),
                CHAT,
                update(5, 5, "long ago"),
                t0 - Duration.ofHours(3).toMillis());
        produce(topics.updates(), CHAT, update(10, 7, "hi"), t0);
        produce(topics.updates(), CHAT, update(11, 8, "how are you?"), t0 + 100);
        produce(
                topics.updates(),
                OTHER_CHAT,
                StoredUpdate.of(12, OTHER_CHAT, t0 + 150, message(9, "not me")),
                t0 + 150);
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(CHAT, 7),
                CHAT,
                List.of(new ThoughtMessage(7, "hi", t0), new ThoughtMessage(8, "how are you?", t0 + 100)),
                7,
                8,
                t0,
                t0 + 2100,
                null);
        produce(topics.thoughts(), CHAT, thought, t0 + 2100);
        ReplyPart first = new ReplyPart(
                1,
                ReplyPart.replyIdFor(thought.thoughtId()),
                thought.thoughtId(),
                CHAT,
                8,
                0,
                false,
                "Hello!",
                t0 + 3000);
        ReplyPart second = new ReplyPart(1, first.replyId(), thought.thoughtId(), CHAT, 8, 1, true, "Fine.", t0 + 3500);
        produce(topics.replies(), CHAT, first, t0 + 3000);
        produce(topics.replies(), CHAT, second, t0 + 3500);
        produce(topics.delivered(), CHAT, Delivery.sent(first, 555, t0 + 4000), t0 + 4000);
        produce(topics.delivered(), CHAT, Delivery.dropped(second, "a newer message", t0 + 4200), t0 + 4200);
        // And a dead letter of the chat
        ProducerRecord<byte[], byte[]> broken = topics.replies().record(CHAT, second);
        producer.send(DeadLetters.of(
                        topics.deadLetters().name(),
                        new ConsumerRecord<>(topics.replies().name(), partition, 99L, broken.key(), broken.value()),
                        "emitter",
                        "Telegram said 400",
                        t0 + 5000))
                .get();

        // When the operator traces the chat over the last hour
        Timeline timeline;
        try (var trace = new ChatTrace(settings, Clock.systemUTC())) {
            timeline = trace.trace(CHAT, Optional.of(Duration.ofHours(1)));
        }

        // Then only the chat's partition was read, the one the producer chose
        assertEquals(partition, ChatTrace.partitionFor(longBytes(CHAT), TestKafka.PARTITIONS));
        assertEquals(partition, timeline.partitions().get(topics.updates().name()));
        // And every stage is there, in time order, without the other chat and without what is older than an hour
        assertEquals(
                List.of(
                        "ingested",
                        "ingested",
                        "thought",
                        "reply-part",
                        "reply-part",
                        "delivery",
                        "delivery",
                        "dead-letter"),
                timeline.events().stream().map(TraceEvent::stage).toList());
        // And the thought shows its messages, its parts' outcomes and the time between stages
        ThoughtTrace traced = timeline.thoughts().get(0);
        assertEquals(List.of(7L, 8L), traced.messageIds());
        assertEquals(2100L, traced.ingestToClosedMs());
        assertEquals(900L, traced.closedToFirstPartMs());
        assertEquals(1000L, traced.firstPartToSentMs());
        assertEquals("SENT", traced.parts().get(0).outcome());
        assertEquals("DROPPED_STALE", traced.parts().get(1).outcome());
        assertEquals("a newer message", traced.parts().get(1).reason());

        String text = ChatTrace.text(timeline);
        assertTrue(text.contains("ingested → closed 2.1s → first part 900ms → sent 1.0s"), text);
        assertTrue(text.contains("Telegram said 400"), text);
    }

    @Test
    void withoutSinceTheTraceStartsAtTheOldestRetainedRecord() throws Exception {
        produce(
                topics.updates(),
                CHAT,
                update(5, 5, "long ago"),
                t0 - Duration.ofHours(3).toMillis());
        try (var trace = new ChatTrace(settings, Clock.systemUTC())) {
            Timeline all = trace.trace(CHAT, Optional.empty());
            assertEquals(1, all.events().size());
            assertNull(all.sinceMs());
        }
    }

    @Test
    void followPrintsTheChatsNewRecordsAsTheyArrive() throws Exception {
        // Given a chat with one update, followed from now
        produce(topics.updates(), CHAT, update(10, 7, "hi"), t0);
        List<Timeline> initial = new CopyOnWriteArrayList<>();
        List<TraceEvent> next = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread follower = new Thread(() -> {
            try (var trace = new ChatTrace(settings, Clock.systemUTC())) {
                trace.follow(CHAT, Optional.empty(), initial::add, next::add, stop::get);
            }
        });
        follower.start();
        try {
            Await.until("the initial trace", Duration.ofSeconds(30), () -> !initial.isEmpty());
            assertEquals(1, initial.get(0).events().size());

            // When the chat writes again, and another chat too
            produce(topics.updates(), OTHER_CHAT, StoredUpdate.of(12, OTHER_CHAT, t0, message(9, "not me")), t0);
            produce(topics.updates(), CHAT, update(11, 8, "still there?"), t0 + 100);

            // Then the new record of the chat follows, and only it
            Await.until("the chat's new update", Duration.ofSeconds(30), () -> !next.isEmpty());
            assertEquals("ingested", next.get(0).stage());
            assertTrue(
                    next.get(0).summary().contains("still there?"), next.get(0).summary());
        } finally {
            stop.set(true);
            follower.join(Duration.ofSeconds(30).toMillis());
        }
        assertEquals(1, next.size(), next.toString());
    }

    private <V> int produce(Topic<Long, V> topic, long chatId, V value, long timestamp) throws Exception {
        ProducerRecord<byte[], byte[]> r = topic.record(chatId, value);
        return producer.send(new ProducerRecord<>(r.topic(), null, timestamp, r.key(), r.value()))
                .get()
                .partition();
    }

    private StoredUpdate update(long updateId, long messageId, String text) {
        return StoredUpdate.of(updateId, CHAT, t0 + (updateId - 10) * 100, message(messageId, text));
    }

    private static JsonNode message(long messageId, String text) {
        return Json.mapper()
                .createObjectNode()
                .set(
                        "message",
                        Json.mapper()
                                .createObjectNode()
                                .put("message_id", messageId)
                                .put("text", text));
    }

    private static byte[] longBytes(long v) {
        return java.nio.ByteBuffer.allocate(8).putLong(v).array();
    }
}

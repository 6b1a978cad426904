package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.chunker.parse.MalformedRecordException;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.serde.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input never stops the chunker: it lands on the dead-letter topic with its reason and origin, and is counted. */
class DeadLetterTopologyTest {
    private static final long GAP = 1500;
    private static final long CHAT = 42;

    @TempDir
    Path stateDir;

    // Unreadable-bytes tests that read the dead-letter topic use ChunkerHarness.startAtLeastOnce: see there why.

    @Test
    void unreadableBytesOnTheUpdatesTopicAreDeadLetteredWithReasonAndOriginAndProcessingContinues() {
        try (ChunkerHarness chunker = ChunkerHarness.startAtLeastOnce(stateDir)) {
            // given a valid message, then bytes that are not JSON, then another valid message
            chunker.text(CHAT, 1001, "before");
            byte[] key = new LongSerializer().serialize("", CHAT);
            byte[] garbage = "{not json at all".getBytes(StandardCharsets.UTF_8);
            chunker.rawUpdates.pipeInput(key, garbage, Instant.ofEpochMilli(chunker.now()));
            chunker.text(CHAT, 1002, "after");
            chunker.advance(GAP);

            // then the unreadable record is on the dead-letter topic, bytes untouched
            TestRecord<byte[], byte[]> dead = chunker.deadLetters.readRecord();
            assertArrayEquals(key, dead.key());
            assertArrayEquals(garbage, dead.value());
            Headers headers = dead.headers();
            String updatesTopic = chunker.topics.updates().name();
            // with the project's headers
            assertTrue(
                    header(headers, DeadLetters.REASON).contains("cannot read StoredUpdate"),
                    header(headers, DeadLetters.REASON));
            assertEquals(updatesTopic, header(headers, DeadLetters.SOURCE_TOPIC));
            assertEquals("0", header(headers, DeadLetters.SOURCE_PARTITION));
            assertEquals("1", header(headers, DeadLetters.SOURCE_OFFSET));
            assertEquals("chunker-streams", header(headers, DeadLetters.SERVICE));
            assertEquals(Long.toString(chunker.deadLetterClockTime.toEpochMilli()), header(headers, DeadLetters.AT));
            // and Kafka Streams' own (KIP-1034) headers
            assertEquals(
                    "org.apache.kafka.common.errors.SerializationException",
                    header(headers, "__streams.errors.exception"));
            assertEquals(updatesTopic, header(headers, "__streams.errors.topic"));
            assertEquals("0", header(headers, "__streams.errors.partition"));
            assertEquals("1", header(headers, "__streams.errors.offset"));
            assertTrue(chunker.deadLetters.isEmpty());

            // and it is counted
            assertEquals(1, chunker.deadLetterCounter.total());
            assertEquals(1, chunker.deadLetterCounter.count(updatesTopic));

            // and the messages around it still make their thought
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            assertEquals("before\nafter", thoughts.get(0).text());
        }
    }

    @Test
    void underExactlyOnceAnUnreadableRecordIsSkippedAndCountedWithoutStoppingItsChat() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            chunker.text(CHAT, 1001, "before");
            chunker.rawUpdates.pipeInput(
                    new LongSerializer().serialize("", CHAT),
                    "\u0000\u0001".getBytes(StandardCharsets.UTF_8),
                    Instant.ofEpochMilli(chunker.now()));
            chunker.text(CHAT, 1002, "after");
            chunker.advance(GAP);

            assertEquals(
                    1, chunker.deadLetterCounter.count(chunker.topics.updates().name()));
            assertEquals(
                    List.of("before\nafter"),
                    chunker.emitted().stream().map(Thought::text).toList());
        }
    }

    @Test
    void anUnreadableKeyIsDeadLettered() {
        try (ChunkerHarness chunker = ChunkerHarness.startAtLeastOnce(stateDir)) {
            byte[] badKey = {1, 2, 3};
            byte[] value = chunker.topics
                    .updates()
                    .valueSerde()
                    .serializer()
                    .serialize("", ChunkerHarness.textUpdate(1, CHAT, 1001, "hi", chunker.now()));
            chunker.rawUpdates.pipeInput(badKey, value, Instant.ofEpochMilli(chunker.now()));

            TestRecord<byte[], byte[]> dead = chunker.deadLetters.readRecord();
            assertArrayEquals(badKey, dead.key());
            assertArrayEquals(value, dead.value());
            assertNotNull(header(dead.headers(), DeadLetters.REASON));
            assertEquals(1, chunker.deadLetterCounter.total());
        }
    }

    @Test
    void aTextMessageWithoutAMessageIdIsDeadLetteredByTheProcessorWithTheOriginalBytes() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a readable update whose text message lacks message_id
            ObjectNode json = ChunkerHarness.textUpdateJson(9, CHAT, 1, "no id", chunker.now());
            ((ObjectNode) json.get("message")).remove("message_id");
            StoredUpdate broken = StoredUpdate.of(9, CHAT, chunker.now(), json);
            byte[] key = new LongSerializer().serialize("", CHAT);
            byte[] value = chunker.topics.updates().valueSerde().serializer().serialize("", broken);
            chunker.rawUpdates.pipeInput(key, value, Instant.ofEpochMilli(chunker.now()));

            // when a valid message follows
            chunker.text(CHAT, 1002, "valid");
            chunker.advance(GAP);

            // then the broken one is dead-lettered as it was read, saying why
            TestRecord<byte[], byte[]> dead = chunker.deadLetters.readRecord();
            assertArrayEquals(key, dead.key());
            assertArrayEquals(value, dead.value());
            assertEquals(
                    "update 9: text message without a numeric message_id", header(dead.headers(), DeadLetters.REASON));
            assertEquals(
                    MalformedRecordException.class.getName(), header(dead.headers(), "__streams.errors.exception"));
            assertEquals("0", header(dead.headers(), DeadLetters.SOURCE_OFFSET));
            assertEquals(1, chunker.deadLetterCounter.total());
            // and the valid one becomes a thought on its own
            assertEquals(
                    List.of("42:1002"),
                    chunker.emitted().stream().map(Thought::thoughtId).toList());
        }
    }

    @Test
    void aMessageWhoseKeyIsNotItsChatIsDeadLetteredRatherThanStoredUnderEitherChat() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            chunker.updates.pipeInput(
                    43L,
                    ChunkerHarness.textUpdate(1, CHAT, 1001, "misrouted", chunker.now()),
                    Instant.ofEpochMilli(chunker.now()));
            chunker.advance(GAP);

            assertTrue(header(chunker.deadLetters.readRecord().headers(), DeadLetters.REASON)
                    .contains("record key 43 is not the message's chat id 42"));
            assertTrue(chunker.thoughts.isEmpty());
            assertEquals(null, chunker.openThoughts().get(CHAT));
            assertEquals(null, chunker.openThoughts().get(43L));
        }
    }

    @Test
    void aRecordWithoutAValueOnTheUpdatesTopicIsDeadLetteredAndCountedAndProcessingContinues() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a record with a key and no value on the updates topic
            byte[] key = new LongSerializer().serialize("", CHAT);
            chunker.rawUpdates.pipeInput(key, null, Instant.ofEpochMilli(chunker.now()));

            // when a valid message follows
            chunker.text(CHAT, 1003, "after the empty record");
            chunker.advance(GAP);

            // then the empty record is dead-lettered, saying why, and counted, and the message becomes a thought
            TestRecord<byte[], byte[]> dead = chunker.deadLetters.readRecord();
            assertArrayEquals(key, dead.key());
            assertEquals("record has no value; an update was expected", header(dead.headers(), DeadLetters.REASON));
            assertEquals(
                    1, chunker.deadLetterCounter.count(chunker.topics.updates().name()));
            assertEquals(
                    List.of("42:1003"),
                    chunker.emitted().stream().map(Thought::thoughtId).toList());
        }
    }

    @Test
    void aRecordWithoutAValueOnTheDeliveredTopicIsDeadLetteredAndCounted() {
        try (ChunkerHarness chunker = ChunkerHarness.startAtLeastOnce(stateDir)) {
            chunker.rawDelivered.pipeInput(
                    new LongSerializer().serialize("", CHAT), null, Instant.ofEpochMilli(chunker.now()));

            TestRecord<byte[], byte[]> dead = chunker.deadLetters.readRecord();
            assertEquals("record has no value; a delivery was expected", header(dead.headers(), DeadLetters.REASON));
            assertEquals(
                    1,
                    chunker.deadLetterCounter.count(chunker.topics.delivered().name()));
        }
    }

    @Test
    void unreadableBytesOnTheDeliveredTopicAreDeadLetteredAndCountedUnderThatTopic() {
        try (ChunkerHarness chunker = ChunkerHarness.startAtLeastOnce(stateDir)) {
            chunker.rawDelivered.pipeInput(
                    new LongSerializer().serialize("", CHAT),
                    "[]".getBytes(StandardCharsets.UTF_8),
                    Instant.ofEpochMilli(chunker.now()));

            TestRecord<byte[], byte[]> dead = chunker.deadLetters.readRecord();
            String deliveredTopic = chunker.topics.delivered().name();
            assertEquals(deliveredTopic, header(dead.headers(), DeadLetters.SOURCE_TOPIC));
            assertTrue(header(dead.headers(), DeadLetters.REASON).contains("cannot read Delivery"));
            assertEquals(1, chunker.deadLetterCounter.count(deliveredTopic));
        }
    }

    @Test
    void updatesTheChunkerDoesNotActOnAreSkippedNotDeadLettered() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a button press, a member joining, and a live location moving (an edit without words)
            ObjectNode button = Json.mapper().createObjectNode().put("update_id", 3);
            button.putObject("callback_query").put("id", "cb1").put("data", "yes");
            ObjectNode joined = ChunkerHarness.textUpdateJson(4, CHAT, 1002, "x", chunker.now());
            ((ObjectNode) joined.get("message")).remove("text");
            ((ObjectNode) joined.get("message"))
                    .putArray("new_chat_members")
                    .addObject()
                    .put("id", 5);
            ObjectNode moved = Json.mapper().createObjectNode().put("update_id", 5);
            ObjectNode location = (ObjectNode) ChunkerHarness.textUpdateJson(5, CHAT, 1001, "x", chunker.now())
                    .get("message");
            location.remove("text");
            location.put("edit_date", chunker.now() / 1000);
            location.putObject("location").put("latitude", 52.5).put("longitude", 13.4);
            moved.set("edited_message", location);

            chunker.update(CHAT, button);
            chunker.update(CHAT, joined);
            chunker.update(CHAT, moved);
            chunker.advance(GAP);

            // then nothing is emitted or answered, nothing is dead-lettered, nothing stays open
            assertTrue(chunker.thoughts.isEmpty());
            assertTrue(chunker.replies.isEmpty());
            assertTrue(chunker.deadLetters.isEmpty());
            assertEquals(0, chunker.deadLetterCounter.total());
            assertEquals(null, chunker.openThoughts().get(CHAT));
        }
    }

    @Test
    void anEditWithoutAnEditDateIsDeadLetteredAndChangesNothing() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given an open thought
            chunker.text(CHAT, 1001, "original");

            // when an edit of its message arrives without edit_date
            ObjectNode edit = Json.mapper().createObjectNode().put("update_id", 77);
            edit.set(
                    "edited_message",
                    ChunkerHarness.textUpdateJson(77, CHAT, 1001, "changed", chunker.now())
                            .get("message"));
            chunker.update(CHAT, edit);
            chunker.advance(GAP);

            // then it is dead-lettered with the reason, and the thought keeps its text
            assertEquals(
                    "update 2: edited message without a numeric edit_date",
                    header(chunker.deadLetters.readRecord().headers(), DeadLetters.REASON));
            assertEquals(
                    List.of("original"),
                    chunker.emitted().stream().map(Thought::text).toList());
        }
    }

    private static String header(Headers headers, String name) {
        return DeadLetters.header(headers, name);
    }
}

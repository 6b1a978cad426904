package dev.thoughtstream.common.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class JsonSerdeTest {

    @Test
    void everyEventRoundTrips() throws Exception {
        var update = StoredUpdate.of(
                7,
                42,
                1000,
                Json.mapper()
                        .readTree(
                                "{\"update_id\":7,\"message\":{\"message_id\":3,\"chat\":{\"id\":42},\"text\":\"hi\"}}"));
        var thought = new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(42, 3),
                42,
                List.of(new ThoughtMessage(3, "hi", 1000), new ThoughtMessage(4, "there", 1200)),
                3,
                4,
                1000,
                2700,
                List.of(new ContextMessage(ContextMessage.Role.ASSISTANT, "hello", 900)));
        var part = new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                ReplyPart.replyIdFor(thought.thoughtId()),
                thought.thoughtId(),
                42,
                4,
                0,
                false,
                "Hi!",
                2800);
        var delivery = Delivery.sent(part, 99, 2900);

        assertEquals(update, roundTrip(update, StoredUpdate.class));
        assertEquals(thought, roundTrip(thought, Thought.class));
        assertEquals(part, roundTrip(part, ReplyPart.class));
        assertEquals(delivery, roundTrip(delivery, Delivery.class));
    }

    @Test
    void derivedValuesAreNotWrittenButTheSchemaVersionIs() throws Exception {
        var thought = new Thought(1, "42:3", 42, List.of(new ThoughtMessage(3, "hi", 1)), 3, 3, 1, 2, List.of());

        var tree = Json.mapper().readTree(new JsonSerde<>(Thought.class).serialize("t", thought));

        assertEquals(1, tree.get("schemaVersion").asInt());
        assertFalse(tree.has("text"), "text() is derived, not a field: " + tree);
    }

    @Test
    void nullPassesThroughBothWays() {
        var serde = new JsonSerde<>(ReplyPart.class);

        assertNull(serde.serialize("t", null));
        assertNull(serde.deserialize("t", null));
    }

    @Test
    void unreadableBytesRaiseSerializationExceptionNamingTopicAndType() {
        var serde = new JsonSerde<>(Thought.class);

        SerializationException e = assertThrows(
                SerializationException.class,
                () -> serde.deserialize("chat.thoughts", "{not json".getBytes(StandardCharsets.UTF_8)));

        assertTrue(e.getMessage().contains("chat.thoughts") && e.getMessage().contains("Thought"), e.getMessage());
    }

    @Test
    void aRecordThatBreaksAnInvariantIsABadRecordNotACrash() {
        var serde = new JsonSerde<>(Thought.class);
        byte[] noMessages =
                "{\"schemaVersion\":1,\"thoughtId\":\"1:1\",\"chatId\":1,\"messages\":[],\"firstMessageId\":1,\"lastMessageId\":1,\"openedAtMs\":1,\"closedAtMs\":1}"
                        .getBytes(StandardCharsets.UTF_8);

        assertThrows(SerializationException.class, () -> serde.deserialize("t", noMessages));
    }

    @Test
    void aMissingNumberIsRejectedRatherThanReadAsZero() {
        var serde = new JsonSerde<>(ReplyPart.class);
        byte[] noChat =
                "{\"schemaVersion\":1,\"replyId\":\"r\",\"thoughtId\":\"t\",\"seq\":0,\"last\":true,\"text\":\"x\",\"lastMessageId\":1,\"createdAtMs\":1,\"chatId\":null}"
                        .getBytes(StandardCharsets.UTF_8);

        assertThrows(SerializationException.class, () -> serde.deserialize("t", noChat));
    }

    @Test
    void jsonNullIsABadRecord() {
        assertThrows(
                SerializationException.class,
                () -> new JsonSerde<>(Delivery.class).deserialize("t", "null".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void unknownFieldsFromNewerWritersAreIgnored() {
        byte[] newer =
                "{\"schemaVersion\":2,\"replyId\":\"r\",\"thoughtId\":\"t\",\"chatId\":5,\"lastMessageId\":1,\"seq\":0,\"last\":true,\"text\":\"x\",\"createdAtMs\":1,\"mood\":\"happy\"}"
                        .getBytes(StandardCharsets.UTF_8);

        ReplyPart part = new JsonSerde<>(ReplyPart.class).deserialize("t", newer);

        assertEquals(2, part.schemaVersion());
        assertEquals(5, part.chatId());
    }

    @Test
    void aThoughtMessagesOptionalFieldsRoundTripAndAreLeftOutWhenAbsent() throws Exception {
        var serde = new JsonSerde<>(ThoughtMessage.class);
        var captioned = new ThoughtMessage(5, "look at this", 1000, "photo", 2000L);
        var plain = new ThoughtMessage(6, "hi", 3000);

        assertEquals(captioned, serde.deserialize("t", serde.serialize("t", captioned)));
        assertEquals(plain, serde.deserialize("t", serde.serialize("t", plain)));
        var tree = Json.mapper().readTree(serde.serialize("t", plain));
        assertFalse(tree.has("attachment") || tree.has("editedAtMs"), tree.toString());
        // and a message written before the fields existed reads as plain
        assertEquals(
                plain,
                serde.deserialize(
                        "t", "{\"messageId\":6,\"text\":\"hi\",\"sentAtMs\":3000}".getBytes(StandardCharsets.UTF_8)));
    }

    private static <T> T roundTrip(T value, Class<T> type) {
        var serde = new JsonSerde<>(type);
        return serde.deserialize("t", serde.serialize("t", value));
    }
}

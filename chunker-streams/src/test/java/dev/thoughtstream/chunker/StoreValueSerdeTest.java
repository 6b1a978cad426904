package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.thought.BufferedMessage;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.serde.JsonSerde;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The store values are persisted (RocksDB and changelog topics): their JSON holds their fields and nothing else. */
class StoreValueSerdeTest {

    @Test
    void anOpenThoughtRoundTripsAndStoresOnlyItsComponents() throws Exception {
        OpenThought open = new OpenThought(
                -5,
                List.of(
                        new BufferedMessage(1, "hi", 1000, 1200, 7L, "Ada", null, null),
                        new BufferedMessage(2, "look", 2000, 2100, 8L, "Bo", "photo", 2500L)),
                1200,
                3600,
                "-5:1");
        JsonSerde<OpenThought> serde = new JsonSerde<>(OpenThought.class);

        byte[] bytes = serde.serialize("t", open);

        assertEquals(open, serde.deserialize("t", bytes));
        JsonNode tree = Json.mapper().readTree(bytes);
        assertEquals(
                Set.of("chatId", "messages", "openedAtMs", "deadlineMs", "thoughtId", "replayed"), fieldNames(tree));
        // an open thought stored before the reprocess fence existed has no "replayed": it is an ordinary one
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree).remove("replayed");
        assertEquals(open, serde.deserialize("t", Json.mapper().writeValueAsBytes(tree)));
        assertEquals(
                Set.of(
                        "messageId",
                        "text",
                        "sentAtMs",
                        "receivedAtMs",
                        "fromId",
                        "fromFirstName",
                        "attachment",
                        "editedAtMs"),
                fieldNames(tree.get("messages").get(1)));
    }

    @Test
    void anOpenThoughtStoredBeforeThoughtIdsAndEditsExistedReadsWithItsPlainId() {
        byte[] older = ("{\"chatId\":-5,\"messages\":[{\"messageId\":3,\"text\":\"hi\",\"sentAtMs\":1000,"
                        + "\"receivedAtMs\":1200}],\"openedAtMs\":1200,\"deadlineMs\":2700}")
                .getBytes(StandardCharsets.UTF_8);

        OpenThought open = new JsonSerde<>(OpenThought.class).deserialize("t", older);

        assertEquals("-5:3", open.thoughtId());
        assertEquals(
                new BufferedMessage(3, "hi", 1000, 1200, null, null, null, null),
                open.messages().get(0));
    }

    @Test
    void aChatContextRoundTripsAndStoresOnlyItsComponents() throws Exception {
        ChatContext context = new ChatContext(
                List.of(
                        new ContextMessage(ContextMessage.Role.USER, "hi", 1000),
                        new ContextMessage(ContextMessage.Role.ASSISTANT, "hello", 2000)),
                17,
                2500,
                9000);
        JsonSerde<ChatContext> serde = new JsonSerde<>(ChatContext.class);

        byte[] bytes = serde.serialize("t", context);

        assertEquals(context, serde.deserialize("t", bytes));
        assertEquals(
                Set.of("messages", "lastUserMessageId", "touchedAtMs", "pruneAtMs"),
                fieldNames(Json.mapper().readTree(bytes)));
    }

    @Test
    void aChatContextStoredBeforeTheIdleBookkeepingExistedReadsAsNeverTouchedAndNotIndexed() {
        byte[] stored = "{\"messages\":[{\"role\":\"USER\",\"text\":\"hi\",\"atMs\":1000}],\"lastUserMessageId\":17}"
                .getBytes(StandardCharsets.UTF_8);

        ChatContext context = new JsonSerde<>(ChatContext.class).deserialize("t", stored);

        assertEquals(
                new ChatContext(List.of(new ContextMessage(ContextMessage.Role.USER, "hi", 1000)), 17, 0, 0), context);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

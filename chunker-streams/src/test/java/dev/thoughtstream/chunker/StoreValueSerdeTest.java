package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
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
        OpenThought open = new OpenThought(-5, List.of(
                new BufferedMessage(1, "hi", 1000, 1200, 7L, "Ada"),
                new BufferedMessage(2, "there", 2000, 2100, null, null)), 1200, 3600);
        JsonSerde<OpenThought> serde = new JsonSerde<>(OpenThought.class);

        byte[] bytes = serde.serialize("t", open);

        assertEquals(open, serde.deserialize("t", bytes));
        assertEquals(Set.of("chatId", "messages", "openedAtMs", "deadlineMs"), fieldNames(Json.mapper().readTree(bytes)));
    }

    @Test
    void aChatContextRoundTripsAndStoresOnlyItsComponents() throws Exception {
        ChatContext context = new ChatContext(List.of(
                new ContextMessage(ContextMessage.Role.USER, "hi", 1000),
                new ContextMessage(ContextMessage.Role.ASSISTANT, "hello", 2000)), 17, 2500, 9000);
        JsonSerde<ChatContext> serde = new JsonSerde<>(ChatContext.class);

        byte[] bytes = serde.serialize("t", context);

        assertEquals(context, serde.deserialize("t", bytes));
        assertEquals(Set.of("messages", "lastUserMessageId", "touchedAtMs", "pruneAtMs"),
                fieldNames(Json.mapper().readTree(bytes)));
    }

    @Test
    void aChatContextStoredBeforeTheIdleBookkeepingExistedReadsAsNeverTouchedAndNotIndexed() {
        byte[] stored = "{\"messages\":[{\"role\":\"USER\",\"text\":\"hi\",\"atMs\":1000}],\"lastUserMessageId\":17}"
                .getBytes(StandardCharsets.UTF_8);

        ChatContext context = new JsonSerde<>(ChatContext.class).deserialize("t", stored);

        assertEquals(new ChatContext(List.of(new ContextMessage(ContextMessage.Role.USER, "hi", 1000)), 17, 0, 0),
                context);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

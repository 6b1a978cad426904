package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/** Where a raw Telegram update belongs: its chat. */
public final class UpdateRecords {
    /** Compiled once: {@link JsonNode#at(String)} would parse each path again for every update (twice per update). */
    private static final List<JsonPointer> CHAT_ID_PATHS = List.of(
            JsonPointer.compile("/chat/id"),
            JsonPointer.compile("/message/chat/id"),
            JsonPointer.compile("/from/id"),
            JsonPointer.compile("/user/id"));

    private UpdateRecords() {}

    /**
     * The chat id of an update, found the way Telegram nests it: {@code <kind>.chat.id} (messages, edits,
     * channel posts, member changes, reactions), {@code <kind>.message.chat.id} (callback queries), else the
     * sender ({@code <kind>.from.id} / {@code <kind>.user.id}, e.g. inline queries, which have no chat).
     * Returns 0 when the update names none; such updates still go to Kafka (key 0) so nothing is lost.
     */
    public static long chatIdOf(JsonNode update) {
        for (Map.Entry<String, JsonNode> field : update.properties()) {
            JsonNode body = field.getValue();
            if (field.getKey().equals("update_id") || !body.isObject()) {
                continue;
            }
            for (JsonPointer path : CHAT_ID_PATHS) {
                JsonNode id = body.at(path);
                if (id.canConvertToLong()) {
                    return id.asLong();
                }
            }
        }
        return 0L;
    }
}

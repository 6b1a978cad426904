package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** Where a raw Telegram update belongs: its chat. */
public final class UpdateRecords {
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
            for (String path : new String[] {"/chat/id", "/message/chat/id", "/from/id", "/user/id"}) {
                JsonNode id = body.at(path);
                if (id.canConvertToLong()) {
                    return id.asLong();
                }
            }
        }
        return 0L;
    }
}

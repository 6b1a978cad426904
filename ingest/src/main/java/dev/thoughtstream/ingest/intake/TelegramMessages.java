package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

/** Where things sit in a raw Telegram update (the Bot API's JSON field names). */
final class TelegramMessages {
    private TelegramMessages() {}

    /** The person's message of a {@code message} or {@code edited_message} update; missing for other kinds. */
    static JsonNode messageOf(JsonNode update) {
        JsonNode m = update.path("message");
        if (m.isObject()) {
            return m;
        }
        m = update.path("edited_message");
        return m.isObject() ? m : MissingNode.getInstance();
    }

    /** The user an update comes from ({@code <kind>.from.id}), 0 when it names none (e.g. channel posts). */
    static long senderOf(JsonNode update) {
        for (var field : update.properties()) {
            JsonNode id = field.getValue().path("from").path("id");
            if (id.canConvertToLong()) {
                return id.asLong();
            }
        }
        return 0L;
    }

    static boolean isGroup(JsonNode message) {
        String type = message.path("chat").path("type").asText("");
        return type.equals("group") || type.equals("supergroup");
    }

    /** The message's text, or its caption for media; "" when it has neither. */
    static String textOf(JsonNode message) {
        if (message.path("text").isTextual()) {
            return message.path("text").asText();
        }
        return message.path("caption").asText("");
    }

    /** The entities of {@link #textOf}: {@code entities} for a text, {@code caption_entities} for a caption. */
    static JsonNode entitiesOf(JsonNode message) {
        return message.path("text").isTextual() ? message.path("entities") : message.path("caption_entities");
    }
}

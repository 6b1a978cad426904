package dev.thoughtstream.chunker;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;

/**
 * Reads the parts of a raw Telegram {@code Update} the chunker needs. Total: every input yields a result and
 * nothing throws, because an exception here would stop the partition.
 */
public final class UpdateParser {
    /** Content fields of a Telegram Message, in the order they are reported when a message has no text. */
    private static final List<String> CONTENT_KINDS = List.of(
            "photo", "sticker", "animation", "video", "video_note", "voice", "audio", "document", "contact",
            "location", "venue", "poll", "dice", "game", "story", "new_chat_members", "left_chat_member",
            "pinned_message");

    private UpdateParser() {}

    public static ParsedUpdate parse(JsonNode update) {
        if (update == null || !update.isObject()) {
            return new ParsedUpdate.Malformed("update is not a JSON object");
        }
        JsonNode message = update.get("message");
        if (message == null || message.isNull()) {
            return new ParsedUpdate.Ignored(updateKind(update));
        }
        if (!message.isObject()) {
            return new ParsedUpdate.Malformed("update.message is not a JSON object");
        }
        JsonNode text = message.get("text");
        if (text == null || text.isNull()) {
            return new ParsedUpdate.Ignored("message without text (" + contentKind(message) + ")");
        }
        if (!text.isTextual()) {
            return new ParsedUpdate.Malformed("message.text is not a string");
        }
        JsonNode messageId = message.get("message_id");
        if (!isWholeNumber(messageId)) {
            return new ParsedUpdate.Malformed("text message without a numeric message_id");
        }
        JsonNode date = message.get("date");
        if (!isWholeNumber(date)) {
            return new ParsedUpdate.Malformed("text message without a numeric date");
        }
        JsonNode chat = message.get("chat");
        JsonNode chatId = chat == null ? null : chat.get("id");
        if (!isWholeNumber(chatId)) {
            return new ParsedUpdate.Malformed("text message without a numeric chat.id");
        }
        JsonNode from = message.get("from");
        Long fromId = null;
        String fromFirstName = null;
        if (from != null && from.isObject()) {
            JsonNode id = from.get("id");
            fromId = isWholeNumber(id) ? id.longValue() : null;
            JsonNode firstName = from.get("first_name");
            fromFirstName = firstName != null && firstName.isTextual() ? firstName.textValue() : null;
        }
        return new ParsedUpdate.TextMessage(chatId.longValue(), messageId.longValue(), text.textValue(),
                date.longValue() * 1000L, fromId, fromFirstName);
    }

    private static boolean isWholeNumber(JsonNode node) {
        return node != null && node.isIntegralNumber() && node.canConvertToLong();
    }

    private static String updateKind(JsonNode update) {
        Iterator<String> names = update.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!name.equals("update_id")) {
                return name;
            }
        }
        return "empty update";
    }

    private static String contentKind(JsonNode message) {
        for (String kind : CONTENT_KINDS) {
            if (message.has(kind)) {
                return kind;
            }
        }
        return "no known content";
    }
}

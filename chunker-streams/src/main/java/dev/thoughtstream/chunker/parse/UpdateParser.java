package dev.thoughtstream.chunker.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;

/**
 * Reads the parts of a raw Telegram {@code Update} the chunker needs. Total: every input yields a result and
 * nothing throws, because an exception here would stop the partition.
 *
 * <ul>
 *   <li>{@code message} with {@code text} → {@link ParsedUpdate.TextMessage}.</li>
 *   <li>{@code message} with a {@code caption} (photo, video, document, audio, voice, animation, ...) → a
 *       {@link ParsedUpdate.TextMessage} whose text is the caption and whose {@code attachment} names the
 *       content.</li>
 *   <li>{@code message} with content a person sent but no words (sticker, voice, photo without caption,
 *       location, contact, ...) → {@link ParsedUpdate.NonTextMessage}.</li>
 *   <li>{@code edited_message} with text or caption → a {@link ParsedUpdate.TextMessage} with {@code editedAtMs}.
 *       An edit without words is ignored: a live location, for one, arrives as a stream of such edits, and each
 *       must not earn a reply.</li>
 *   <li>Service messages (members joining, pins, title changes, ...) and every other update kind → ignored.</li>
 * </ul>
 */
public final class UpdateParser {
    /**
     * Content a person sends, in the order it is reported. Anything else in a message without text is a service
     * message (members joining, a pin, ...), which nobody expects the bot to answer.
     */
    static final List<String> USER_CONTENT = List.of(
            "photo",
            "video",
            "animation",
            "document",
            "audio",
            "voice",
            "video_note",
            "sticker",
            "paid_media",
            "location",
            "venue",
            "contact",
            "poll",
            "dice",
            "game",
            "story",
            "checklist",
            "invoice");

    private static final List<String> SERVICE_CONTENT = List.of(
            "new_chat_members",
            "left_chat_member",
            "new_chat_title",
            "new_chat_photo",
            "delete_chat_photo",
            "group_chat_created",
            "supergroup_chat_created",
            "channel_chat_created",
            "pinned_message",
            "migrate_to_chat_id",
            "migrate_from_chat_id",
            "message_auto_delete_timer_changed");

    private UpdateParser() {}

    public static ParsedUpdate parse(JsonNode update) {
        if (update == null || !update.isObject()) {
            return new ParsedUpdate.Malformed("update is not a JSON object");
        }
        JsonNode message = update.get("message");
        boolean edit = false;
        if (message == null || message.isNull()) {
            message = update.get("edited_message");
            edit = true;
        }
        if (message == null || message.isNull()) {
            return new ParsedUpdate.Ignored(updateKind(update));
        }
        String field = edit ? "edited_message" : "message";
        if (!message.isObject()) {
            return new ParsedUpdate.Malformed("update." + field + " is not a JSON object");
        }
        String what = edit ? "edited message" : "message";
        JsonNode text = message.get("text");
        String attachment = null;
        if (text == null || text.isNull()) {
            String kind = contentKind(message);
            JsonNode caption = message.get("caption");
            if (caption != null && !caption.isNull() && kind != null) {
                text = caption;
                attachment = kind;
            } else if (edit) {
                return new ParsedUpdate.Ignored("edited message without text (" + describe(kind, message) + ")");
            } else if (kind == null) {
                return new ParsedUpdate.Ignored("message without text (" + describe(null, message) + ")");
            } else {
                return nonText(message, kind);
            }
        }
        if (!text.isTextual()) {
            return new ParsedUpdate.Malformed(
                    what + "." + (attachment == null ? "text" : "caption") + " is not a string");
        }
        JsonNode messageId = message.get("message_id");
        if (!isWholeNumber(messageId)) {
            return new ParsedUpdate.Malformed("text " + what + " without a numeric message_id");
        }
        JsonNode date = message.get("date");
        if (!isWholeNumber(date)) {
            return new ParsedUpdate.Malformed("text " + what + " without a numeric date");
        }
        JsonNode chatId = chatIdOf(message);
        if (!isWholeNumber(chatId)) {
            return new ParsedUpdate.Malformed("text " + what + " without a numeric chat.id");
        }
        Long editedAtMs = null;
        if (edit) {
            JsonNode editDate = message.get("edit_date");
            if (!isWholeNumber(editDate)) {
                return new ParsedUpdate.Malformed("edited message without a numeric edit_date");
            }
            editedAtMs = editDate.longValue() * 1000L;
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
        return new ParsedUpdate.TextMessage(
                chatId.longValue(),
                messageId.longValue(),
                text.textValue(),
                date.longValue() * 1000L,
                fromId,
                fromFirstName,
                attachment,
                editedAtMs,
                mediaGroupId(message));
    }

    private static ParsedUpdate nonText(JsonNode message, String kind) {
        JsonNode messageId = message.get("message_id");
        if (!isWholeNumber(messageId)) {
            return new ParsedUpdate.Malformed(kind + " message without a numeric message_id");
        }
        JsonNode chatId = chatIdOf(message);
        if (!isWholeNumber(chatId)) {
            return new ParsedUpdate.Malformed(kind + " message without a numeric chat.id");
        }
        return new ParsedUpdate.NonTextMessage(chatId.longValue(), messageId.longValue(), kind, mediaGroupId(message));
    }

    private static JsonNode chatIdOf(JsonNode message) {
        JsonNode chat = message.get("chat");
        return chat == null ? null : chat.get("id");
    }

    private static String mediaGroupId(JsonNode message) {
        JsonNode group = message.get("media_group_id");
        return group != null && group.isTextual() && !group.textValue().isEmpty() ? group.textValue() : null;
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

    /** The content a person sent, or null when the message has none of it (a service message, or unknown). */
    private static String contentKind(JsonNode message) {
        for (String kind : USER_CONTENT) {
            if (message.has(kind)) {
                return kind;
            }
        }
        return null;
    }

    private static String describe(String kind, JsonNode message) {
        if (kind != null) {
            return kind;
        }
        for (String service : SERVICE_CONTENT) {
            if (message.has(service)) {
                return service;
            }
        }
        return "no known content";
    }
}

package dev.thoughtstream.ingest.intake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * The message size cap. A text (or caption) longer than the cap is cut to it and a visible marker is appended, so
 * the model, the context and anyone replaying the topic see that something was left out; the rest of the update is
 * kept as received. Entities past the cut are dropped and one crossing it is shortened. Lengths are in UTF-16
 * code units, as Telegram counts them; a cut never splits a surrogate pair.
 */
final class MessageSizeCap {
    static final String MARKER = "\n[… cut by the bot: the first %d of %d characters were kept]";

    private final int maxChars;

    MessageSizeCap(int maxChars) {
        this.maxChars = maxChars;
    }

    /** The update with its message's text or caption cut, or empty when it is within the cap (or has none). */
    Optional<JsonNode> cut(JsonNode update) {
        String kind = update.path("message").isObject()
                ? "message"
                : update.path("edited_message").isObject() ? "edited_message" : null;
        if (kind == null) {
            return Optional.empty();
        }
        JsonNode message = update.path(kind);
        String field = message.path("text").isTextual()
                ? "text"
                : message.path("caption").isTextual() ? "caption" : null;
        if (field == null) {
            return Optional.empty();
        }
        String text = message.path(field).asText();
        if (text.length() <= maxChars) {
            return Optional.empty();
        }
        int keep = maxChars;
        if (Character.isHighSurrogate(text.charAt(keep - 1))) {
            keep--;
        }
        ObjectNode copy = update.deepCopy();
        ObjectNode cutMessage = (ObjectNode) copy.path(kind);
        cutMessage.put(field, text.substring(0, keep) + String.format(MARKER, keep, text.length()));
        String entitiesField = field.equals("text") ? "entities" : "caption_entities";
        if (cutMessage.path(entitiesField).isArray()) {
            ArrayNode kept = cutMessage.arrayNode();
            for (JsonNode entity : cutMessage.path(entitiesField)) {
                int offset = entity.path("offset").asInt();
                int length = entity.path("length").asInt();
                if (offset >= keep) {
                    continue;
                }
                ObjectNode e = entity.deepCopy();
                if (offset + length > keep) {
                    e.put("length", keep - offset);
                }
                kept.add(e);
            }
            cutMessage.set(entitiesField, kept);
        }
        return Optional.of(copy);
    }

    int maxChars() {
        return maxChars;
    }
}

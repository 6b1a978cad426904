package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;

/**
 * Bot API parameters, however they arrived (JSON body, form or query string; so numbers may be text and
 * objects may be JSON text). Invalid values fail with Telegram's 400 answers.
 */
final class Params {
    private final ObjectNode node;

    Params(ObjectNode node) {
        this.node = node;
    }

    ObjectNode node() {
        return node;
    }

    String string(String name) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }

    /** chat_id as Telegram reads it: a number or numeric text; "@channel" names are not known here. */
    long chatId() {
        String value = string("chat_id");
        if (value == null || value.isBlank()) {
            throw BotApiError.badRequest("chat_id is empty");
        }
        Long id = parseLong(value);
        if (id == null) {
            throw BotApiError.badRequest("chat not found");
        }
        return id;
    }

    /** The call's chat when it has a numeric one, for matching faults and limits; never fails. */
    Long chatIdOrNull() {
        String value = string("chat_id");
        return value == null ? null : parseLong(value);
    }

    Long longValue(String name) {
        String value = string(name);
        if (value == null || value.isBlank()) {
            return null;
        }
        Long parsed = parseLong(value);
        if (parsed == null) {
            throw BotApiError.badRequest("wrong parameter " + name + " in request");
        }
        return parsed;
    }

    Integer integer(String name) {
        Long value = longValue(name);
        if (value == null) {
            return null;
        }
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw BotApiError.badRequest("wrong parameter " + name + " in request");
        }
        return value.intValue();
    }

    boolean bool(String name) {
        String value = string(name);
        return "true".equalsIgnoreCase(value) || "1".equals(value);
    }

    /** An object or array parameter; form and query callers send those as JSON text. */
    JsonNode json(String name) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            try {
                return Json.mapper().readTree(value.asText());
            } catch (JsonProcessingException e) {
                throw BotApiError.badRequest("can't parse " + name + " JSON object");
            }
        }
        return value;
    }

    private static Long parseLong(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}

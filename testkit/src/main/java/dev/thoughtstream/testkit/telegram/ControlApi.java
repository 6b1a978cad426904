package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The people's side over HTTP ({@code /emulator/...}) and the web chat page ({@code /}, its icon at
 * {@code /favicon.svg} and {@code /favicon.ico}). Mirrors the Java API of
 * {@link TelegramEmulator}. Bad requests get 400 (unknown things 404) with {@code {"ok":false,"error":...}};
 * nothing a client sends produces a 500 with a stack trace.
 */
final class ControlApi implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ControlApi.class);
    static final String PAGE_RESOURCE = "/dev/thoughtstream/testkit/telegram/chat.html";
    static final String ICON_RESOURCE = "/dev/thoughtstream/testkit/telegram/favicon.svg";

    private final TelegramEmulator emulator;
    private final byte[] page;
    private final byte[] icon;

    /** A control request that cannot be served, with the status to answer. */
    private static final class ControlError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        ControlError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    ControlApi(TelegramEmulator emulator) {
        this.emulator = emulator;
        this.page = load(PAGE_RESOURCE);
        this.icon = load(ICON_RESOURCE);
    }

    private static byte[] load(String resource) {
        try (InputStream in = ControlApi.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("web chat resource " + resource + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read web chat resource " + resource, e);
        }
    }

    @Override
    public void handle(HttpExchange exchange) {
        String verb = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        try {
            if (path.equals("/") || path.equals("/index.html")) {
                requireVerb(verb, "GET", path);
                HttpIo.send(exchange, 200, "text/html; charset=utf-8", page);
                return;
            }
            if (path.equals("/favicon.svg") || path.equals("/favicon.ico")) {
                // The page links the SVG; /favicon.ico is what browsers ask for on their own. Browsers take an
                // icon by its content type, whatever the name.
                requireVerb(verb, "GET", path);
                HttpIo.send(exchange, 200, "image/svg+xml", icon);
                return;
            }
            if (!path.startsWith("/emulator/")) {
                throw new ControlError(404, "no such resource: " + path);
            }
            Object result =
                    route(exchange, verb, path.substring("/emulator/".length()).split("/"));
            if (result instanceof List<?> && path.endsWith("/transcript")) {
                // The page computes "typing..." age against the emulator's clock, not the browser's.
                exchange.getResponseHeaders().set("X-Emulator-Now", Long.toString(emulator.now()));
            }
            HttpIo.sendJson(exchange, 200, result);
        } catch (ControlError e) {
            answerError(exchange, e.status, e.getMessage());
        } catch (NoSuchElementException e) {
            answerError(exchange, 404, e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException e) {
            answerError(exchange, 400, e.getMessage());
        } catch (IOException e) {
            LOG.debug("Could not answer control request {} {}: {}", verb, path, e.toString());
        } catch (RuntimeException e) {
            LOG.error("Control request {} {} failed unexpectedly", verb, path, e);
            answerError(exchange, 500, "internal error: " + e.getClass().getSimpleName());
        } finally {
            exchange.close();
        }
    }

    private static void answerError(HttpExchange exchange, int status, String message) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("ok", false);
        body.put("error", message == null ? "bad request" : message);
        try {
            HttpIo.sendJson(exchange, status, body);
        } catch (IOException e) {
            LOG.debug("Could not send control error {}: {}", status, e.toString());
        }
    }

    private Object route(HttpExchange exchange, String verb, String[] s) throws IOException {
        String joined = String.join("/", s);
        Map<String, String> query = HttpIo.parseForm(exchange.getRequestURI().getRawQuery());
        if (s.length == 1 && s[0].equals("chats")) {
            requireVerb(verb, "GET", joined);
            return emulator.chats();
        }
        if (s.length >= 3 && s[0].equals("chats")) {
            long chatId = parseLong(s[1], "chat id");
            if (s.length == 3 && s[2].equals("messages")) {
                requireVerb(verb, "POST", joined);
                return emulator.injectMessage(incomingMessage(chatId, readObject(exchange)));
            }
            if (s.length == 5 && s[2].equals("messages") && s[4].equals("edit")) {
                requireVerb(verb, "POST", joined);
                int messageId = parseInt(s[3], "message id");
                JsonNode body = readObject(exchange);
                return emulator.editMessage(chatId, messageId, requiredText(body, "text"));
            }
            if (s.length == 3 && s[2].equals("transcript")) {
                requireVerb(verb, "GET", joined);
                String since = query.get("since");
                return emulator.transcript(chatId, since == null ? 0 : parseInt(since, "since"));
            }
            if (s.length == 3 && (s[2].equals("block") || s[2].equals("unblock"))) {
                requireVerb(verb, "POST", joined);
                if (s[2].equals("block")) {
                    emulator.block(chatId);
                } else {
                    emulator.unblock(chatId);
                }
                return ok();
            }
        }
        if (s.length == 1 && s[0].equals("faults")) {
            switch (verb) {
                case "GET":
                    return emulator.faults();
                case "DELETE":
                    emulator.clearFaults();
                    return ok();
                case "POST":
                    addFault(readObject(exchange));
                    return ok();
                default:
                    throw new ControlError(405, "use GET, POST or DELETE for /emulator/faults");
            }
        }
        if (s.length == 1 && s[0].equals("limits")) {
            if (verb.equals("DELETE")) {
                emulator.disableLimits();
                return ok();
            }
            requireVerb(verb, "POST", joined);
            JsonNode body = readObject(exchange);
            Long perChat = optionalLong(body, "perChatPerSecond");
            Long perGroup = optionalLong(body, "perGroupPerMinute");
            Long global = optionalLong(body, "globalPerSecond");
            emulator.enforceLimits(
                    perChat == null ? 0 : toInt(perChat, "perChatPerSecond"),
                    perGroup == null ? 0 : toInt(perGroup, "perGroupPerMinute"),
                    global == null ? 0 : toInt(global, "globalPerSecond"));
            return ok();
        }
        if (s.length == 1 && s[0].equals("calls")) {
            requireVerb(verb, "GET", joined);
            return emulator.calls(query.get("method"));
        }
        if (s.length == 1 && s[0].equals("state")) {
            requireVerb(verb, "GET", joined);
            ObjectNode state = Json.mapper().createObjectNode();
            state.put("pendingUpdates", emulator.pendingUpdates());
            state.put("confirmedOffset", emulator.confirmedOffset());
            state.put("activePolls", emulator.activePolls());
            state.put("nextUpdateId", emulator.nextUpdateId());
            state.set("webhook", Json.mapper().valueToTree(emulator.webhook()));
            state.set("bot", Json.mapper().valueToTree(emulator.bot()));
            return state;
        }
        if (s.length == 2 && s[0].equals("updates") && s[1].equals("restart-ids")) {
            requireVerb(verb, "POST", joined);
            Long next = optionalLong(readObject(exchange), "next");
            if (next == null) {
                throw new ControlError(400, "field 'next' is required");
            }
            try {
                emulator.restartUpdateIds(next);
            } catch (IllegalArgumentException e) {
                throw new ControlError(400, e.getMessage());
            } catch (IllegalStateException e) {
                throw new ControlError(409, e.getMessage());
            }
            return ok();
        }
        if (s.length == 1 && s[0].equals("reset")) {
            requireVerb(verb, "POST", joined);
            emulator.reset();
            return ok();
        }
        throw new ControlError(404, "no such resource: /emulator/" + joined);
    }

    /**
     * {@code {"method":"sendMessage","status":502,"times":50,"contentType":"text/html","body":"<html>..."}}: without
     * {@code contentType} and {@code body} the Bot API's JSON error (with {@code description}, {@code retryAfter});
     * with them, exactly that answer. {@code chatId} narrows it to one chat; {@code processed: true} answers it after
     * carrying the call out.
     */
    private void addFault(JsonNode body) {
        String method = requiredText(body, "method");
        Long status = optionalLong(body, "status");
        if (status == null) {
            throw new IllegalArgumentException("field 'status' is required");
        }
        Long retryAfter = optionalLong(body, "retryAfter");
        Long times = optionalLong(body, "times");
        emulator.addFault(new Fault(
                method,
                toInt(status, "status"),
                retryAfter == null ? 0 : toInt(retryAfter, "retryAfter"),
                times == null ? 1 : toInt(times, "times"),
                optionalLong(body, "chatId"),
                optionalText(body, "description"),
                optionalText(body, "contentType"),
                optionalText(body, "body"),
                optionalBoolean(body, "processed")));
    }

    private static boolean optionalBoolean(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw new IllegalArgumentException("field '" + field + "' must be true or false");
        }
        return value.asBoolean();
    }

    private static IncomingMessage incomingMessage(long chatId, JsonNode body) {
        IncomingMessage.Builder message = IncomingMessage.builder(chatId)
                .text(optionalText(body, "text"))
                .userId(optionalLong(body, "userId"))
                .firstName(optionalText(body, "firstName"))
                .username(optionalText(body, "username"))
                .chatTitle(optionalText(body, "chatTitle"))
                .caption(optionalText(body, "caption"));
        String chatType = optionalText(body, "chatType");
        if (chatType != null) {
            message.chatType(ChatType.fromWire(chatType));
        }
        String kind = optionalText(body, "kind");
        if (kind != null) {
            message.kind(MessageKind.fromWire(kind));
        }
        Long replyTo = optionalLong(body, "replyToMessageId");
        if (replyTo != null) {
            message.replyTo(toInt(replyTo, "replyToMessageId"));
        }
        JsonNode entities = body.get("entities");
        if (entities != null && !entities.isNull()) {
            if (!entities.isArray()) {
                throw new IllegalArgumentException("field 'entities' must be an array of MessageEntity objects");
            }
            List<MessageEntity> list = new ArrayList<>();
            for (JsonNode entity : entities) {
                list.add(entity(entity));
            }
            message.entities(list);
        }
        return message.build();
    }

    private static MessageEntity entity(JsonNode node) {
        String type = optionalText(node, "type");
        Long offset = optionalLong(node, "offset");
        Long length = optionalLong(node, "length");
        if (type == null || offset == null || length == null) {
            throw new IllegalArgumentException("each entity needs 'type', 'offset' and 'length'");
        }
        return new MessageEntity(
                type,
                toInt(offset, "offset"),
                toInt(length, "length"),
                optionalText(node, "url"),
                optionalText(node, "language"));
    }

    private static JsonNode readObject(HttpExchange exchange) throws IOException {
        byte[] body = HttpIo.readBody(exchange);
        JsonNode json;
        try {
            json = body.length == 0 ? null : Json.mapper().readTree(new String(body, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("body is not valid JSON: " + e.getOriginalMessage());
        }
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException("body must be a JSON object");
        }
        return json;
    }

    private static String requiredText(JsonNode body, String field) {
        String value = optionalText(body, field);
        if (value == null) {
            throw new IllegalArgumentException("field '" + field + "' is required");
        }
        return value;
    }

    private static String optionalText(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string");
        }
        return value.asText();
    }

    private static Long optionalLong(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isIntegralNumber() && value.canConvertToLong()) {
            return value.asLong();
        }
        if (value.isTextual()) {
            return parseLong(value.asText(), "field '" + field + "'");
        }
        throw new IllegalArgumentException("field '" + field + "' must be an integer");
    }

    private static int toInt(long value, String field) {
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("field '" + field + "' is out of range: " + value);
        }
        return (int) value;
    }

    private static long parseLong(String value, String what) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be an integer, was '" + value + "'");
        }
    }

    private static int parseInt(String value, String what) {
        long parsed = parseLong(value, what);
        if (parsed < Integer.MIN_VALUE || parsed > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is out of range: " + value);
        }
        return (int) parsed;
    }

    private static void requireVerb(String verb, String expected, String path) {
        boolean matches = verb.equals(expected) || (expected.equals("GET") && verb.equals("HEAD"));
        if (!matches) {
            throw new ControlError(405, "use " + expected + " for " + path);
        }
    }

    private static ObjectNode ok() {
        return Json.mapper().createObjectNode().put("ok", true);
    }
}

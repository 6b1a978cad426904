package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.telegram.TelegramLimits;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /bot<token>/<method>}: the Bot API methods a chat bot needs, answered like Telegram. The token is
 * part of the path, so neither the path nor the token is ever logged; only the method name is.
 */
final class BotApi implements HttpHandler {
    /** The longest getUpdates long poll the real server holds, in seconds (see {@link #longPollMillis}). */
    static final int LONG_POLL_MAX_TIMEOUT_S = 50;

    private static final Logger LOG = LoggerFactory.getLogger(BotApi.class);

    private static final Set<String> CHAT_ACTIONS = Set.of(
            "typing",
            "upload_photo",
            "record_video",
            "upload_video",
            "record_voice",
            "upload_voice",
            "upload_document",
            "choose_sticker",
            "find_location",
            "record_video_note",
            "upload_video_note");
    private static final Pattern COMMAND = Pattern.compile("[a-z0-9_]{1,32}");
    private static final Pattern SECRET_TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");

    /** One Bot API method: parameters in, the "result" value out (or a {@link BotApiError}). */
    @FunctionalInterface
    private interface Method {
        JsonNode call(Params params);
    }

    private final byte[] expectedToken;
    private final ChatRegistry chats;
    private final UpdateQueue updates;
    private final FaultInjector faults;
    private final CallLog calls;
    private final Map<String, Method> methods = new HashMap<>();
    private final Map<String, ArrayNode> commands = new HashMap<>();
    /** When the next setWebhook with a URL is admitted (see {@link #admitSetWebhook}). */
    private long nextSetWebhookNanos = System.nanoTime();

    BotApi(String expectedToken, ChatRegistry chats, UpdateQueue updates, FaultInjector faults, CallLog calls) {
        this.expectedToken = expectedToken == null ? null : expectedToken.getBytes(StandardCharsets.UTF_8);
        this.chats = chats;
        this.updates = updates;
        this.faults = faults;
        this.calls = calls;
        methods.put("getme", p -> getMe());
        methods.put("getupdates", this::getUpdates);
        methods.put("sendmessage", this::sendMessage);
        methods.put("sendchataction", this::sendChatAction);
        methods.put("editmessagetext", this::editMessageText);
        methods.put("deletemessage", this::deleteMessage);
        methods.put("setmycommands", this::setMyCommands);
        methods.put("getmycommands", this::getMyCommands);
        methods.put("deletemycommands", this::deleteMyCommands);
        methods.put("setwebhook", this::setWebhook);
        methods.put("deletewebhook", this::deleteWebhook);
        methods.put("getwebhookinfo", p -> getWebhookInfo());
    }

    @Override
    public void handle(HttpExchange exchange) {
        String method = null;
        ObjectNode params = null;
        int status;
        ObjectNode answer;
        BotApiError raw = null;
        try {
            String[] route = route(exchange.getRequestURI());
            if (route == null) {
                throw new BotApiError(404, "Not Found", 0);
            }
            if (!authorized(route[0])) {
                throw BotApiError.unauthorized();
            }
            method = route[1].toLowerCase(Locale.ROOT);
            params = readParams(exchange);
            Params p = new Params(params);
            // Before the method is looked up: Telegram's front end answers for any method, known or not.
            faults.check(method, p.chatIdOrNull());
            Method handler = methods.get(method);
            if (handler == null) {
                throw BotApiError.methodNotFound();
            }
            answer = Json.mapper().createObjectNode();
            answer.put("ok", true);
            answer.set("result", handler.call(p));
            webhookDescription(method, p, answer);
            faults.checkProcessed(method, p.chatIdOrNull());
            status = 200;
        } catch (BotApiError e) {
            status = e.status();
            answer = e.toJson();
            raw = e.isRaw() ? e : null;
        } catch (RuntimeException e) {
            LOG.error("Bot API method {} failed unexpectedly", method, e);
            status = 500;
            answer = new BotApiError(500, "Internal Server Error", 0).toJson();
        }
        if (method != null && status != 401) {
            calls.record(method, params == null ? Json.mapper().createObjectNode() : params, status);
        }
        LOG.debug("Bot API {} -> {}{}", method, status, raw == null ? "" : " (" + raw.rawContentType() + ")");
        try {
            if (raw != null) {
                if (raw.retryAfter() > 0) {
                    exchange.getResponseHeaders().set("Retry-After", Integer.toString(raw.retryAfter()));
                }
                HttpIo.send(
                        exchange, status, raw.rawContentType(), raw.rawBody().getBytes(StandardCharsets.UTF_8));
            } else {
                HttpIo.sendJson(exchange, status, answer);
            }
        } catch (IOException e) {
            // Typically a poller that gave up (closed its socket) before its long poll ended.
            LOG.debug("Could not answer Bot API method {}: {}", method, e.toString());
        } finally {
            exchange.close();
        }
    }

    /** {token, method} from /bot&lt;token&gt;/&lt;method&gt; (or the test-environment path .../test/&lt;method&gt;). */
    private static String[] route(URI uri) {
        String path = uri.getPath();
        if (path == null || !path.startsWith("/bot")) {
            return null;
        }
        String[] segments = path.substring(1).split("/");
        String method;
        if (segments.length == 2) {
            method = segments[1];
        } else if (segments.length == 3 && segments[1].equals("test")) {
            method = segments[2];
        } else {
            return null;
        }
        if (method.isEmpty()) {
            return null;
        }
        return new String[] {segments[0].substring("bot".length()), method};
    }

    private boolean authorized(String token) {
        if (token.isEmpty()) {
            return false;
        }
        return expectedToken == null || MessageDigest.isEqual(expectedToken, token.getBytes(StandardCharsets.UTF_8));
    }

    private static ObjectNode readParams(HttpExchange exchange) {
        ObjectNode params = Json.mapper().createObjectNode();
        try {
            HttpIo.parseForm(exchange.getRequestURI().getRawQuery()).forEach(params::put);
            byte[] body = HttpIo.readBody(exchange);
            if (body.length == 0) {
                return params;
            }
            String rawContentType = HttpIo.contentType(exchange);
            String contentType = rawContentType.toLowerCase(Locale.ROOT);
            if (contentType.startsWith("multipart/form-data")) {
                HttpIo.parseMultipart(body, rawContentType).forEach(params::put);
                return params;
            }
            String text = new String(body, StandardCharsets.UTF_8);
            if (contentType.startsWith("application/json")
                    || (contentType.isEmpty() && text.stripLeading().startsWith("{"))) {
                JsonNode json = Json.mapper().readTree(text);
                if (json == null || !json.isObject()) {
                    throw BotApiError.badRequest("can't parse JSON object");
                }
                params.setAll((ObjectNode) json);
            } else if (contentType.startsWith("application/x-www-form-urlencoded") || contentType.isEmpty()) {
                HttpIo.parseForm(text).forEach(params::put);
            } else {
                throw BotApiError.badRequest("unsupported request content type (the emulator takes JSON, "
                        + "form, multipart or query parameters)");
            }
            return params;
        } catch (JsonProcessingException e) {
            throw BotApiError.badRequest("can't parse JSON object");
        } catch (IllegalArgumentException e) {
            throw BotApiError.badRequest("can't parse request: " + e.getMessage());
        } catch (IOException e) {
            throw BotApiError.badRequest("can't read request body");
        }
    }

    // ---- methods -------------------------------------------------------------------------------------------

    private JsonNode getMe() {
        ObjectNode me = chats.botUser();
        me.put("can_join_groups", true);
        me.put("can_read_all_group_messages", false);
        me.put("supports_inline_queries", false);
        return me;
    }

    private JsonNode getUpdates(Params p) {
        Long offset = p.longValue("offset");
        Integer limit = p.integer("limit");
        int boundedLimit = limit == null ? 100 : Math.max(1, Math.min(100, limit));
        List<ObjectNode> batch =
                updates.poll(offset == null ? 0 : offset, boundedLimit, longPollMillis(p.integer("timeout")));
        ArrayNode result = Json.mapper().createArrayNode();
        batch.forEach(result::add);
        return result;
    }

    /**
     * How long a getUpdates call may wait for an update. The real server clamps {@code timeout} to 0..50 s: a client
     * asking for more is answered after 50 s, not refused (tdlib/telegram-bot-api, Client.cpp,
     * {@code get_integer_arg(query, "timeout", 0, 0, LONG_POLL_MAX_TIMEOUT)} with {@code LONG_POLL_MAX_TIMEOUT = 50}
     * in Client.h). A client whose HTTP read timeout assumes a longer wait sees an empty answer after 50 s.
     */
    static long longPollMillis(Integer timeoutSeconds) {
        if (timeoutSeconds == null) {
            return 0;
        }
        return Math.max(0, Math.min(LONG_POLL_MAX_TIMEOUT_S, timeoutSeconds)) * 1000L;
    }

    private JsonNode sendMessage(Params p) {
        long chatId = p.chatId();
        FormattedText.Parsed text = messageText(p);
        if (text.text().length() > TelegramLimits.MAX_MESSAGE_CHARS) {
            throw BotApiError.badRequest("message is too long");
        }
        Integer replyTo = p.integer("reply_to_message_id");
        boolean allowWithoutReply = p.bool("allow_sending_without_reply");
        JsonNode replyParameters = p.json("reply_parameters");
        if (replyParameters != null && replyParameters.hasNonNull("message_id")) {
            replyTo = replyParameters.get("message_id").asInt();
            allowWithoutReply =
                    replyParameters.path("allow_sending_without_reply").asBoolean(false);
        }
        return chats.sendMessage(chatId, text, replyTo, allowWithoutReply);
    }

    /** The displayed text: markup parsed by parse_mode, or explicit entities as given. */
    private static FormattedText.Parsed messageText(Params p) {
        String raw = p.string("text");
        if (raw == null || raw.isEmpty()) {
            throw BotApiError.badRequest("message text is empty");
        }
        FormattedText.Parsed parsed = FormattedText.parse(raw, p.string("parse_mode"));
        if (parsed.text().isBlank()) {
            throw BotApiError.badRequest("message text is empty");
        }
        JsonNode entities = p.json("entities");
        if (parsed.entities().isEmpty() && entities != null && entities.isArray()) {
            try {
                List<MessageEntity> given = List.of(Json.mapper().treeToValue(entities, MessageEntity[].class));
                return new FormattedText.Parsed(parsed.text(), given);
            } catch (JsonProcessingException | IllegalArgumentException e) {
                throw BotApiError.badRequest("can't parse entities JSON object");
            }
        }
        return parsed;
    }

    private JsonNode sendChatAction(Params p) {
        long chatId = p.chatId();
        String action = p.string("action");
        if (action == null || !CHAT_ACTIONS.contains(action)) {
            throw BotApiError.badRequest("wrong parameter action in request");
        }
        chats.chatAction(chatId, action);
        return BooleanNode.TRUE;
    }

    private JsonNode editMessageText(Params p) {
        if (p.string("inline_message_id") != null) {
            throw BotApiError.badRequest("inline messages are not supported by the emulator");
        }
        long chatId = p.chatId();
        Integer messageId = p.integer("message_id");
        if (messageId == null) {
            throw BotApiError.badRequest("message identifier is not specified");
        }
        FormattedText.Parsed text = messageText(p);
        if (text.text().length() > TelegramLimits.MAX_MESSAGE_CHARS) {
            throw BotApiError.badRequest("MESSAGE_TOO_LONG");
        }
        return chats.editMessageText(chatId, messageId, text);
    }

    private JsonNode deleteMessage(Params p) {
        long chatId = p.chatId();
        Integer messageId = p.integer("message_id");
        if (messageId == null) {
            throw BotApiError.badRequest("message identifier is not specified");
        }
        chats.deleteMessage(chatId, messageId);
        return BooleanNode.TRUE;
    }

    private JsonNode setMyCommands(Params p) {
        JsonNode given = p.json("commands");
        if (given == null || !given.isArray()) {
            throw BotApiError.badRequest("parameter \"commands\" is required");
        }
        if (given.size() > 100) {
            throw BotApiError.badRequest("too many commands");
        }
        ArrayNode stored = Json.mapper().createArrayNode();
        for (JsonNode command : given) {
            String name = command.path("command").asText("");
            String description = command.path("description").asText("");
            if (!COMMAND.matcher(name).matches()) {
                throw BotApiError.badRequest("BOT_COMMAND_INVALID");
            }
            if (description.isBlank() || description.length() > 256) {
                throw BotApiError.badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
            }
            stored.addObject().put("command", name).put("description", description);
        }
        String key = commandsKey(p);
        synchronized (commands) {
            commands.put(key, stored);
        }
        return BooleanNode.TRUE;
    }

    private JsonNode getMyCommands(Params p) {
        String key = commandsKey(p);
        synchronized (commands) {
            ArrayNode stored = commands.get(key);
            return stored == null ? Json.mapper().createArrayNode() : stored.deepCopy();
        }
    }

    private JsonNode deleteMyCommands(Params p) {
        String key = commandsKey(p);
        synchronized (commands) {
            commands.remove(key);
        }
        return BooleanNode.TRUE;
    }

    /** Commands are kept per scope and language, as Telegram does. */
    private static String commandsKey(Params p) {
        JsonNode scope = p.json("scope");
        String scopeKey = scope == null || !scope.isObject()
                ? "default"
                : scope.path("type").asText("default") + ":"
                        + scope.path("chat_id").asText("") + ":"
                        + scope.path("user_id").asText("");
        String language = p.string("language_code");
        return scopeKey + "|" + (language == null ? "" : language);
    }

    void resetCommands() {
        synchronized (commands) {
            commands.clear();
        }
    }

    private JsonNode setWebhook(Params p) {
        String url = p.string("url");
        if (url == null) {
            throw BotApiError.badRequest("parameter \"url\" is required");
        }
        if (!url.isEmpty()) {
            try {
                URI uri = URI.create(url);
                String scheme = uri.getScheme();
                if (uri.getHost() == null
                        || scheme == null
                        || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
                    throw BotApiError.badRequest("bad webhook: invalid URL");
                }
            } catch (IllegalArgumentException e) {
                throw BotApiError.badRequest("bad webhook: invalid URL");
            }
        }
        if (!url.isEmpty()) {
            admitSetWebhook();
        }
        String secret = p.string("secret_token");
        if (secret != null && !secret.isEmpty() && !SECRET_TOKEN.matcher(secret).matches()) {
            throw BotApiError.badRequest("secret token contains unallowed characters");
        }
        // The Bot API clamps max_connections to 1..100 (Client::get_webhook_max_connections, get_integer_arg).
        Integer maxConnections = p.integer("max_connections");
        updates.setWebhook(
                url,
                secret,
                p.bool("drop_pending_updates"),
                maxConnections == null
                        ? UpdateQueue.DEFAULT_MAX_CONNECTIONS
                        : Math.max(1, Math.min(100, maxConnections)));
        LOG.info("Webhook {} (secret token: {})", url.isEmpty() ? "removed" : "set", secret != null);
        return BooleanNode.TRUE;
    }

    /**
     * One setWebhook with a URL per second, even for the same URL; the excess is answered 429 "retry after 1". This is
     * the real server's rule (tdlib/telegram-bot-api, Client.cpp, {@code process_set_webhook_query}:
     * {@code next_allowed_set_webhook_time_ = now + 1}, checked before "Webhook is already set"); deleteWebhook and
     * an empty URL are not limited. Instances started together in webhook mode meet it.
     */
    private synchronized void admitSetWebhook() {
        long now = System.nanoTime();
        if (now - nextSetWebhookNanos < 0) {
            throw BotApiError.tooManyRequests(1);
        }
        nextSetWebhookNanos = now + TimeUnit.SECONDS.toNanos(1);
    }

    private JsonNode deleteWebhook(Params p) {
        updates.deleteWebhook(p.bool("drop_pending_updates"));
        return BooleanNode.TRUE;
    }

    /**
     * Answered in polling mode too, with an empty url (Bot API docs, getWebhookInfo). {@code pending_update_count} is
     * the bot's whole update queue, as the Bot API server counts it (tdlib/telegram-bot-api, Client.cpp,
     * {@code Client::get_pending_update_count}, the size of the bot's TQueue): updates handed out by getUpdates stay
     * in it until a later offset confirms them, and day-old ones drop out ({@link UpdateQueue#webhookInfo}).
     */
    private JsonNode getWebhookInfo() {
        WebhookInfo info = updates.webhookInfo();
        ObjectNode result = Json.mapper().createObjectNode();
        result.put("url", info.url());
        result.put("has_custom_certificate", false);
        result.put("pending_update_count", info.pendingUpdateCount());
        if (info.isActive()) {
            result.put("max_connections", info.maxConnections());
        }
        if (info.lastErrorDate() != null) {
            result.put("last_error_date", info.lastErrorDate());
            result.put("last_error_message", info.lastErrorMessage());
        }
        return result;
    }

    /** Telegram adds a human-readable description to webhook answers. */
    private static void webhookDescription(String method, Params p, ObjectNode answer) {
        if (method.equals("setwebhook")) {
            String url = p.string("url");
            answer.put("description", url == null || url.isEmpty() ? "Webhook was deleted" : "Webhook was set");
        } else if (method.equals("deletewebhook")) {
            answer.put("description", "Webhook was deleted");
        }
    }
}

package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The few Bot API calls ingest makes outside long polling (getMe, setWebhook, deleteWebhook), as plain JSON POSTs
 * with the JDK's client. Failures are {@link IllegalStateException}s whose messages never hold the token.
 */
public final class BotApiClient {
    /** Who the bot is: its user id and username (without '@'). */
    public record BotProfile(long id, String username) {}

    /** How long one call may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final TelegramSettings telegram;
    private final HttpClient http;
    private final ObjectMapper mapper = Json.mapper();

    public BotApiClient(TelegramSettings telegram, HttpClient http) {
        this.telegram = telegram;
        this.http = http;
    }

    public BotProfile getMe() {
        JsonNode me = call("getMe", mapper.createObjectNode());
        String username = me.path("username").asText("");
        if (!me.path("id").canConvertToLong() || username.isEmpty()) {
            throw new IllegalStateException("getMe answered without an id or username: " + me);
        }
        return new BotProfile(me.path("id").asLong(), username);
    }

    /**
     * Tells Telegram to POST updates of {@code allowedUpdates} kinds to {@code url} with {@code secret}, over up to
     * {@code maxConnections} connections at once.
     */
    public void setWebhook(String url, Secret secret, List<String> allowedUpdates, int maxConnections) {
        ObjectNode body = mapper.createObjectNode();
        body.put("url", url);
        body.put("secret_token", secret.reveal());
        body.put("max_connections", maxConnections);
        body.set("allowed_updates", mapper.valueToTree(allowedUpdates));
        // Pending updates are exactly what must not be lost.
        body.put("drop_pending_updates", false);
        call("setWebhook", body);
    }

    /** Stops webhook delivery; pending updates stay with Telegram for the next webhook or poller. */
    public void deleteWebhook() {
        ObjectNode body = mapper.createObjectNode();
        body.put("drop_pending_updates", false);
        call("deleteWebhook", body);
    }

    private JsonNode call(String method, ObjectNode body) {
        Secret token = telegram.token();
        URI uri =
                URI.create(telegram.apiUrl().toString().replaceAll("/+$", "") + "/bot" + token.reveal() + "/" + method);
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(uri)
                    .timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)))
                    .build();
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + method + ": " + e.getMessage(), null);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            // The cause is left out: it may quote the URL, which holds the token.
            throw new IllegalStateException(
                    method + " at " + telegram.apiUrl() + " failed: " + token.describe(e), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " interrupted", null);
        }
        JsonNode answer;
        try {
            answer = mapper.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException(
                    method + " answered HTTP " + response.statusCode() + " with a body that is " + "not JSON", null);
        }
        if (!answer.path("ok").asBoolean(false)) {
            throw new IllegalStateException(
                    method + " refused (HTTP " + response.statusCode() + "): "
                            + token.redact(answer.path("description").asText("no description")),
                    null);
        }
        return answer.path("result");
    }
}

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bot API calls ingest makes (getMe, setWebhook, deleteWebhook, and the long poller's getUpdates), as plain JSON
 * POSTs with the JDK's client. Failures are {@link IllegalStateException}s whose messages never hold the token.
 */
public final class BotApiClient {
    /** Who the bot is: its user id and username (without '@'). */
    public record BotProfile(long id, String username) {}

    /** How long one call may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(15);
    /** How long a call answered 429 is retried after Telegram's {@code retry_after}. */
    static final Duration RETRY_AFTER_BUDGET = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(BotApiClient.class);

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
        callHonouringRetryAfter("setWebhook", body);
    }

    /**
     * {@code method}, called again after Telegram's {@code retry_after} while it answers 429, for up to
     * {@link #RETRY_AFTER_BUDGET} in all. setWebhook needs it: Telegram admits one setWebhook with a URL per second
     * per bot, even for the same URL, so instances started together in webhook mode would otherwise fail at start-up.
     */
    private JsonNode callHonouringRetryAfter(String method, ObjectNode body) {
        long deadline = System.nanoTime() + RETRY_AFTER_BUDGET.toNanos();
        while (true) {
            try {
                return call(method, body);
            } catch (RetryAfter e) {
                long waitNanos = TimeUnit.SECONDS.toNanos(e.seconds());
                if (System.nanoTime() + waitNanos - deadline > 0) {
                    throw new IllegalStateException(
                            method + " still refused after " + RETRY_AFTER_BUDGET.toSeconds() + " s: " + e.getMessage(),
                            null);
                }
                LOG.info("{}: Telegram asks to retry after {} s; waiting", method, e.seconds());
                try {
                    TimeUnit.NANOSECONDS.sleep(waitNanos);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(method + " interrupted while waiting to retry", null);
                }
            }
        }
    }

    /** Telegram answered a call without {@code ok}: its HTTP status, and its {@code retry_after} (0: none). */
    public static class Refused extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final int retryAfterSeconds;

        Refused(String message, int status, int retryAfterSeconds) {
            super(message, null);
            this.status = status;
            this.retryAfterSeconds = retryAfterSeconds;
        }

        public int status() {
            return status;
        }

        /** Seconds Telegram asks to wait before calling again ({@code parameters.retry_after}); 0 when it does not. */
        public int retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    /** A 429 with {@code parameters.retry_after}: Telegram asks to call again after that many seconds. */
    static final class RetryAfter extends Refused {
        private static final long serialVersionUID = 1L;

        RetryAfter(String message, int seconds) {
            super(message, 429, seconds);
        }

        int seconds() {
            return retryAfterSeconds();
        }
    }

    /** Stops webhook delivery; pending updates stay with Telegram for the next webhook or poller. */
    public void deleteWebhook() {
        ObjectNode body = mapper.createObjectNode();
        body.put("drop_pending_updates", false);
        call("deleteWebhook", body);
    }

    private JsonNode call(String method, ObjectNode body) {
        HttpRequest request = request(method, body, TIMEOUT);
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw transportFailure(method, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " interrupted", null);
        }
        return result(method, response);
    }

    /**
     * Starts one getUpdates: confirms every update below {@code offset} (0: none) and waits up to
     * {@code timeoutSeconds} for the first of up to {@code limit} updates. {@link PendingUpdates#await()} gives the
     * raw Update objects as Telegram sent them, in its order.
     *
     * @param httpTimeout how long the whole call may take; it must outlast {@code timeoutSeconds}
     */
    public PendingUpdates getUpdates(long offset, int timeoutSeconds, int limit, Duration httpTimeout) {
        ObjectNode body = mapper.createObjectNode();
        if (offset != 0) {
            body.put("offset", offset);
        }
        body.put("timeout", timeoutSeconds);
        body.put("limit", limit);
        HttpRequest request = request("getUpdates", body, httpTimeout);
        return new PendingUpdates(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
    }

    /** A getUpdates in flight; {@link #cancel()} abandons it (a long poll ends at once). */
    public final class PendingUpdates {
        private final CompletableFuture<HttpResponse<String>> response;

        private PendingUpdates(CompletableFuture<HttpResponse<String>> response) {
            this.response = response;
        }

        /**
         * Waits for the answer.
         *
         * @throws Refused                when Telegram answered without {@code ok} (409, 429 with its
         *                                {@code retry_after}, 5xx, ...)
         * @throws IllegalStateException  when Telegram could not be reached or answered no JSON
         * @throws CancellationException  after {@link #cancel()}
         */
        public List<JsonNode> await() throws InterruptedException {
            HttpResponse<String> answer;
            try {
                answer = response.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw transportFailure("getUpdates", cause);
            } catch (InterruptedException e) {
                response.cancel(true);
                throw e;
            }
            JsonNode result = result("getUpdates", answer);
            if (!result.isArray()) {
                throw new IllegalStateException("getUpdates answered a result that is not an array", null);
            }
            List<JsonNode> updates = new ArrayList<>(result.size());
            result.forEach(updates::add);
            return updates;
        }

        public void cancel() {
            response.cancel(true);
        }
    }

    private HttpRequest request(String method, ObjectNode body, Duration timeout) {
        Secret token = telegram.token();
        URI uri =
                URI.create(telegram.apiUrl().toString().replaceAll("/+$", "") + "/bot" + token.reveal() + "/" + method);
        try {
            return HttpRequest.newBuilder(uri)
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)))
                    .build();
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + method + ": " + e.getMessage(), null);
        }
    }

    /** The cause is left out: it may quote the URL, which holds the token. */
    private IllegalStateException transportFailure(String method, Throwable e) {
        return new IllegalStateException(
                method + " at " + telegram.apiUrl() + " failed: "
                        + telegram.token().describe(e),
                null);
    }

    private JsonNode result(String method, HttpResponse<String> response) {
        Secret token = telegram.token();
        JsonNode answer;
        try {
            answer = mapper.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException(
                    method + " answered HTTP " + response.statusCode() + " with a body that is " + "not JSON", null);
        }
        int retryAfter = answer.path("parameters").path("retry_after").asInt(0);
        if (!answer.path("ok").asBoolean(false) && response.statusCode() == 429 && retryAfter > 0) {
            throw new RetryAfter(
                    method + " refused (HTTP 429): "
                            + token.redact(answer.path("description").asText("")),
                    retryAfter);
        }
        if (!answer.path("ok").asBoolean(false)) {
            throw new Refused(
                    method + " refused (HTTP " + response.statusCode() + "): "
                            + token.redact(answer.path("description").asText("no description")),
                    response.statusCode(),
                    0);
        }
        return answer.path("result");
    }
}

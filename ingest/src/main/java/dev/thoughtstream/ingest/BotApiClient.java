package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.retry.Backoff;
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
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bot API calls ingest makes (getMe, setWebhook, deleteWebhook, and the long poller's getUpdates), as plain JSON
 * POSTs with the JDK's client. getMe, setWebhook and deleteWebhook are idempotent, so each is called again while
 * Telegram is briefly unable to answer: after its {@code retry_after} on a 429, and after a growing backoff on a 5xx,
 * whether the Bot API's JSON or an HTML page from Telegram's front end (nginx answers 502/503/504 with its own
 * {@code text/html} page when the Bot API server behind it is away; php-telegram-bot users have posted such a page
 * answering setWebhook), each logged in one line. Failures are {@link IllegalStateException}s whose messages never
 * hold the token; a refusal is a {@link Refused} with its HTTP status, a 5xx (JSON or not) a {@link ServerError}.
 */
public final class BotApiClient {
    /** Who the bot is: its user id and username (without '@'). */
    public record BotProfile(long id, String username) {}

    /** How long one call may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(15);
    /** How long getMe and setWebhook are retried (429s and 5xx) before their failure is final. */
    static final Duration RETRY_BUDGET = Duration.ofSeconds(30);
    /** deleteWebhook runs while stopping (webhook mode), which must not take long, and before polling starts. */
    static final Duration STOP_RETRY_BUDGET = Duration.ofSeconds(5);
    /** The wait before each retry of a 5xx. */
    static final Backoff SERVER_ERROR_BACKOFF =
            Backoff.exponential(Duration.ofMillis(250), Duration.ofSeconds(4)).withJitter(0.2);

    private static final Logger LOG = LoggerFactory.getLogger(BotApiClient.class);

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final TelegramSettings telegram;
    private final HttpClient http;
    private final Duration retryBudget;
    private final Duration stopRetryBudget;
    private final ObjectMapper mapper = Json.mapper();

    public BotApiClient(TelegramSettings telegram, HttpClient http) {
        this(telegram, http, RETRY_BUDGET, STOP_RETRY_BUDGET);
    }

    /**
     * A client on an HTTP client of its own whose calls run on {@code executor}, so a long poll elsewhere never
     * delays it (and it never delays the poll).
     */
    public static BotApiClient onOwnConnections(TelegramSettings telegram, Executor executor) {
        return new BotApiClient(
                telegram,
                HttpClient.newBuilder()
                        .connectTimeout(CONNECT_TIMEOUT)
                        .executor(executor)
                        .build());
    }

    BotApiClient(TelegramSettings telegram, HttpClient http, Duration retryBudget, Duration stopRetryBudget) {
        this.telegram = telegram;
        this.http = http;
        this.retryBudget = retryBudget;
        this.stopRetryBudget = stopRetryBudget;
    }

    public BotProfile getMe() {
        JsonNode me = callRetrying("getMe", mapper.createObjectNode(), retryBudget);
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
        callRetrying("setWebhook", body, retryBudget);
    }

    /**
     * {@code method}, called again while Telegram answers 429 (after its {@code retry_after}) or 5xx (after
     * {@link #SERVER_ERROR_BACKOFF}), for up to {@code budget} in all. setWebhook needs the first: Telegram admits one
     * setWebhook with a URL per second per bot, even for the same URL, so instances started together in webhook mode
     * would otherwise fail at start-up. All need the second: a gateway blip must not fail a start.
     */
    private JsonNode callRetrying(String method, ObjectNode body, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        Backoff.Sequence serverErrorWaits = SERVER_ERROR_BACKOFF.sequence();
        while (true) {
            long waitNanos;
            try {
                return call(method, body);
            } catch (RetryAfter e) {
                waitNanos = TimeUnit.SECONDS.toNanos(e.seconds());
                if (System.nanoTime() + waitNanos - deadline > 0) {
                    throw new IllegalStateException(
                            method + " still refused after " + budget.toSeconds() + " s: " + e.getMessage(), null);
                }
                LOG.info("{}: Telegram asks to retry after {} s; waiting", method, e.seconds());
            } catch (ServerError e) {
                waitNanos = serverErrorWaits.next().toNanos();
                if (System.nanoTime() + waitNanos - deadline > 0) {
                    throw new IllegalStateException(
                            method + " still failing after " + serverErrorWaits.attempts() + " attempts: "
                                    + e.getMessage(),
                            null);
                }
                LOG.warn("{}; retrying in {} ms", e.getMessage(), TimeUnit.NANOSECONDS.toMillis(waitNanos));
            }
            try {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(method + " interrupted while waiting to retry", null);
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

    /**
     * A 5xx, the Bot API's JSON or an HTML page from Telegram's front end: Telegram could not answer for now; the call
     * may succeed when repeated.
     */
    public static final class ServerError extends Refused {
        private static final long serialVersionUID = 1L;

        ServerError(String message, int status) {
            super(message, status, 0);
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

    /**
     * How many updates Telegram holds for the bot: getWebhookInfo's {@code pending_update_count}, once, without
     * retrying. The Bot API answers getWebhookInfo in polling mode too ("If the bot is using getUpdates, will return
     * an object with the url field empty", Bot API docs, getWebhookInfo), and the count is the size of the bot's
     * update queue (tdlib/telegram-bot-api, Client.cpp, {@code Client::get_pending_update_count}): every update not
     * yet confirmed by a getUpdates offset, those handed out but unconfirmed included.
     *
     * @throws IllegalStateException when Telegram cannot be reached, refuses, or answers without the count
     */
    public long pendingUpdateCount() {
        JsonNode info = call("getWebhookInfo", mapper.createObjectNode());
        JsonNode count = info.path("pending_update_count");
        if (!count.canConvertToLong()) {
            throw new IllegalStateException("getWebhookInfo answered without a pending_update_count", null);
        }
        return count.asLong();
    }

    /** Stops webhook delivery; pending updates stay with Telegram for the next webhook or poller. */
    public void deleteWebhook() {
        ObjectNode body = mapper.createObjectNode();
        body.put("drop_pending_updates", false);
        callRetrying("deleteWebhook", body, stopRetryBudget);
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
            answer = null;
        }
        if (answer == null || !answer.isObject()) {
            String what = method + " answered HTTP " + response.statusCode() + " with "
                    + response.headers().firstValue("Content-Type").orElse("no content type")
                    + ", not the Bot API's JSON";
            if (response.statusCode() >= 500) {
                throw new ServerError(
                        what + " (Telegram's front end: the Bot API is unavailable)", response.statusCode());
            }
            throw new IllegalStateException(what, null);
        }
        int retryAfter = answer.path("parameters").path("retry_after").asInt(0);
        if (!answer.path("ok").asBoolean(false) && response.statusCode() == 429 && retryAfter > 0) {
            throw new RetryAfter(
                    method + " refused (HTTP 429): "
                            + token.redact(answer.path("description").asText("")),
                    retryAfter);
        }
        if (!answer.path("ok").asBoolean(false)) {
            String refused = method + " refused (HTTP " + response.statusCode() + "): "
                    + token.redact(answer.path("description").asText("no description"));
            if (response.statusCode() >= 500) {
                throw new ServerError(refused, response.statusCode());
            }
            throw new Refused(refused, response.statusCode(), 0);
        }
        return answer.path("result");
    }
}

package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers pending updates to the webhook like Telegram's Bot API server: up to the webhook's
 * {@code max_connections} requests at once, one at a time per chat (see {@link UpdateQueue}), forgetting each update
 * on a 2xx and otherwise retrying it after {@link WebhookRetryPolicy}'s delay (or the answer's {@code Retry-After}),
 * while other chats go on. One thread hands the deliveries out; each request runs on a connection thread of its
 * own, as a blocking POST over a kept-alive socket ({@link PlainHttpPoster}; https through the JDK's client). The
 * URL is never logged because bots often put their token in it.
 */
final class WebhookDeliverer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDeliverer.class);
    static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

    private final UpdateQueue queue;
    private final HttpClient http;
    private final PlainHttpPoster plain;
    private final Executor connections;
    private final Duration requestTimeout;

    /** @param connections runs each request (at most max_connections at once, which the queue enforces) */
    WebhookDeliverer(
            UpdateQueue queue, HttpClient http, PlainHttpPoster plain, Executor connections, Duration requestTimeout) {
        this.queue = queue;
        this.http = http;
        this.plain = plain;
        this.connections = connections;
        this.requestTimeout = requestTimeout;
    }

    @Override
    public void run() {
        try {
            while (true) {
                UpdateQueue.Delivery delivery = queue.awaitDelivery();
                if (delivery == null) {
                    return;
                }
                try {
                    connections.execute(() -> finish(delivery, attempt(delivery)));
                } catch (RejectedExecutionException e) {
                    // The emulator is closing.
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.debug("Webhook deliverer interrupted; stopping");
        }
    }

    private void finish(UpdateQueue.Delivery delivery, Failure failure) {
        if (failure == null) {
            queue.delivered(delivery);
            return;
        }
        long wait = queue.deliveryFailed(delivery, failure.message(), failure.retryAfterSeconds());
        if (wait >= 0) {
            LOG.warn(
                    "Webhook delivery of update {} failed ({}); retrying in {} ms",
                    delivery.updateId(),
                    failure.message(),
                    wait);
        } else {
            LOG.warn("Webhook delivery of update {} failed ({}); not retried", delivery.updateId(), failure.message());
        }
    }

    /** What went wrong, in Telegram's words, and the answer's {@code Retry-After} in seconds (0 without one). */
    private record Failure(String message, long retryAfterSeconds) {
        Failure(String message) {
            this(message, 0);
        }
    }

    /** Null on success. */
    private Failure attempt(UpdateQueue.Delivery delivery) {
        URI url;
        byte[] body;
        try {
            url = URI.create(delivery.url());
            body = Json.mapper().writeValueAsBytes(delivery.update());
        } catch (IllegalArgumentException e) {
            return new Failure("Bad webhook: invalid URL");
        } catch (JsonProcessingException e) {
            // Cannot happen for a tree we built ourselves; still reported rather than swallowed.
            LOG.error("Cannot serialise update {}", delivery.updateId(), e);
            return new Failure("Internal error");
        }
        try {
            PlainHttpPoster.Response answer = "http".equalsIgnoreCase(url.getScheme()) && url.getHost() != null
                    ? plain.post(
                            url, delivery.secret() == null ? Map.of() : Map.of(SECRET_HEADER, delivery.secret()), body)
                    : sendWithJdkClient(url, delivery.secret(), body);
            int status = answer.status();
            if (status >= 200 && status < 300) {
                LOG.debug("Webhook accepted update {} ({})", delivery.updateId(), status);
                return null;
            }
            // WebhookActor::handle: "Wrong response from the webhook: " << code << " " << reason.
            return new Failure(
                    "Wrong response from the webhook: " + status
                            + (answer.reason().isEmpty() ? "" : " " + answer.reason()),
                    WebhookRetryPolicy.retryAfterSeconds(answer.retryAfter()));
        } catch (IOException e) {
            return new Failure(describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Failure("Interrupted");
        } catch (IllegalArgumentException e) {
            return new Failure("Bad webhook: invalid URL");
        }
    }

    /**
     * https (and anything else the plain poster does not speak) through the JDK's client, which does not expose the
     * reason phrase.
     */
    private PlainHttpPoster.Response sendWithJdkClient(URI url, String secret, byte[] body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (secret != null) {
            request.header(SECRET_HEADER, secret);
        }
        HttpResponse<Void> response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
        return new PlainHttpPoster.Response(
                response.statusCode(),
                "",
                response.headers().firstValue("Retry-After").orElse(null));
    }

    private static String describe(Throwable error) {
        return error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    }
}

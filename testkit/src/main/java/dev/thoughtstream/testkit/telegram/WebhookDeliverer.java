package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.thoughtstream.common.serde.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers pending updates to the webhook like Telegram's Bot API server: up to the webhook's
 * {@code max_connections} requests at once, one at a time per chat (see {@link UpdateQueue}), forgetting each update
 * on a 2xx and retrying it with a growing delay otherwise, while other chats go on. One thread hands the deliveries
 * out; the requests run asynchronously on the emulator's webhook HTTP client. The URL is never logged because bots
 * often put their token in it.
 */
final class WebhookDeliverer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDeliverer.class);
    static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

    private final UpdateQueue queue;
    private final HttpClient http;
    private final Clock clock;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration requestTimeout;

    WebhookDeliverer(UpdateQueue queue, HttpClient http, Clock clock, Duration initialBackoff, Duration maxBackoff,
                     Duration requestTimeout) {
        this.queue = queue;
        this.http = http;
        this.clock = clock;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
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
                attempt(delivery).whenComplete((failure, error) -> finish(delivery,
                        error != null ? describe(error) : failure));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.debug("Webhook deliverer interrupted; stopping");
        }
    }

    private void finish(UpdateQueue.Delivery delivery, String failure) {
        if (failure == null) {
            queue.delivered(delivery);
            return;
        }
        queue.deliveryFailed(delivery, failure, clock.instant().getEpochSecond(), initialBackoff.toMillis(),
                maxBackoff.toMillis());
        LOG.warn("Webhook delivery of update {} failed ({}); retrying in {} ms", delivery.updateId(), failure,
                queue.retryDelayMillis(delivery));
    }

    /** Completes with null on success, otherwise Telegram-style wording of what went wrong. */
    private CompletableFuture<String> attempt(UpdateQueue.Delivery delivery) {
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(delivery.url()))
                    .timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(delivery.update())));
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture("Bad webhook: invalid URL");
        } catch (JsonProcessingException e) {
            // Cannot happen for a tree we built ourselves; still reported rather than swallowed.
            LOG.error("Cannot serialise update {}", delivery.updateId(), e);
            return CompletableFuture.completedFuture("Internal error");
        }
        if (delivery.secret() != null) {
            request.header(SECRET_HEADER, delivery.secret());
        }
        try {
            return http.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding()).handle((response, error) -> {
                if (error != null) {
                    return describe(error);
                }
                int status = response.statusCode();
                if (status >= 200 && status < 300) {
                    LOG.debug("Webhook accepted update {} ({})", delivery.updateId(), status);
                    return null;
                }
                return "Wrong response from the webhook: " + status;
            });
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture("Bad webhook: invalid URL");
        }
    }

    private static String describe(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}

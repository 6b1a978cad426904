package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers pending updates to the webhook like Telegram: one at a time, in order, forgetting each on a 2xx
 * and retrying the same update with a growing delay otherwise. Runs on its own thread (see
 * {@link TelegramEmulator}); the URL is never logged because bots often put their token in it.
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
        long backoffMillis = initialBackoff.toMillis();
        try {
            while (true) {
                UpdateQueue.Delivery delivery = queue.awaitDelivery();
                if (delivery == null) {
                    return;
                }
                String failure = attempt(delivery);
                if (failure == null) {
                    queue.delivered(delivery);
                    backoffMillis = initialBackoff.toMillis();
                    continue;
                }
                queue.deliveryFailed(delivery, failure, clock.instant().getEpochSecond());
                LOG.warn("Webhook delivery of update {} failed ({}); retrying in {} ms",
                        delivery.updateId(), failure, backoffMillis);
                if (!queue.awaitRetry(backoffMillis, delivery.version())) {
                    return;
                }
                backoffMillis = Math.min(backoffMillis * 2, maxBackoff.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.debug("Webhook deliverer interrupted; stopping");
        }
    }

    /** Returns null on success, otherwise Telegram-style wording of what went wrong. */
    private String attempt(UpdateQueue.Delivery delivery) throws InterruptedException {
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(delivery.url()))
                    .timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(delivery.update())));
        } catch (IllegalArgumentException e) {
            return "Bad webhook: invalid URL";
        } catch (JsonProcessingException e) {
            // Cannot happen for a tree we built ourselves; still reported rather than swallowed.
            LOG.error("Cannot serialise update {}", delivery.updateId(), e);
            return "Internal error";
        }
        if (delivery.secret() != null) {
            request.header(SECRET_HEADER, delivery.secret());
        }
        try {
            HttpResponse<Void> response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                LOG.debug("Webhook accepted update {} ({})", delivery.updateId(), status);
                return null;
            }
            return "Wrong response from the webhook: " + status;
        } catch (IOException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }
}

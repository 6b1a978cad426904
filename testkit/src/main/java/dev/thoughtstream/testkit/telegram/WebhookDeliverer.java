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
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers pending updates to the webhook like Telegram's Bot API server: up to the webhook's
 * {@code max_connections} requests at once, one at a time per chat (see {@link UpdateQueue}), forgetting each update
 * on a 2xx and retrying it with a growing delay otherwise, while other chats go on. One thread hands the deliveries
 * out; each request runs on a connection thread of its own (a blocking send: the JDK client's asynchronous send
 * would hand every completion to a new thread on a machine of two cores, where the common pool is too small). The
 * URL is never logged because bots often put their token in it.
 */
final class WebhookDeliverer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDeliverer.class);
    static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

    private final UpdateQueue queue;
    private final HttpClient http;
    private final Executor connections;
    private final Clock clock;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration requestTimeout;

    /** @param connections runs each request (at most max_connections at once, which the queue enforces) */
    WebhookDeliverer(UpdateQueue queue, HttpClient http, Executor connections, Clock clock, Duration initialBackoff,
                     Duration maxBackoff, Duration requestTimeout) {
        this.queue = queue;
        this.http = http;
        this.connections = connections;
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

    /** Null on success, otherwise Telegram-style wording of what went wrong. */
    private String attempt(UpdateQueue.Delivery delivery) {
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
            return describe(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "Interrupted";
        } catch (IllegalArgumentException e) {
            return "Bad webhook: invalid URL";
        }
    }

    private static String describe(Throwable error) {
        return error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    }
}

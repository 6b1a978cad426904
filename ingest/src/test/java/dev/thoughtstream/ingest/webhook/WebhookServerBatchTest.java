package dev.thoughtstream.ingest.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.ingest.write.UpdateWriter;
import dev.thoughtstream.ingest.write.WriteOutcome;
import dev.thoughtstream.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The endpoint and the group commit together over real HTTP: concurrent deliveries are answered only once their
 * batch is written, a batch that fails fails each of its deliveries with an answer Telegram retries, and waiting
 * deliveries hold no request thread. The batch writer stands for {@link UpdateWriter#writeWithin} (its Kafka and
 * Redis work is covered by WebhookIngestTest); it records the batches and holds the first until released.
 */
class WebhookServerBatchTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String SECRET = "batch_Secret-1";
    private static final String PATH = "/telegram/batch";
    /** Fewer than the deliveries the tests keep waiting at once. */
    private static final int REQUEST_THREADS = 2;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<List<Long>> batches = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private volatile Function<List<JsonNode>, WriteOutcome> afterTheFirst = updates -> WriteOutcome.WRITTEN;
    private final WebhookBatches batchWriter = new WebhookBatches(this::write, timer);
    private final WebhookServer server = new WebhookServer(
                    0,
                    PATH,
                    new Secret(SECRET),
                    update -> batchWriter.submit(update, TIMEOUT),
                    new Metrics(),
                    REQUEST_THREADS)
            .start();

    private WriteOutcome write(List<JsonNode> updates, Duration timeout) {
        batches.add(updates.stream().map(u -> u.path("update_id").asLong()).toList());
        if (batches.size() == 1) {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return WriteOutcome.CLOSED;
            }
            return WriteOutcome.WRITTEN;
        }
        return afterTheFirst.apply(updates);
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stopAccepting();
        batchWriter.close();
        server.close();
        timer.shutdownNow();
    }

    private CompletableFuture<HttpResponse<String>> deliver(long updateId) {
        String body = "{\"update_id\":" + updateId + ",\"message\":{\"message_id\":1,\"date\":1700000000,"
                + "\"chat\":{\"id\":" + updateId + ",\"type\":\"private\"},\"text\":\"hi\"}}";
        return http.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + PATH))
                        .header("Content-Type", "application/json")
                        .header(WebhookServer.SECRET_HEADER, SECRET)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** One delivery whose batch is being written (held), and {@code n} more waiting for the next batch. */
    private List<CompletableFuture<HttpResponse<String>>> heldAndWaiting(int n) {
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        answers.add(deliver(1));
        Await.until("the first batch to start", TIMEOUT, () -> batches.size() == 1);
        for (long id = 2; id <= n + 1; id++) {
            answers.add(deliver(id));
        }
        Await.until(n + " deliveries to wait for the next batch", TIMEOUT, () -> batchWriter.waiting() == n);
        return answers;
    }

    @Test
    void givenMoreWaitingDeliveriesThanRequestThreads_whenTheirBatchIsWritten_thenEachIsAnswered200OnlyThen()
            throws Exception {
        // given: ten deliveries waiting behind a batch being written, on two request threads
        List<CompletableFuture<HttpResponse<String>>> answers = heldAndWaiting(10);

        // then: nobody is answered while its batch is not written
        answers.forEach(a -> assertFalse(a.isDone(), "answered before its batch was written"));

        // when: the batch in progress is written
        release.countDown();

        // then: every delivery is answered 200, the ten after the first in one batch
        for (CompletableFuture<HttpResponse<String>> a : answers) {
            assertEquals(200, a.get(20, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(2, batches.size(), batches.toString());
        assertEquals(List.of(1L), batches.get(0));
        assertEquals(
                List.of(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L),
                batches.get(1).stream().sorted().toList());
    }

    @Test
    void givenABatchWhoseWriteFails_whenItsDeliveriesAreAnswered_thenEachGetsARetryableErrorAndOthersAreUnaffected()
            throws Exception {
        // given: the batch after the first fails unexpectedly (a bug, or an error no outcome covers)
        afterTheFirst = updates -> {
            throw new IllegalStateException("the writer broke");
        };
        List<CompletableFuture<HttpResponse<String>>> answers = heldAndWaiting(5);

        // when
        release.countDown();

        // then: the first batch's delivery is answered 200; each of the failed batch's is answered 500 with a
        // Retry-After, so Telegram delivers it again
        assertEquals(200, answers.get(0).get(20, TimeUnit.SECONDS).statusCode());
        for (CompletableFuture<HttpResponse<String>> a : answers.subList(1, answers.size())) {
            HttpResponse<String> response = a.get(20, TimeUnit.SECONDS);
            assertEquals(500, response.statusCode());
            assertEquals("1", response.headers().firstValue("Retry-After").orElse(null));
        }

        // and when: Telegram retries one of them and the writer works again
        afterTheFirst = updates -> WriteOutcome.WRITTEN;

        // then
        assertEquals(200, deliver(2).get(20, TimeUnit.SECONDS).statusCode());
    }

    @Test
    void givenABatchThatIsNotWritten_whenItsDeliveriesAreAnswered_thenEachGets503() throws Exception {
        // given: the batch after the first is not acknowledged in time
        afterTheFirst = updates -> WriteOutcome.TIMED_OUT;
        List<CompletableFuture<HttpResponse<String>>> answers = heldAndWaiting(3);

        // when
        release.countDown();

        // then
        assertEquals(200, answers.get(0).get(20, TimeUnit.SECONDS).statusCode());
        for (CompletableFuture<HttpResponse<String>> a : answers.subList(1, answers.size())) {
            HttpResponse<String> response = a.get(20, TimeUnit.SECONDS);
            assertEquals(503, response.statusCode());
            assertEquals("1", response.headers().firstValue("Retry-After").orElse(null));
        }
    }
}

package dev.thoughtstream.ingest.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.ingest.write.UpdateWriter;
import dev.thoughtstream.ingest.write.WriteOutcome;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook's group commit on its own: deliveries that wait while a batch is being written go out together in
 * the next one, each answered with its batch's outcome, none later than its own deadline. The writer here stands
 * for {@link UpdateWriter#writeWithin} (Kafka and Redis are covered by WebhookIngestTest); it records the batches
 * and can be held.
 */
class WebhookBatchesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final List<List<Long>> batches = new CopyOnWriteArrayList<>();
    private final List<Duration> timeouts = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean holdFirst = true;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final WebhookBatches webhook = new WebhookBatches(
            (updates, timeout) -> {
                batches.add(
                        updates.stream().map(u -> u.path("update_id").asLong()).toList());
                timeouts.add(timeout);
                if (holdFirst) {
                    holdFirst = false;
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return WriteOutcome.CLOSED;
                    }
                }
                return WriteOutcome.WRITTEN;
            },
            timer);

    @AfterEach
    void stop() {
        release.countDown();
        webhook.close();
        timer.shutdownNow();
    }

    private static JsonNode update(long id) {
        return Json.mapper().createObjectNode().put("update_id", id);
    }

    private CompletableFuture<WriteOutcome> deliver(long id, Duration timeout) {
        return webhook.submit(update(id), timeout);
    }

    @Test
    void givenABatchInProgress_whenMoreDeliveriesArrive_thenTheyAreWrittenTogetherInTheNextBatch() throws Exception {
        // given: one delivery whose batch is being written (held)
        CompletableFuture<WriteOutcome> first = deliver(1, TIMEOUT);
        Await.until("the first batch to start", TIMEOUT, () -> batches.size() == 1);

        // when: five more arrive meanwhile, and the first batch then completes
        List<CompletableFuture<WriteOutcome>> more = new ArrayList<>();
        for (long id = 2; id <= 6; id++) {
            more.add(deliver(id, TIMEOUT));
        }
        Await.until("the five to wait", TIMEOUT, () -> webhook.waiting() == 5);
        release.countDown();

        // then: the five share one batch, and every delivery is answered with its batch's outcome
        assertEquals(WriteOutcome.WRITTEN, first.get(20, TimeUnit.SECONDS));
        for (CompletableFuture<WriteOutcome> f : more) {
            assertEquals(WriteOutcome.WRITTEN, f.get(20, TimeUnit.SECONDS));
        }
        assertEquals(2, batches.size(), batches.toString());
        assertEquals(List.of(1L), batches.get(0));
        assertEquals(
                List.of(2L, 3L, 4L, 5L, 6L), batches.get(1).stream().sorted().toList());
    }

    @Test
    void givenADeliveryWaitsPastItsDeadline_whenItsTimeIsUp_thenItIsAnsweredTimedOutAndNeverWritten() throws Exception {
        // given: the writer busy with a held batch
        CompletableFuture<WriteOutcome> first = deliver(1, TIMEOUT);
        Await.until("the first batch to start", TIMEOUT, () -> batches.size() == 1);

        // when: a delivery with a short deadline waits behind it, and one with a long deadline too
        WriteOutcome hurried = deliver(2, Duration.ofMillis(200)).get(20, TimeUnit.SECONDS);
        CompletableFuture<WriteOutcome> patient = deliver(3, TIMEOUT);
        Await.until("the patient one to wait", TIMEOUT, () -> webhook.waiting() == 1);
        release.countDown();

        // then: the hurried one was answered TIMED_OUT (Telegram retries it) and is in no batch; the others are
        // written, the patient one in a batch that is given no more than its own time
        assertEquals(WriteOutcome.TIMED_OUT, hurried);
        assertEquals(WriteOutcome.WRITTEN, first.get(20, TimeUnit.SECONDS));
        assertEquals(WriteOutcome.WRITTEN, patient.get(20, TimeUnit.SECONDS));
        assertEquals(List.of(List.of(1L), List.of(3L)), batches);
        assertTrue(timeouts.get(1).compareTo(TIMEOUT) <= 0, "a batch's time is its members' least: " + timeouts);
    }

    @Test
    void givenDeliveriesWaiting_whenClosed_thenTheyAreAnsweredClosed() throws Exception {
        // given
        CompletableFuture<WriteOutcome> first = deliver(1, TIMEOUT);
        Await.until("the first batch to start", TIMEOUT, () -> batches.size() == 1);
        CompletableFuture<WriteOutcome> waiting = deliver(2, TIMEOUT);
        Await.until("the second to wait", TIMEOUT, () -> webhook.waiting() == 1);

        // when: closed while the first batch is still held, then the batch completes
        CompletableFuture<Void> closing = CompletableFuture.runAsync(webhook::close);
        Await.until("the waiting delivery to be answered", TIMEOUT, waiting::isDone);
        release.countDown();
        closing.get(20, TimeUnit.SECONDS);

        // then: the waiting one is answered CLOSED (503: Telegram keeps it), the batch in progress finishes
        assertEquals(WriteOutcome.CLOSED, waiting.get());
        assertEquals(WriteOutcome.WRITTEN, first.get(20, TimeUnit.SECONDS));
        assertEquals(WriteOutcome.CLOSED, deliver(3, TIMEOUT).get(), "nothing new after close");
        assertEquals(1, batches.size());
    }
}

package dev.thoughtstream.testkit.telegram;

import static dev.thoughtstream.testkit.telegram.QueuedUpdates.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thoughtstream.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The rules by which the emulator hands webhook deliveries out, as the Bot API server's {@code WebhookActor} does,
 * checked on the queue itself with a clock the test moves: what is due is asked without waiting, so every step is
 * exact (no HTTP, no threads).
 */
class WebhookDeliveryRulesTest {
    private static final String URL = "http://127.0.0.1:9/hook";
    /** Telegram's cap is drawn between 60 and 120 s; these pick one end. */
    private static final LongBinaryOperator LOWEST_CAP = (origin, bound) -> origin;

    private static final LongBinaryOperator HIGHEST_CAP = (origin, bound) -> bound;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));

    private UpdateQueue queue(LongBinaryOperator capDraw) {
        return new UpdateQueue(
                1,
                clock,
                new WebhookRetryPolicy(
                        WebhookRetryPolicy.TELEGRAM_FIRST_DELAY, WebhookRetryPolicy.TELEGRAM_MAX_DELAY, capDraw));
    }

    private static String text(UpdateQueue.Delivery d) {
        return d.update().at("/message/text").asText();
    }

    /** Takes everything due now. */
    private static List<UpdateQueue.Delivery> due(UpdateQueue queue) {
        List<UpdateQueue.Delivery> all = new ArrayList<>();
        for (UpdateQueue.Delivery d = queue.pollDelivery(); d != null; d = queue.pollDelivery()) {
            all.add(d);
        }
        return all;
    }

    private void fail(UpdateQueue queue, UpdateQueue.Delivery d) {
        queue.deliveryFailed(d, "Wrong response from the webhook: 500 Internal Server Error", 0);
    }

    @Test
    void atMostMaxConnectionsGoOutAtOnceAndNeverTwoOfOneChat() {
        // given a webhook of three connections and five chats that wrote twice each
        UpdateQueue queue = queue(LOWEST_CAP);
        for (int round = 1; round <= 2; round++) {
            for (long chat = 61; chat <= 65; chat++) {
                message(queue, chat, chat + "/" + round);
            }
        }
        queue.setWebhook(URL, null, false, 3);

        // when everything due is taken
        List<UpdateQueue.Delivery> first = due(queue);

        // then three go out, the first message of three different chats
        assertEquals(
                List.of("61/1", "62/1", "63/1"),
                first.stream().map(WebhookDeliveryRulesTest::text).toList());

        // when one is answered
        queue.delivered(first.get(1));

        // then exactly one more goes out, and it is not chat 61's or 63's second (their first is still in flight)
        List<UpdateQueue.Delivery> second = due(queue);
        assertEquals(
                List.of("62/2"),
                second.stream().map(WebhookDeliveryRulesTest::text).toList());
    }

    @Test
    void aBacklogGoesOutInChatIdOrderWhileEachChatKeepsItsOwnOrder() {
        // given people who wrote before the webhook was set, the highest chat id first
        UpdateQueue queue = queue(LOWEST_CAP);
        message(queue, 900, "900/1");
        message(queue, 5, "5/1");
        message(queue, -100300, "group/1");
        message(queue, 900, "900/2");
        message(queue, 5, "5/2");
        clock.advance(Duration.ofSeconds(1));
        queue.setWebhook(URL, null, false, 40);

        // when they are delivered one after the other
        List<String> sent = new ArrayList<>();
        for (UpdateQueue.Delivery d = queue.pollDelivery(); d != null; d = queue.pollDelivery()) {
            sent.add(text(d));
            queue.delivered(d);
        }

        // then the server's order: queues ready at the same moment by queue (chat) id, each chat in its order
        assertEquals(List.of("group/1", "5/1", "5/2", "900/1", "900/2"), sent);
        assertEquals(0, queue.pendingCount());
    }

    @Test
    void updatesMadeWhileTheWebhookIsSetGoOutInTheOrderTheyWereMade() {
        // given a live webhook
        UpdateQueue queue = queue(LOWEST_CAP);
        queue.setWebhook(URL, null, false, 1);

        // when chat 900 writes a moment before chat 5
        message(queue, 900, "900/1");
        clock.advance(Duration.ofMillis(1));
        message(queue, 5, "5/1");

        // then 900's goes first: it became ready first
        UpdateQueue.Delivery d = queue.pollDelivery();
        assertEquals("900/1", text(d));
    }

    @Test
    void aFailedUpdateIsRetriedAtOnceThenAfterDoublingDelaysUpToACapBetween60And120Seconds() {
        assertRetrySchedule(queue(LOWEST_CAP), List.of(0L, 2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L));
        assertRetrySchedule(queue(HIGHEST_CAP), List.of(0L, 2L, 4L, 8L, 16L, 32L, 64L, 120L, 120L));
    }

    /** Fails chat 7's update again and again; each retry must be due exactly {@code seconds} after the failure. */
    private void assertRetrySchedule(UpdateQueue queue, List<Long> seconds) {
        queue.setWebhook(URL, null, false, 40);
        message(queue, 7, "failing");
        message(queue, 7, "behind it");
        UpdateQueue.Delivery d = queue.pollDelivery();
        for (long wait : seconds) {
            fail(queue, d);
            if (wait > 0) {
                clock.advance(Duration.ofSeconds(wait).minusMillis(1));
                assertNull(queue.pollDelivery(), "not yet due after " + wait + " s minus 1 ms");
                // Another chat is not held up by chat 7's wait.
                message(queue, 1000 + wait, "other chat");
                UpdateQueue.Delivery other = queue.pollDelivery();
                assertEquals("other chat", text(other));
                queue.delivered(other);
                clock.advance(Duration.ofMillis(1));
            }
            d = queue.pollDelivery();
            assertNotNull(d, "due " + wait + " s after the failure");
            assertEquals("failing", text(d), "chat 7's next update waits behind the failing one");
        }
        queue.delivered(d);
        assertEquals("behind it", text(queue.pollDelivery()));
        assertEquals(seconds.size(), queue.webhookInfo().failedAttempts());
    }

    @Test
    void aRetryAfterHeaderSetsTheWaitAndTheDelayDoesNotGrowMeanwhile() {
        // given an update that failed twice already (its next delay would be 4 s)
        UpdateQueue queue = queue(LOWEST_CAP);
        queue.setWebhook(URL, null, false, 40);
        message(queue, 7, "x");
        fail(queue, queue.pollDelivery());
        fail(queue, queue.pollDelivery());
        clock.advance(Duration.ofSeconds(2));

        // when the webhook answers 503 with Retry-After: 1, three times
        for (int i = 0; i < 3; i++) {
            UpdateQueue.Delivery d = queue.pollDelivery();
            assertNotNull(d);
            assertEquals(1000, queue.deliveryFailed(d, "Wrong response from the webhook: 503 Service Unavailable", 1));
            clock.advance(Duration.ofSeconds(1));
        }

        // then the next failure without the header waits 4 s, where the doubling had stopped
        assertEquals(4000, queue.deliveryFailed(queue.pollDelivery(), "Webhook connection closed", 0));

        // and a Retry-After above an hour counts as an hour
        clock.advance(Duration.ofSeconds(4));
        assertEquals(3_600_000, queue.deliveryFailed(queue.pollDelivery(), "busy", 86_400));
    }

    @Test
    void theLastErrorIsTheLatestFailureWithItsClockDateAndStaysAfterASuccess() {
        UpdateQueue queue = queue(LOWEST_CAP);
        queue.setWebhook(URL, null, false, 40);
        message(queue, 7, "x");
        clock.advance(Duration.ofSeconds(5));
        queue.deliveryFailed(queue.pollDelivery(), "Wrong response from the webhook: 502 Bad Gateway", 0);

        queue.delivered(queue.pollDelivery());

        WebhookInfo info = queue.webhookInfo();
        assertEquals(clock.instant().getEpochSecond(), info.lastErrorDate());
        assertEquals("Wrong response from the webhook: 502 Bad Gateway", info.lastErrorMessage());
        assertEquals(0, info.pendingUpdateCount());
        assertEquals(1, info.deliveredCount());

        // a new setWebhook starts clean, as Telegram's does
        queue.setWebhook(URL, null, false, 40);
        assertNull(queue.webhookInfo().lastErrorDate());
    }

    @Test
    void anUpdateThatWouldBeRetriedAfterItIsADayOldIsDroppedAndItsChatGoesOn() {
        // given chat 7's update failing for almost a day (on Telegram's full schedule)
        UpdateQueue queue = queue(HIGHEST_CAP);
        queue.setWebhook(URL, null, false, 40);
        long failing = message(queue, 7, "failing");
        clock.advance(Duration.ofHours(23).plusMinutes(59));
        long next = message(queue, 7, "made a minute before the first expires");
        UpdateQueue.Delivery d = queue.pollDelivery();
        fail(queue, d);
        d = queue.pollDelivery();
        assertEquals(failing, d.updateId());
        fail(queue, d);
        clock.advance(Duration.ofSeconds(2));
        d = queue.pollDelivery();

        // when it keeps failing until its next retry (4, 8, 16, then 32 s later) would come after its day is over
        long wait;
        int attempts = 0;
        do {
            wait = queue.deliveryFailed(d, "Wrong response from the webhook: 500 Internal Server Error", 0);
            if (wait >= 0) {
                clock.advance(Duration.ofMillis(wait));
                d = queue.pollDelivery();
                assertEquals(failing, d.updateId());
            }
            attempts++;
        } while (wait >= 0 && attempts < 20);

        // then it is dropped without a delivery, counted, and chat 7's next update goes out
        assertEquals(-1, wait);
        WebhookInfo info = queue.webhookInfo();
        assertEquals(1, info.expiredCount());
        assertEquals(1, info.pendingUpdateCount());
        assertEquals(0, info.deliveredCount());
        assertEquals(failing + 1, queue.confirmedOffset());
        assertEquals(next, queue.pollDelivery().updateId());
    }

    @Test
    void anUpdateNobodyFetchesForADayIsDropped() {
        // given updates waiting with no webhook and no poller
        UpdateQueue queue = queue(LOWEST_CAP);
        long old = message(queue, 7, "old");
        clock.advance(Duration.ofHours(12));
        long younger = message(queue, 8, "younger");

        // when a day has passed since the first
        clock.advance(Duration.ofHours(12));

        // then it is gone, for getUpdates and the webhook alike; the younger one stays
        assertEquals(1, queue.pendingCount());
        assertEquals(old + 1, queue.confirmedOffset());
        assertEquals(
                List.of(younger),
                queue.poll(0, 100, 0).stream()
                        .map(u -> u.path("update_id").asLong())
                        .toList());
        queue.setWebhook(URL, null, false, 40);
        assertEquals(younger, queue.pollDelivery().updateId());
    }
}

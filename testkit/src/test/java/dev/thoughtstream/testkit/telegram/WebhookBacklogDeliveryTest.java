package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thoughtstream.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How a backlog with many updates per chat in a row goes out to a webhook: the rules of
 * {@link WebhookDeliveryRulesTest} (one update in flight per chat, only the first {@code 2 * max_connections} chats
 * looked at, equally ready chats by chat id) hold however the chats' updates are interleaved, and updates that leave
 * the queue otherwise (confirmed by getUpdates, expired) leave their chat's place in it too. Checked on the queue
 * itself with a clock the test moves, without waiting.
 */
class WebhookBacklogDeliveryTest {
    private static final String URL = "http://127.0.0.1:9/hook";

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));

    private final UpdateQueue queue = new UpdateQueue(
            1,
            clock,
            new WebhookRetryPolicy(
                    WebhookRetryPolicy.TELEGRAM_FIRST_DELAY,
                    WebhookRetryPolicy.TELEGRAM_MAX_DELAY,
                    (origin, bound) -> origin));

    private long message(long chatId, String text) {
        return QueuedUpdates.message(queue, chatId, text);
    }

    /** Each chat writes {@code perChat} messages ("chat/n") before the next chat writes any. */
    private void chatAfterChat(int perChat, long... chats) {
        for (long chat : chats) {
            for (int n = 1; n <= perChat; n++) {
                message(chat, chat + "/" + n);
            }
        }
    }

    private static String text(UpdateQueue.Delivery d) {
        return d.update().at("/message/text").asText();
    }

    /** Takes everything due now. */
    private List<UpdateQueue.Delivery> due() {
        List<UpdateQueue.Delivery> all = new ArrayList<>();
        for (UpdateQueue.Delivery d = queue.pollDelivery(); d != null; d = queue.pollDelivery()) {
            all.add(d);
        }
        return all;
    }

    private static List<String> texts(List<UpdateQueue.Delivery> deliveries) {
        return deliveries.stream().map(WebhookBacklogDeliveryTest::text).toList();
    }

    /** Delivers what is due one by one, each answered before the next is asked for, until nothing is. */
    private List<String> deliverOneByOne() {
        List<String> sent = new ArrayList<>();
        for (UpdateQueue.Delivery d = queue.pollDelivery(); d != null; d = queue.pollDelivery()) {
            sent.add(text(d));
            queue.delivered(d);
        }
        return sent;
    }

    @Test
    void withManyUpdatesPerChatInARowOnlyTheFirstTwiceMaxConnectionsChatsAreLookedAt() {
        // given chats 30, 20 and 10 that wrote five messages each, one chat after the other, before the webhook
        chatAfterChat(5, 30, 20, 10);
        clock.advance(Duration.ofSeconds(1));

        // when a webhook of one connection takes them one at a time
        queue.setWebhook(URL, null, false, 1);
        UpdateQueue.Delivery first = queue.pollDelivery();

        // then the server looks at two chats, 30 and 20 (the first two to appear), and takes the lower id;
        // chat 10 comes in only once chat 20 has nothing left, and one connection carries one update at a time
        assertEquals("20/1", text(first));
        assertNull(queue.pollDelivery(), "one connection: nothing more while 20/1 is in flight");
        queue.delivered(first);
        List<String> rest = deliverOneByOne();
        assertEquals(
                List.of(
                        "20/2", "20/3", "20/4", "20/5", "10/1", "10/2", "10/3", "10/4", "10/5", "30/1", "30/2", "30/3",
                        "30/4", "30/5"),
                rest);
        assertEquals(0, queue.pendingCount());
        assertEquals(15, queue.webhookInfo().deliveredCount());
    }

    @Test
    void aChatsSecondUpdateWaitsForItsFirstEvenWhenItsChatHasTheLowestId() {
        // given chats 30, 20 and 10 that wrote five messages each, one chat after the other, before the webhook
        chatAfterChat(5, 30, 20, 10);
        clock.advance(Duration.ofSeconds(1));

        // when a webhook of two connections takes everything due
        queue.setWebhook(URL, null, false, 2);
        List<UpdateQueue.Delivery> first = due();

        // then the two lowest chats' first messages go out, not two of chat 10's
        assertEquals(List.of("10/1", "20/1"), texts(first));

        // when chat 10's first is answered
        queue.delivered(first.get(0));

        // then chat 10's second goes out: it is as ready as chat 30's first and its chat id is lower
        List<UpdateQueue.Delivery> second = due();
        assertEquals(List.of("10/2"), texts(second));

        // when chat 20's first is answered, its second follows
        queue.delivered(first.get(1));
        assertEquals(List.of("20/2"), texts(due()));
    }

    @Test
    void updatesConfirmedByGetUpdatesLeaveAndTheNextChatMovesIntoTheWindow() {
        // given chats 30, 20 and 10 that wrote three messages each, one chat after the other
        chatAfterChat(3, 30, 20, 10);

        // when a poller confirms the first four (all of chat 30's and chat 20's first)
        List<Long> answered = queue.poll(5, 100, 0).stream()
                .map(u -> u.path("update_id").asLong())
                .toList();
        assertEquals(List.of(5L, 6L, 7L, 8L, 9L), answered);

        // and a webhook of one connection (two chats looked at) takes over
        clock.advance(Duration.ofSeconds(1));
        queue.setWebhook(URL, null, false, 1);

        // then the chats looked at are 20 and 10, the lower goes first, and only what was left is sent, in order
        assertEquals(List.of("10/1", "10/2", "10/3", "20/2", "20/3"), deliverOneByOne());
        assertEquals(0, queue.pendingCount());
        assertEquals(10, queue.confirmedOffset());
    }

    @Test
    void updatesThatExpireBehindAChatsUpdateInFlightAreDroppedAndTheChatGoesOnWithItsNextUpdate() {
        // given chat 7's first of three messages in flight
        queue.setWebhook(URL, null, false, 40);
        long inFlight = message(7, "in flight");
        message(7, "behind it");
        message(7, "further behind");
        UpdateQueue.Delivery d = queue.pollDelivery();
        assertEquals(inFlight, d.updateId());

        // when a day passes before its answer comes
        clock.advance(Duration.ofDays(1));

        // then the two behind it are dropped while the one in flight waits for its answer
        assertEquals(1, queue.pendingCount());
        assertEquals(2, queue.webhookInfo().expiredCount());
        assertNull(queue.pollDelivery(), "chat 7's update is still in flight");

        // when the answer comes, nothing of chat 7 is left, and its next message goes out
        queue.delivered(d);
        assertEquals(0, queue.pendingCount());
        assertEquals(inFlight + 3, queue.confirmedOffset());
        message(7, "next day");
        assertEquals(List.of("next day"), deliverOneByOne());
    }
}

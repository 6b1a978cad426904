package dev.thoughtstream.emitter.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pacer's rules, on time the test controls: buckets per chat, windows per group and overall, fair queueing. */
class SendPacerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final ManualScheduler time = new ManualScheduler();
    private final EmitterMetrics metrics = new EmitterMetrics(new Metrics());
    private final List<Long> granted = new CopyOnWriteArrayList<>();
    private final List<SendPacer.Permit> permits = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        time.shutdownNow();
    }

    private SendPacer pacer(double chatPerSecond, int burst, int groupPerMinute, int globalPerSecond) {
        return new SendPacer(time.clock(), time, chatPerSecond, burst, groupPerMinute, globalPerSecond, metrics);
    }

    /** Asks for a permit; returns it when granted at once, else null (then {@link #granted} records it later). */
    private SendPacer.Permit ask(SendPacer pacer, long chatId) {
        SendPacer.Request request = pacer.acquire(chatId, p -> {
            granted.add(chatId);
            permits.add(p);
        });
        return request.grantedNow();
    }

    @Test
    void aChatSpendsItsBurstAtOnceAndThenGetsATokenPerSecond() {
        SendPacer pacer = pacer(1, 3, 0, 0);

        // three at once
        for (int i = 0; i < 3; i++) {
            atOnce(ask(pacer, 1)).release(true);
        }
        // the fourth after a second
        assertNull(ask(pacer, 1));
        assertEquals(List.of(Duration.ofSeconds(1)), time.pendingDelays());
        time.advance(Duration.ofMillis(999));
        assertTrue(granted.isEmpty());
        time.advance(Duration.ofMillis(1));
        Await.until("the fourth permit", TIMEOUT, () -> granted.equals(List.of(1L)));
        // and another chat was never affected
        atOnce(ask(pacer, 2));
        assertEquals(1, metrics.rateLimitedCount("chat"));
    }

    @Test
    void aTokenTakenForAMessageThatWasNeverSentIsGivenBack() {
        SendPacer pacer = pacer(1, 1, 0, 0);

        atOnce(ask(pacer, 1)).release(false);

        atOnce(ask(pacer, 1), "the unused token is back");
    }

    @Test
    void theGlobalWindowCountsSendsFromTheirStartUntilASecondAfterTheirAnswer() {
        SendPacer pacer = pacer(0, 1, 0, 2);

        // two sends on their way fill the window
        SendPacer.Permit a = atOnce(ask(pacer, 1));
        SendPacer.Permit b = atOnce(ask(pacer, 2));
        assertNull(ask(pacer, 3));
        // an answer frees nothing at once: the slot stays taken for a second after it
        time.advance(Duration.ofMillis(300));
        a.release(true);
        assertEquals(List.of(Duration.ofSeconds(1)), time.pendingDelays());
        time.advance(Duration.ofMillis(999));
        assertTrue(granted.isEmpty());
        time.advance(Duration.ofMillis(1));
        Await.until("chat 3's permit", TIMEOUT, () -> granted.equals(List.of(3L)));
        // while a send that never went out gives its slot back at once
        assertNull(ask(pacer, 4));
        b.release(false);
        Await.until("chat 4's permit", TIMEOUT, () -> granted.equals(List.of(3L, 4L)));
        assertEquals(2, metrics.rateLimitedCount("global"));
    }

    @Test
    void chatsWaitingForTheGlobalWindowAreServedInArrivalOrder() {
        SendPacer pacer = pacer(0, 1, 0, 1);
        SendPacer.Permit first = atOnce(ask(pacer, 1));

        // three more chats ask while the window is full
        assertNull(ask(pacer, 2));
        assertNull(ask(pacer, 3));
        assertNull(ask(pacer, 4));
        first.release(false);
        Await.until("chat 2 first", TIMEOUT, () -> granted.equals(List.of(2L)));
        permits.get(0).release(false);
        Await.until("then chat 3", TIMEOUT, () -> granted.equals(List.of(2L, 3L)));
        permits.get(1).release(false);
        Await.until("then chat 4", TIMEOUT, () -> granted.equals(List.of(2L, 3L, 4L)));
    }

    @Test
    void aCancelledRequestIsSkippedAndAPermitGrantedMeanwhileGoesToTheNext() {
        SendPacer pacer = pacer(0, 1, 0, 1);
        SendPacer.Permit first = atOnce(ask(pacer, 1));
        SendPacer.Request gone = pacer.acquire(2, p -> granted.add(2L));
        assertNull(ask(pacer, 3));

        gone.cancel();
        first.release(false);

        Await.until("chat 3 served", TIMEOUT, () -> granted.equals(List.of(3L)));
    }

    @Test
    void aGroupChatGetsItsMessagesPerMinuteAndAPrivateChatIsNotCounted() {
        SendPacer pacer = pacer(0, 1, 2, 0);

        atOnce(ask(pacer, -7)).release(true);
        atOnce(ask(pacer, -7)).release(true);
        assertNull(ask(pacer, -7));
        assertEquals(List.of(Duration.ofMinutes(1)), time.pendingDelays());
        for (int i = 0; i < 5; i++) {
            atOnce(ask(pacer, 7)).release(true);
        }
        time.advance(Duration.ofMinutes(1));
        Await.until("the group's third message", TIMEOUT, () -> granted.equals(List.of(-7L)));
        assertEquals(1, metrics.rateLimitedCount("group"));
    }

    private static SendPacer.Permit atOnce(SendPacer.Permit permit) {
        return atOnce(permit, "a permit at once");
    }

    private static SendPacer.Permit atOnce(SendPacer.Permit permit, String message) {
        assertNotNull(permit, message);
        return permit;
    }
}

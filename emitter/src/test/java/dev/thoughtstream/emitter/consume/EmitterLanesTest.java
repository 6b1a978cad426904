package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.ApiCall;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Chats are independent: one chat's wait never holds up another, even on the same partition. */
class EmitterLanesTest {
    private static final long SLOW = 5_101;

    private EmitterFixture fx;
    private long quick;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("lanes");
        // Both chats on one partition: the poll loop and the partition's offsets must not tie them together.
        quick = fx.chatsOnThePartitionOf(SLOW, 2).get(1);
        fx.chatOpens(SLOW);
        fx.chatOpens(quick);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aLongTypingDelayInOneChatDoesNotHoldUpAnotherChatOfTheSamePartition() {
        // given typing at 10 characters a second, up to a minute
        fx.startEmitter(Map.of("TYPING_CPS", "10", "TYPING_MIN_MS", "0", "TYPING_MAX_MS", "60000"));

        // when a long part for one chat (a minute of typing) comes before two short ones for another chat
        fx.produce(EmitterFixture.part(SLOW, "r-slow", 0, true, "x".repeat(600)));
        Await.until("the slow chat typing", EmitterFixture.TIMEOUT, () -> fx.typingCalls(SLOW) == 1);
        fx.produce(EmitterFixture.part(quick, "r-quick", 0, false, "hi"));
        fx.produce(EmitterFixture.part(quick, "r-quick", 1, true, "there"));

        // then the other chat gets its parts, in order, while the first is still typing
        assertEquals(List.of("hi", "there"), fx.awaitBotTexts(quick, 2));
        assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-quick", 1).outcome());
        assertTrue(fx.emulator.botTexts(SLOW).isEmpty(), "the slow chat is still typing");
    }

    @Test
    void aRetryAfterInOneChatDoesNotHoldUpAnotherChat() {
        // given Telegram rate-limits the slow chat's next message for 3 s
        fx.startEmitter(Map.of("TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"));
        fx.emulator.addFault("sendMessage", 429, 3, 1, SLOW, null);

        // when the slow chat's part is followed by the other chat's parts
        fx.produce(EmitterFixture.part(SLOW, "r-wait", 0, true, "after the wait"));
        Await.until("the 429", EmitterFixture.TIMEOUT, () -> fx.sendMessageCalls(SLOW) == 1);
        fx.produce(EmitterFixture.part(quick, "r-go", 0, false, "meanwhile"));
        fx.produce(EmitterFixture.part(quick, "r-go", 1, true, "still meanwhile"));

        // then the other chat's parts go out during the wait
        assertEquals(List.of("meanwhile", "still meanwhile"), fx.awaitBotTexts(quick, 2));
        // and the rate-limited part follows once retry_after has passed, not before
        assertEquals(List.of("after the wait"), fx.awaitBotTexts(SLOW, 1));
        // (the emulator shows a text before it logs the call that sent it)
        Await.until("the retried call logged", EmitterFixture.TIMEOUT, () -> fx.sendMessageCalls(SLOW) == 2);
        List<ApiCall> slowCalls = fx.emulator.calls("sendmessage").stream()
                .filter(c -> Long.toString(SLOW).equals(c.param("chat_id")))
                .toList();
        assertEquals(List.of(429, 200), slowCalls.stream().map(ApiCall::status).toList());
        assertTrue(slowCalls.get(1).at() - slowCalls.get(0).at() >= 3_000, slowCalls.toString());
        long quickDone = fx.emulator.calls("sendmessage").stream()
                .filter(c -> Long.toString(quick).equals(c.param("chat_id")))
                .mapToLong(ApiCall::at)
                .max()
                .orElseThrow();
        assertTrue(quickDone <= slowCalls.get(1).at(), "the other chat was served during the wait");
    }

    @Test
    void theTypingIndicatorIsRefreshedEveryFourSecondsDuringALongDelay() {
        // given a ten-second typing delay, on time the test controls
        ManualScheduler time = new ManualScheduler();
        fx.emitter()
                .with(Map.of("TYPING_MIN_MS", "10000", "TYPING_MAX_MS", "10000"))
                .scheduler(time)
                .start();

        // when a part arrives
        fx.produce(EmitterFixture.part(SLOW, "r-typing", 0, true, "ten seconds in the making"));

        // then "typing..." shows at once, and again at 4 s and 8 s (Telegram clears it after 5 s)
        Await.until(
                "typing at 0 s",
                EmitterFixture.TIMEOUT,
                () -> fx.typingCalls(SLOW) == 1
                        && time.pendingDelays().equals(List.of(Duration.ofSeconds(4), Duration.ofSeconds(10))));
        time.advance(Duration.ofSeconds(4));
        Await.until("typing at 4 s", EmitterFixture.TIMEOUT, () -> fx.typingCalls(SLOW) == 2);
        time.advance(Duration.ofSeconds(4));
        Await.until(
                "typing at 8 s",
                EmitterFixture.TIMEOUT,
                () -> fx.typingCalls(SLOW) == 3 && time.pendingDelays().equals(List.of(Duration.ofSeconds(2))));
        assertTrue(fx.emulator.botTexts(SLOW).isEmpty(), "nothing sent before the delay is over");

        // and the message goes out at 10 s, with no further refresh
        time.advance(Duration.ofSeconds(2));
        assertEquals(List.of("ten seconds in the making"), fx.awaitBotTexts(SLOW, 1));
        assertEquals(List.of("typing", "typing", "typing", "message"), fx.botSteps(SLOW));
    }

    @Test
    void aDelayOfExactlyFourSecondsNeedsNoRefresh() {
        // given a four-second typing delay, on time the test controls
        ManualScheduler time = new ManualScheduler();
        fx.emitter()
                .with(Map.of("TYPING_MIN_MS", "4000", "TYPING_MAX_MS", "4000"))
                .scheduler(time)
                .start();

        // when a part arrives and the delay passes
        fx.produce(EmitterFixture.part(SLOW, "r-four", 0, true, "four"));
        Await.until(
                "typing",
                EmitterFixture.TIMEOUT,
                () -> fx.typingCalls(SLOW) == 1 && time.pendingDelays().equals(List.of(Duration.ofSeconds(4))));
        time.advance(Duration.ofSeconds(4));

        // then one typing action preceded the message
        fx.awaitBotTexts(SLOW, 1);
        assertEquals(List.of("typing", "message"), fx.botSteps(SLOW));
    }

    @Test
    void withTooManyPartsHeldThePartitionsPauseAndResumeLaterWithNothingLostOrReordered() {
        // given an emitter that may hold 3 parts, reading one record per poll, typing for a second on controlled time
        ManualScheduler time = new ManualScheduler();
        Metrics metrics = new Metrics();
        EmitterService emitter = fx.emitter()
                .with(Map.of(
                        "EMITTER_MAX_BUFFERED",
                        "3",
                        "KAFKA_CLIENT_MAX_POLL_RECORDS",
                        "1",
                        "TYPING_MIN_MS",
                        "1000",
                        "TYPING_MAX_MS",
                        "1000",
                        "EMITTER_CHAT_RATE_PER_S",
                        "0"))
                .scheduler(time)
                .metrics(metrics)
                .start();

        // when ten parts of one reply arrive
        for (int seq = 0; seq < 10; seq++) {
            fx.produce(EmitterFixture.part(SLOW, "r-many", seq, seq == 9, "part " + seq));
        }

        // then the emitter holds 3 of them and pauses its partitions, and says so on /metrics
        Await.until(
                "paused with 3 parts held",
                EmitterFixture.TIMEOUT,
                () -> emitter.pausedPartitions() > 0 && emitter.pendingParts() == 3);
        String scrape = metrics.scrape();
        assertTrue(scrape.contains("thoughtstream_emitter_pending_parts 3"), scrape);
        assertTrue(scrape.contains("thoughtstream_emitter_lanes 1"), scrape);

        // and as the parts go out it resumes, and every part reaches the person once, in order
        List<String> expected = new java.util.ArrayList<>();
        for (int seq = 0; seq < 10; seq++) {
            expected.add("part " + seq);
            int sent = seq + 1;
            Await.until(
                    "part " + seq + " typing",
                    EmitterFixture.TIMEOUT,
                    () -> time.pendingDelays().equals(List.of(Duration.ofSeconds(1))));
            time.advance(Duration.ofSeconds(1));
            fx.awaitBotTexts(SLOW, sent);
        }
        assertEquals(expected, fx.emulator.botTexts(SLOW));
        Await.until("resumed", EmitterFixture.TIMEOUT, () -> emitter.pausedPartitions() == 0);
        Await.until(
                "all reported",
                EmitterFixture.TIMEOUT,
                () -> metrics.scrape().contains("thoughtstream_emitter_parts_total{outcome=\"sent\"} 10"));
        assertTrue(
                metrics.scrape().contains("thoughtstream_emitter_first_part_delay_seconds_count 1"), metrics.scrape());
    }
}

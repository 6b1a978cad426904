package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.testkit.telegram.ApiCall;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the emitter lives with Telegram's refusals: wait when told, retry what is retryable, give up on the rest. */
class EmitterTelegramFailuresTest {
    private static final long CHAT = 4_401;
    private static final long OTHER_CHAT = 4_402;

    private EmitterFixture fx;
    private RecordingPause pause;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("tg-failures");
        fx.chatOpens(CHAT);
        fx.chatOpens(OTHER_CHAT);
        // Real waiting, recorded, so the test can tell which waits the emitter chose.
        pause = new RecordingPause(true);
        fx.startEmitter(Map.of("TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"), fx.claims, pause);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void rateLimitedSendWaitsRetryAfterAndThenSends() {
        // given Telegram rate-limits the next sendMessage with retry_after = 1 s
        fx.emulator.addFault("sendMessage", 429, 1, 1, CHAT, null);

        // when a part is emitted
        fx.produce(EmitterFixture.part(CHAT, "r-429", 0, true, "patience"));

        // then it is sent after waiting what Telegram asked for
        assertEquals(List.of("patience"), fx.awaitBotTexts(CHAT, 1));
        List<ApiCall> calls = fx.emulator.calls("sendmessage");
        assertEquals(List.of(429, 200), calls.stream().map(ApiCall::status).toList());
        assertTrue(pause.pauses().contains(Duration.ofSeconds(1)), pause.pauses().toString());
        assertTrue(calls.get(1).at() - calls.get(0).at() >= 1_000,
                "the retry came " + (calls.get(1).at() - calls.get(0).at()) + " ms after the 429");
        Delivery d = fx.awaitOutcomeOf("r-429", 0).get(0);
        assertEquals(Delivery.Outcome.SENT, d.outcome());
    }

    @Test
    void aBlockedChatFailsAtOnceWithoutRetriesAndOtherChatsStillGetTheirParts() {
        // given the person in CHAT blocked the bot
        fx.emulator.block(CHAT);

        // when a part for the blocked chat is followed by parts for another chat
        fx.produce(EmitterFixture.part(CHAT, "r-blocked", 0, true, "you won't see this"));
        fx.produce(EmitterFixture.part(OTHER_CHAT, "r-open", 0, false, "hello"));
        fx.produce(EmitterFixture.part(OTHER_CHAT, "r-open", 1, true, "again"));

        // then the blocked part is reported FAILED with Telegram's reason after exactly one attempt
        Delivery blocked = fx.awaitOutcomeOf("r-blocked", 0).stream()
                .filter(d -> d.replyId().equals("r-blocked")).findFirst().orElseThrow();
        assertEquals(Delivery.Outcome.FAILED, blocked.outcome());
        assertTrue(blocked.reason().startsWith("403"), blocked.reason());
        assertEquals(1, fx.sendMessageCalls(CHAT));
        // and the other chat's parts still go out
        assertEquals(List.of("hello", "again"), fx.awaitBotTexts(OTHER_CHAT, 2));
        assertEquals(1, fx.sendMessageCalls(CHAT), "no retry loop for the blocked chat");
    }

    @Test
    void serverErrorsAreRetriedWithBackoffUntilTheSendSucceeds() {
        // given Telegram answers 500 to the next two sendMessage calls
        fx.emulator.addFault("sendMessage", 500, 0, 2, CHAT, null);

        // when a part is emitted
        fx.produce(EmitterFixture.part(CHAT, "r-500", 0, true, "third time lucky"));

        // then it is sent on the third attempt, after two growing backoffs
        assertEquals(List.of("third time lucky"), fx.awaitBotTexts(CHAT, 1));
        assertEquals(List.of(500, 500, 200), fx.emulator.calls("sendmessage").stream().map(ApiCall::status).toList());
        List<Duration> waits = pause.pauses().stream().filter(d -> !d.isZero()).toList();
        assertEquals(2, waits.size(), waits.toString());
        assertTrue(waits.get(1).compareTo(waits.get(0)) > 0, "backoff grows: " + waits);
        assertEquals(Delivery.Outcome.SENT, fx.awaitOutcomeOf("r-500", 0).get(0).outcome());
    }

    @Test
    void aRequestTelegramRejectsIsReportedFailedWithoutRetrying() {
        // given Telegram rejects the next sendMessage as a bad request
        fx.emulator.addFault("sendMessage", 400, 0, 1, CHAT, "Bad Request: message is too long");

        // when a part is emitted, followed by another
        fx.produce(EmitterFixture.part(CHAT, "r-400", 0, false, "too long, supposedly"));
        fx.produce(EmitterFixture.part(CHAT, "r-400", 1, true, "short"));

        // then the first is FAILED with Telegram's description and only the second is shown
        List<Delivery> all = fx.awaitOutcomeOf("r-400", 1);
        Delivery rejected = all.stream().filter(d -> d.seq() == 0).findFirst().orElseThrow();
        assertEquals(Delivery.Outcome.FAILED, rejected.outcome());
        assertTrue(rejected.reason().contains("message is too long"), rejected.reason());
        assertEquals(List.of("short"), fx.emulator.botTexts(CHAT));
        assertEquals(2, fx.sendMessageCalls(CHAT));
    }

    @Test
    void aPartTelegramBotsRefusesToSendFailsAtOnceWithoutTouchingTheNetwork() {
        // when a part with empty text (TelegramBots' own validation rejects it) is followed by a good one
        fx.produce(EmitterFixture.part(CHAT, "r-empty", 0, false, ""));
        fx.produce(EmitterFixture.part(CHAT, "r-empty", 1, true, "not empty"));

        // then the empty one fails without a single sendMessage call and without backoff waits
        List<Delivery> all = fx.awaitOutcomeOf("r-empty", 1);
        Delivery empty = all.stream().filter(d -> d.seq() == 0).findFirst().orElseThrow();
        assertEquals(Delivery.Outcome.FAILED, empty.outcome());
        assertEquals(List.of("not empty"), fx.emulator.botTexts(CHAT));
        assertEquals(1, fx.sendMessageCalls(CHAT));
        assertTrue(pause.pauses().stream().allMatch(Duration::isZero), "no backoff: " + pause.pauses());
    }
}

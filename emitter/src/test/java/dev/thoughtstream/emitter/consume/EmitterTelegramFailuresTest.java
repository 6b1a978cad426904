package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.emitter.lane.DeliveryLanes;
import dev.thoughtstream.emitter.lane.PartSender;
import dev.thoughtstream.testkit.telegram.ApiCall;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the emitter lives with Telegram's refusals: wait when told, retry what is retryable, give up on the rest. The
 * waits are real; the only timing assertions are lower bounds (the emitter must not come back sooner than told).
 */
class EmitterTelegramFailuresTest {
    private static final long CHAT = 4_401;
    private static final long OTHER_CHAT = 4_402;

    private EmitterFixture fx;
    private EmitterService emitter;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("tg-failures");
        fx.chatOpens(CHAT);
        fx.chatOpens(OTHER_CHAT);
    }

    private void startEmitter(Map<String, String> more) {
        emitter = fx.emitter()
                .with("TYPING_MIN_MS", "0")
                .with("TYPING_MAX_MS", "0")
                .with(more)
                .start();
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void rateLimitedSendWaitsRetryAfterAndThenSends() {
        startEmitter(Map.of());
        // given Telegram rate-limits the next sendMessage with retry_after = 1 s
        fx.emulator.addFault("sendMessage", 429, 1, 1, CHAT, null);

        // when a part is emitted
        fx.produce(EmitterFixture.part(CHAT, "r-429", 0, true, "patience"));

        // then it is sent after waiting what Telegram asked for, and the 429 is counted
        assertEquals(List.of("patience"), fx.awaitBotTexts(CHAT, 1));
        List<ApiCall> calls = fx.emulator.calls("sendmessage");
        assertEquals(List.of(429, 200), calls.stream().map(ApiCall::status).toList());
        assertTrue(
                calls.get(1).at() - calls.get(0).at() >= 1_000,
                "the retry came " + (calls.get(1).at() - calls.get(0).at()) + " ms after the 429");
        assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-429", 0).outcome());
        assertEquals(1, emitter.metrics().rateLimitedCount("telegram"));
    }

    @Test
    void aBlockedChatFailsAtOnceWithoutRetriesAndOtherChatsStillGetTheirParts() {
        startEmitter(Map.of());
        // given the person in CHAT blocked the bot
        fx.emulator.block(CHAT);

        // when a part for the blocked chat is followed by parts for another chat
        fx.produce(EmitterFixture.part(CHAT, "r-blocked", 0, true, "you won't see this"));
        fx.produce(EmitterFixture.part(OTHER_CHAT, "r-open", 0, false, "hello"));
        fx.produce(EmitterFixture.part(OTHER_CHAT, "r-open", 1, true, "again"));

        // then the blocked part is reported FAILED with Telegram's reason after exactly one attempt
        Delivery blocked = fx.outcomeOf("r-blocked", 0);
        assertEquals(Delivery.Outcome.FAILED, blocked.outcome());
        assertTrue(blocked.reason().startsWith("403"), blocked.reason());
        assertTrue(blocked.reason().contains("blocked"), blocked.reason());
        // and the other chat's parts still go out
        assertEquals(List.of("hello", "again"), fx.awaitBotTexts(OTHER_CHAT, 2));
        assertEquals(1, fx.sendMessageCalls(CHAT), "no retry loop for the blocked chat");
        // and the refusal is recorded, so a redelivery does not ask Telegram again
        assertEquals(
                java.util.Optional.of("failed:" + blocked.reason()),
                fx.claims.get(
                        PartSender.claimKey(EmitterFixture.part(CHAT, "r-blocked", 0, true, "you won't see this"))));
    }

    @Test
    void serverErrorsAreRetriedWithGrowingBackoffUntilTheSendSucceeds() {
        startEmitter(Map.of());
        // given Telegram answers 500 to the next two sendMessage calls
        fx.emulator.addFault("sendMessage", 500, 0, 2, CHAT, null);

        // when a part is emitted
        fx.produce(EmitterFixture.part(CHAT, "r-500", 0, true, "third time lucky"));

        // then it is sent on the third attempt, after backoffs of at least 0.5 s and then 1 s
        assertEquals(List.of("third time lucky"), fx.awaitBotTexts(CHAT, 1));
        List<ApiCall> calls = fx.emulator.calls("sendmessage");
        assertEquals(List.of(500, 500, 200), calls.stream().map(ApiCall::status).toList());
        long firstWait = calls.get(1).at() - calls.get(0).at();
        long secondWait = calls.get(2).at() - calls.get(1).at();
        long firstBackoff = DeliveryLanes.RETRY_BACKOFF.initial().toMillis();
        assertTrue(firstWait >= firstBackoff, "first backoff " + firstWait + " ms");
        assertTrue(secondWait >= 2 * firstBackoff, "second backoff " + secondWait + " ms");
        assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-500", 0).outcome());
    }

    @Test
    void aSendThatKeepsFailingGivesUpAfterTheConfiguredAttempts() {
        // given Telegram answers 502 to every sendMessage for this chat, and an emitter allowed 3 attempts
        fx.emulator.addFault("sendMessage", 502, 0, 10, CHAT, null);
        startEmitter(Map.of("EMITTER_MAX_SEND_ATTEMPTS", "3"));

        // when a part is emitted, followed by one for another chat
        fx.produce(EmitterFixture.part(CHAT, "r-502", 0, true, "never"));
        fx.produce(EmitterFixture.part(OTHER_CHAT, "r-fine", 0, true, "fine"));

        // then the other chat is not held up by the backoffs
        assertEquals(List.of("fine"), fx.awaitBotTexts(OTHER_CHAT, 1));
        // and the part fails after exactly EMITTER_MAX_SEND_ATTEMPTS attempts, saying why
        Delivery failed = fx.outcomeOf("r-502", 0);
        assertEquals(Delivery.Outcome.FAILED, failed.outcome());
        assertTrue(failed.reason().startsWith("gave up after 3 attempts"), failed.reason());
        assertEquals(3, fx.sendMessageCalls(CHAT));
    }

    @Test
    void aRequestTelegramRejectsIsReportedFailedWithoutRetrying() {
        startEmitter(Map.of());
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
        startEmitter(Map.of());
        // when a part with empty text (TelegramBots' own validation rejects it) is followed by a good one
        fx.produce(EmitterFixture.part(CHAT, "r-empty", 0, false, ""));
        fx.produce(EmitterFixture.part(CHAT, "r-empty", 1, true, "not empty"));

        // then the empty one fails without a single sendMessage call
        List<Delivery> all = fx.awaitOutcomeOf("r-empty", 1);
        Delivery empty = all.stream().filter(d -> d.seq() == 0).findFirst().orElseThrow();
        assertEquals(Delivery.Outcome.FAILED, empty.outcome());
        assertEquals(List.of("not empty"), fx.emulator.botTexts(CHAT));
        assertEquals(1, fx.sendMessageCalls(CHAT));
    }
}

package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * No stale reply: once a newer user message of the chat is ingested (the staleness signal in Redis, written the way
 * ingest writes it), no further part of an older reply is sent, including parts already waiting.
 */
class EmitterStaleTest {
    private static final long CHAT = 5_201;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("stale");
        fx.chatOpens(CHAT);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aNewerMessageMidReplyDropsThePartBeingTypedAndTheRestAtOnceWithoutSendingThem() {
        // given a three-part reply to message 5, on time the test controls; part 0 is sent, part 1 is being typed
        ManualScheduler time = new ManualScheduler();
        EmitterService emitter = fx.emitter()
                .with(Map.of("TYPING_MIN_MS", "1000", "TYPING_MAX_MS", "1000"))
                .scheduler(time)
                .start();
        fx.ingest.recordIngested(CHAT, 5);
        for (int seq = 0; seq < 3; seq++) {
            fx.produce(EmitterFixture.part(CHAT, 5, "r-old", seq, seq == 2, "old " + seq));
        }
        awaitTyping(time, 1);
        time.advance(Duration.ofSeconds(1));
        assertEquals(List.of("old 0"), fx.awaitBotTexts(CHAT, 1));
        awaitTyping(time, 2);

        // when the person writes message 6 (ingested), with no time passing at all
        fx.ingest.recordIngested(CHAT, 6);

        // then parts 1 and 2 are reported DROPPED_STALE with the reason: the drop came from the signal, not a timer
        List<Delivery> all =
                fx.awaitDeliveries("parts 1 and 2 dropped", 2, d -> d.outcome() == Delivery.Outcome.DROPPED_STALE);
        for (int seq = 1; seq < 3; seq++) {
            int s = seq;
            Delivery d = all.stream().filter(x -> x.seq() == s).findFirst().orElseThrow();
            assertEquals(Delivery.Outcome.DROPPED_STALE, d.outcome());
            assertTrue(d.reason().contains("newer message 6"), d.reason());
        }
        assertEquals(
                Delivery.Outcome.SENT,
                all.stream().filter(d -> d.seq() == 0).findFirst().orElseThrow().outcome());
        assertTrue(time.pendingDelays().isEmpty(), "the typing timer was cancelled: " + time.pendingDelays());
        // and however much time passes, they never reach the person
        time.advance(Duration.ofMinutes(1));
        assertEquals(0, emitter.pendingParts());
        assertEquals(List.of("old 0"), fx.emulator.botTexts(CHAT));
        assertEquals(1, fx.sendMessageCalls(CHAT));
        assertEquals(2, emitter.metrics().staleDrops());
    }

    @Test
    void aPartThatIsStaleOnArrivalIsDroppedWithoutTypingWhileTheNewerReplyIsSent() {
        // given the chat's newest message is 9
        fx.ingest.recordIngested(CHAT, 9);
        fx.startEmitter();

        // when a part answering message 8 arrives, then one answering message 9
        fx.produce(EmitterFixture.part(CHAT, 8, "r-late", 0, true, "too late"));
        fx.produce(EmitterFixture.part(CHAT, 9, "r-now", 0, true, "just in time"));

        // then the older one is dropped without a typing indicator and the newer one is sent
        assertEquals(List.of("just in time"), fx.awaitBotTexts(CHAT, 1));
        Delivery late = fx.outcomeOf("r-late", 0);
        assertEquals(Delivery.Outcome.DROPPED_STALE, late.outcome());
        assertTrue(late.reason().contains("newer message 9"), late.reason());
        assertEquals(List.of("typing", "message"), fx.botSteps(CHAT));
    }

    @Test
    void aPartWaitingOutARetryAfterIsDroppedAsSoonAsANewerMessageArrives() {
        // given Telegram told the chat to wait a minute before its next message
        fx.ingest.recordIngested(CHAT, 3);
        EmitterService emitter = fx.startEmitter(Map.of("TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"));
        fx.emulator.addFault("sendMessage", 429, 60, 1, CHAT, null);
        fx.produce(EmitterFixture.part(CHAT, 3, "r-patient", 0, true, "in a minute"));
        Await.until(
                "the 429",
                EmitterFixture.TIMEOUT,
                () -> fx.sendMessageCalls(CHAT) == 1 && emitter.metrics().rateLimitedCount("telegram") == 1);

        // when the person writes again
        fx.ingest.recordIngested(CHAT, 4);

        // then the waiting part is dropped long before the minute is over, and never sent
        Delivery d = fx.outcomeOf("r-patient", 0);
        assertEquals(Delivery.Outcome.DROPPED_STALE, d.outcome());
        assertEquals(0, emitter.pendingParts());
        assertTrue(fx.emulator.botTexts(CHAT).isEmpty());
        assertEquals(1, fx.sendMessageCalls(CHAT));
    }

    @Test
    void aNewerMessageOfAnotherChatDropsNothing() {
        // given a reply being typed in this chat, on time the test controls
        ManualScheduler time = new ManualScheduler();
        fx.emitter()
                .with(Map.of("TYPING_MIN_MS", "1000", "TYPING_MAX_MS", "1000"))
                .scheduler(time)
                .start();
        fx.ingest.recordIngested(CHAT, 5);
        fx.produce(EmitterFixture.part(CHAT, 5, "r-mine", 0, true, "mine"));
        awaitTyping(time, 1);

        // when another chat gets a newer message, and the edit of an older message of this chat is replayed
        fx.ingest.recordIngested(CHAT + 1, 99);
        fx.ingest.recordIngested(CHAT, 5);

        // then the part is sent when its delay is over
        time.advance(Duration.ofSeconds(1));
        assertEquals(List.of("mine"), fx.awaitBotTexts(CHAT, 1));
        assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-mine", 0).outcome());
    }

    private void awaitTyping(ManualScheduler time, int typingCalls) {
        Await.until(
                typingCalls + " typing actions",
                EmitterFixture.TIMEOUT,
                () -> fx.typingCalls(CHAT) == typingCalls
                        && time.pendingDelays().equals(List.of(Duration.ofSeconds(1))));
    }
}

package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reply parts on the replies topic reach the person through the real TelegramBots client, like a person types. */
class EmitterDeliveryTest {
    private static final long CHAT = 4_101;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("delivery");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void partsOfAReplyAppearInSeqOrderEachAfterATypingActionAndEachIsReportedSentWithItsMessageId() {
        // given a chat the person opened and a running emitter with a short typing delay
        fx.chatOpens(CHAT);
        fx.startEmitter();

        // when the three parts of a reply arrive on the replies topic
        List<String> texts = List.of("Hey!", "That sounds like a plan.", "See you at eight?");
        for (int seq = 0; seq < texts.size(); seq++) {
            fx.produce(EmitterFixture.part(CHAT, "r-1", seq, seq == texts.size() - 1, texts.get(seq)));
        }

        // then the person sees them in order, each preceded by "typing..."
        assertEquals(texts, fx.awaitBotTexts(CHAT, 3));
        List<TranscriptEntry> bot = fx.botEntries(CHAT);
        assertEquals(
                List.of("typing", "message", "typing", "message", "typing", "message"),
                bot.stream().map(e -> e.isMessage() ? "message" : e.action()).toList(),
                bot.toString());

        // and each part is reported SENT with the message id Telegram gave it
        List<Delivery> deliveries = fx.awaitDeliveries(
                "SENT parts of r-1", 3, d -> d.replyId().equals("r-1") && d.outcome() == Delivery.Outcome.SENT);
        assertEquals(3, deliveries.size(), deliveries.toString());
        List<TranscriptEntry> messages =
                bot.stream().filter(TranscriptEntry::isMessage).toList();
        for (int seq = 0; seq < 3; seq++) {
            Delivery d = deliveries.get(seq);
            assertEquals(seq, d.seq());
            assertEquals(CHAT, d.chatId());
            assertEquals(texts.get(seq), d.text());
            assertNotNull(d.telegramMessageId());
            assertEquals(
                    messages.get(seq).messageId().longValue(),
                    d.telegramMessageId().longValue());
        }
    }

    @Test
    void twoChatsAreServedByOneEmitterEachInItsOwnOrder() {
        // given two open chats
        long other = CHAT + 1;
        fx.chatOpens(CHAT);
        fx.chatOpens(other);
        fx.startEmitter();

        // when replies to both are interleaved on the topic
        fx.produce(EmitterFixture.part(CHAT, "r-a", 0, false, "a0"));
        fx.produce(EmitterFixture.part(other, "r-b", 0, false, "b0"));
        fx.produce(EmitterFixture.part(CHAT, "r-a", 1, true, "a1"));
        fx.produce(EmitterFixture.part(other, "r-b", 1, true, "b1"));

        // then each chat gets its own parts, in order
        assertEquals(List.of("a0", "a1"), fx.awaitBotTexts(CHAT, 2));
        assertEquals(List.of("b0", "b1"), fx.awaitBotTexts(other, 2));
    }

    @Test
    void theReadingPauseComesBeforeTheFirstPartOnlyAndShowsNoTypingIndicator() {
        // given an emitter that "reads" for 1.5 s before answering and types for 0.1 s, on time the test controls
        fx.chatOpens(CHAT);
        ManualScheduler time = new ManualScheduler();
        fx.emitter()
                .with(Map.of("READING_PAUSE_MS", "1500", "TYPING_MIN_MS", "100", "TYPING_MAX_MS", "100"))
                .scheduler(time)
                .start();

        // when a two-part reply arrives
        fx.produce(EmitterFixture.part(CHAT, "r-read", 0, false, "first"));
        fx.produce(EmitterFixture.part(CHAT, "r-read", 1, true, "second"));

        // then the first part waits out the reading pause without "typing..."
        Await.until(
                "the reading pause",
                EmitterFixture.TIMEOUT,
                () -> time.pendingDelays().contains(Duration.ofMillis(1500)));
        assertEquals(0, fx.typingCalls(CHAT));

        // and then types for its typing delay before it is sent
        time.advance(Duration.ofMillis(1500));
        Await.until(
                "typing after reading",
                EmitterFixture.TIMEOUT,
                () -> fx.typingCalls(CHAT) == 1 && time.pendingDelays().contains(Duration.ofMillis(100)));
        assertTrue(fx.emulator.botTexts(CHAT).isEmpty(), "nothing sent while typing");
        time.advance(Duration.ofMillis(100));
        assertEquals(List.of("first"), fx.awaitBotTexts(CHAT, 1));

        // and the second part only types, with no reading pause
        Await.until(
                "the second part typing",
                EmitterFixture.TIMEOUT,
                () -> time.pendingDelays().equals(List.of(Duration.ofMillis(100))));
        time.advance(Duration.ofMillis(100));
        assertEquals(List.of("first", "second"), fx.awaitBotTexts(CHAT, 2));
        assertEquals(List.of("typing", "message", "typing", "message"), fx.botSteps(CHAT));
    }
}

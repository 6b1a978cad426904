package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.emitter.lane.PartSender;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.ApiCall;
import dev.thoughtstream.testkit.telegram.IncomingMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Telegram's limits are kept before Telegram has to enforce them: message length, per chat, per group, global. */
class EmitterLimitsTest {
    private static final long CHAT = 5_301;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("limits");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void underABurstOfTwoHundredChatsNoSecondAtTelegramHoldsMoreThanThirtyMessagesAndEveryChatIsAnswered() {
        // given 200 open chats and an emitter limited to 30 messages a second, without typing delays
        int chats = 200;
        for (int i = 0; i < chats; i++) {
            fx.chatOpens(CHAT + i);
        }
        EmitterService emitter =
                fx.startEmitter(Map.of("EMITTER_GLOBAL_RATE_PER_S", "30", "TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"));

        // when every chat gets a one-part reply at once
        for (int i = 0; i < chats; i++) {
            fx.produce(EmitterFixture.part(CHAT + i, "r-burst-" + i, 0, true, "hello " + i));
        }

        // then every chat gets its message, once
        Await.value("200 SENT", Duration.ofSeconds(90), () -> {
            long sent = fx.deliveries().stream()
                    .filter(d -> d.outcome() == Delivery.Outcome.SENT)
                    .count();
            return sent >= chats ? Optional.of(sent) : Optional.empty();
        });
        for (int i = 0; i < chats; i++) {
            assertEquals(List.of("hello " + i), fx.emulator.botTexts(CHAT + i));
        }
        // and no one-second window of arrivals at Telegram (the emulator's clock) holds more than 30 of them
        List<Long> at = fx.emulator.calls("sendmessage").stream()
                .map(ApiCall::at)
                .sorted()
                .toList();
        assertEquals(chats, at.size());
        int busiest = 0;
        for (int end = 0; end < at.size(); end++) {
            int start = end;
            while (start > 0 && at.get(start - 1) > at.get(end) - 1_000) {
                start--;
            }
            busiest = Math.max(busiest, end - start + 1);
        }
        assertTrue(busiest <= 30, "a one-second window held " + busiest + " sendMessage calls");
        assertTrue(emitter.metrics().rateLimitedCount("global") > 0, "the burst had to wait for the global limit");
    }

    @Test
    void aPartOverTelegramsLimitGoesOutAsSeveralMessagesInOrderWithOneOutcome() {
        // given an open chat
        fx.chatOpens(CHAT);
        fx.startEmitter();

        // when a 9000-character part arrives (paragraphs of sentences)
        StringBuilder text = new StringBuilder();
        int sentence = 0;
        while (text.length() < 9_000) {
            text.append("Sentence number ").append(sentence++).append(" says a little more. ");
            if (sentence % 10 == 0) {
                text.append("\n\n");
            }
        }
        String long9000 = text.substring(0, 9_000);
        fx.produce(EmitterFixture.part(CHAT, "r-long", 0, true, long9000));

        // then it reaches the person as three messages of at most 4096 characters, in order, nothing lost
        List<String> messages = fx.awaitBotTexts(CHAT, 3);
        Delivery d = fx.outcomeOf("r-long", 0);
        assertEquals(3, messages.size(), messages.toString());
        assertTrue(messages.stream().allMatch(m -> m.length() <= 4_096));
        assertEquals(long9000.replaceAll("\\s+", ""), String.join("", messages).replaceAll("\\s+", ""));
        // and one outcome says SENT, with the first message's id and the whole text
        assertEquals(Delivery.Outcome.SENT, d.outcome());
        long firstId = fx.botEntries(CHAT).stream()
                .filter(e -> e.isMessage())
                .findFirst()
                .orElseThrow()
                .messageId();
        assertEquals(firstId, d.telegramMessageId().longValue());
        assertEquals(long9000, d.text());
        assertEquals(
                1,
                fx.deliveries().stream()
                        .filter(x -> x.replyId().equals("r-long"))
                        .count());
        // and each message was claimed and recorded on its own
        List<Optional<String>> records = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            records.add(
                    fx.claims.get(PartSender.claimKey(EmitterFixture.part(CHAT, "r-long", 0, true, long9000), i, 3)));
        }
        assertTrue(records.stream().allMatch(r -> r.isPresent() && r.get().startsWith("sent:")), records.toString());
    }

    @Test
    void aChatGetsABurstOfThreeAndThenAboutOneMessageASecond() {
        // given the default chat limit (1 a second, bursts of 3), no typing, on time the test controls
        fx.chatOpens(CHAT);
        ManualScheduler time = new ManualScheduler();
        EmitterService emitter = fx.emitter()
                .with(Map.of("TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"))
                .scheduler(time)
                .start();

        // when five parts arrive at once
        for (int seq = 0; seq < 5; seq++) {
            fx.produce(EmitterFixture.part(CHAT, "r-burst", seq, seq == 4, "part " + seq));
        }

        // then three go out at once and the fourth waits for a token (a second)
        assertEquals(3, fx.awaitBotTexts(CHAT, 3).size());
        Await.until(
                "the fourth waiting for a token",
                EmitterFixture.TIMEOUT,
                () -> time.pendingDelays().equals(List.of(Duration.ofSeconds(1))));
        assertEquals(3, fx.sendMessageCalls(CHAT));
        // and each further second lets one more through
        time.advance(Duration.ofSeconds(1));
        assertEquals(4, fx.awaitBotTexts(CHAT, 4).size());
        Await.until(
                "the fifth waiting",
                EmitterFixture.TIMEOUT,
                () -> time.pendingDelays().equals(List.of(Duration.ofSeconds(1))));
        time.advance(Duration.ofSeconds(1));
        assertEquals(List.of("part 0", "part 1", "part 2", "part 3", "part 4"), fx.awaitBotTexts(CHAT, 5));
        assertTrue(emitter.metrics().rateLimitedCount("chat") >= 2);
    }

    @Test
    void aGroupChatGetsNoMoreThanItsMessagesPerMinute() {
        // given a group chat limited to 2 messages a minute (the chat limit off), no typing, controlled time
        long group = -1_005_301L;
        fx.emulator.injectMessage(IncomingMessage.builder(group)
                .group("the group")
                .from(77, "Ann")
                .text("hi all")
                .build());
        ManualScheduler time = new ManualScheduler();
        EmitterService emitter = fx.emitter()
                .with(Map.of(
                        "TYPING_MIN_MS",
                        "0",
                        "TYPING_MAX_MS",
                        "0",
                        "EMITTER_CHAT_RATE_PER_S",
                        "0",
                        "EMITTER_GROUP_RATE_PER_MIN",
                        "2"))
                .scheduler(time)
                .start();

        // when three parts arrive at once
        for (int seq = 0; seq < 3; seq++) {
            fx.produce(EmitterFixture.part(group, "r-group", seq, seq == 2, "group " + seq));
        }

        // then two go out and the third waits until a minute after the first one was answered
        assertEquals(2, fx.awaitBotTexts(group, 2).size());
        Await.until(
                "the third waiting for the group's minute",
                EmitterFixture.TIMEOUT,
                () -> time.pendingDelays().size() == 1
                        && time.pendingDelays().get(0).toSeconds() == 60);
        time.advance(Duration.ofSeconds(59));
        assertEquals(2, fx.sendMessageCalls(group));
        time.advance(Duration.ofSeconds(1));
        assertEquals(List.of("group 0", "group 1", "group 2"), fx.awaitBotTexts(group, 3));
        assertEquals(1, emitter.metrics().rateLimitedCount("group"));
    }
}

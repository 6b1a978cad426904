package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.testkit.telegram.ApiCall;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code EMITTER_PARSE_MODE} and {@code EMITTER_DRY_RUN} through the whole emitter, on the real broker. */
class EmitterSendModesTest {
    private static final long CHAT = 4_301;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("send-modes");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aReplyTelegramCannotParseAsMarkdownV2ReachesThePersonAsPlainTextAndIsReportedSent() {
        // given an emitter formatting with MarkdownV2
        fx.chatOpens(CHAT);
        fx.startEmitter(Map.of("EMITTER_PARSE_MODE", "MarkdownV2"));

        // when the model's part has reserved characters it did not escape
        fx.produce(EmitterFixture.part(CHAT, "r-md", 0, true, "Sure. It costs 5.00!"));

        // then Telegram refused the markup once, the same text went out plain, and the part is SENT with that id
        assertEquals(List.of("Sure. It costs 5.00!"), fx.awaitBotTexts(CHAT, 1));
        Delivery d = fx.outcomeOf("r-md", 0);
        assertEquals(Delivery.Outcome.SENT, d.outcome());
        List<ApiCall> sends = fx.emulator.calls("sendmessage");
        assertEquals(List.of(400, 200), sends.stream().map(ApiCall::status).toList());
        assertEquals("MarkdownV2", sends.get(0).param("parse_mode"));
        assertNull(sends.get(1).param("parse_mode"));
        assertEquals(
                fx.botEntries(CHAT).stream()
                        .filter(e -> e.isMessage())
                        .findFirst()
                        .orElseThrow()
                        .messageId()
                        .longValue(),
                d.telegramMessageId().longValue());
    }

    @Test
    void inDryRunNothingReachesTelegramAndEveryPartIsReportedSentWithANegativeSyntheticId() {
        // given an emitter in dry run (a replay)
        fx.chatOpens(CHAT);
        long callsBefore = fx.emulator.calls().size();
        EmitterService emitter = fx.startEmitter(Map.of("EMITTER_DRY_RUN", "true"));

        // when a reply of two parts is replayed
        fx.produce(EmitterFixture.part(CHAT, "r-dry", 0, false, "First thought."));
        fx.produce(EmitterFixture.part(CHAT, "r-dry", 1, true, "Second thought."));

        // then both are reported SENT, in order, with ids Telegram never gives (negative, counting down)
        List<Delivery> sent = fx.awaitDeliveries(
                "dry-run outcomes", 2, x -> x.replyId().equals("r-dry") && x.outcome() == Delivery.Outcome.SENT);
        assertEquals(
                List.of(-1L, -2L),
                sent.stream()
                        .filter(x -> x.replyId().equals("r-dry"))
                        .map(Delivery::telegramMessageId)
                        .toList());
        // and Telegram was not called at all: no message, no typing, no command registration
        assertEquals(
                callsBefore, fx.emulator.calls().size(), fx.emulator.calls().toString());
        assertTrue(fx.emulator.botTexts(CHAT).isEmpty());
        assertTrue(emitter.commandsRegistration().isEmpty());
    }
}

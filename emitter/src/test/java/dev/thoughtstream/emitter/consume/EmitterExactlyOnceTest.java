package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.emitter.lane.PartSender;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A part reaches the person at most once however often it is delivered to the emitter. */
class EmitterExactlyOnceTest {
    private static final long CHAT = 4_201;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("exactly-once");
        fx.chatOpens(CHAT);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aPartProducedTwiceIsSentOnceAndBothOutcomesCarryTheSameMessageId() {
        // given a running emitter
        fx.startEmitter();

        // when the processor redelivers a part (the same reply id and seq twice), then a later part follows
        ReplyPart part = EmitterFixture.part(CHAT, "r-dup", 0, false, "only once, please");
        fx.produce(part);
        fx.produce(part);
        fx.produce(EmitterFixture.part(CHAT, "r-dup", 1, true, "after the duplicate"));

        // then the person saw it once, followed by the later part
        fx.awaitOutcomeOf("r-dup", 1);
        assertEquals(List.of("only once, please", "after the duplicate"), fx.emulator.botTexts(CHAT));
        assertEquals(2, fx.sendMessageCalls(CHAT));

        // and both outcomes of the duplicated part say SENT with the same Telegram message id
        List<Delivery> first = fx.deliveries().stream()
                .filter(d -> d.replyId().equals("r-dup") && d.seq() == 0)
                .toList();
        assertEquals(2, first.size(), first.toString());
        assertEquals(Delivery.Outcome.SENT, first.get(0).outcome());
        assertEquals(Delivery.Outcome.SENT, first.get(1).outcome());
        assertNotNull(first.get(0).telegramMessageId());
        assertEquals(first.get(0).telegramMessageId(), first.get(1).telegramMessageId());
    }

    @Test
    void aPartClaimedByAnotherInstanceThatNeverConfirmedIsNotSentAndIsReportedFailed() {
        // given another instance claimed the part and died before recording an outcome
        ReplyPart part = EmitterFixture.part(CHAT, "r-orphan", 0, false, "maybe already seen");
        fx.claims.put(PartSender.claimKey(part), "sending:emitter-dead", Duration.ofMinutes(5));
        fx.startEmitter();

        // when the part is delivered to this emitter, followed by another part
        fx.produce(part);
        fx.produce(EmitterFixture.part(CHAT, "r-orphan", 1, true, "this one is new"));

        // then it is reported FAILED with a reason naming the unconfirmed claim, and not sent
        List<Delivery> all = fx.awaitOutcomeOf("r-orphan", 1);
        Delivery orphan = all.stream()
                .filter(d -> d.replyId().equals("r-orphan") && d.seq() == 0)
                .findFirst()
                .orElseThrow();
        assertEquals(Delivery.Outcome.FAILED, orphan.outcome());
        assertNotNull(orphan.reason());
        assertTrue(orphan.reason().contains("emitter-dead"), orphan.reason());
        assertEquals(List.of("this one is new"), fx.emulator.botTexts(CHAT));
    }

    @Test
    void aPartThatFailedBeforeIsReportedFailedAgainWithoutAnotherAttempt() {
        // given a part whose earlier attempt was rejected by Telegram (recorded as failed)
        ReplyPart part = EmitterFixture.part(CHAT, "r-failed", 0, true, "rejected before");
        fx.claims.put(
                PartSender.claimKey(part), "failed:403 Forbidden: bot was blocked by the user", Duration.ofMinutes(5));
        fx.startEmitter();

        // when it is delivered again
        fx.produce(part);

        // then the earlier reason is reported and Telegram is not asked again
        Delivery d = fx.awaitOutcomeOf("r-failed", 0).get(0);
        assertEquals(Delivery.Outcome.FAILED, d.outcome());
        assertEquals("403 Forbidden: bot was blocked by the user", d.reason());
        assertEquals(0, fx.sendMessageCalls(CHAT));
    }
}

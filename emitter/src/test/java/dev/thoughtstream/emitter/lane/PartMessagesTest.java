package dev.thoughtstream.emitter.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.telegram.TelegramLimits;
import org.junit.jupiter.api.Test;

/** A part's messages and its one outcome, however many messages it took. */
class PartMessagesTest {
    private static final long AT = 1_000;

    private static ReplyPart part(int seq, String text) {
        return new ReplyPart(ReplyPart.SCHEMA_VERSION, "r1", "t1", 42, 5, seq, true, text, 0);
    }

    /** Three paragraphs, each under the limit, together over it twice. */
    private static String threeMessages() {
        String paragraph = "x".repeat(TelegramLimits.MAX_MESSAGE_CHARS - 10);
        return paragraph + "\n\n" + paragraph + "\n\n" + paragraph;
    }

    @Test
    void aPartThatFitsIsOneMessageUnderThePartsOwnKey() {
        PartMessages messages = new PartMessages(part(0, "hello"));

        assertTrue(messages.last());
        assertEquals("hello", messages.text());
        assertEquals(PartSender.claimKey(part(0, "hello")), messages.key());
    }

    @Test
    void aPartOverTheLimitGoesOutAsSeveralMessagesEachUnderItsOwnKey() {
        // given a part of three messages
        ReplyPart part = part(0, threeMessages());
        PartMessages messages = new PartMessages(part);
        assertFalse(messages.last());
        assertTrue(messages.opensReply());
        assertEquals(PartSender.claimKey(part, 0, 3), messages.key());

        // when the first went out
        messages.sent(100);
        messages.next();

        // then the second has its own key, and no reading pause comes before it
        assertFalse(messages.opensReply());
        assertEquals(PartSender.claimKey(part, 1, 3), messages.key());
    }

    @Test
    void allMessagesSentIsSentWithTheFirstMessagesIdAndTheWholeText() {
        // given a part of three messages, all sent
        PartMessages messages = new PartMessages(part(0, threeMessages()));
        for (long id = 100; id < 103; id++) {
            messages.sent(id);
            if (!messages.last()) {
                messages.next();
            }
        }

        // when its outcome is asked for
        Delivery d = messages.outcome(Delivery.Outcome.SENT, null, AT);

        // then it is SENT with the first message's id
        assertEquals(Delivery.Outcome.SENT, d.outcome());
        assertEquals(100L, d.telegramMessageId());
        assertEquals(threeMessages(), d.text());
        assertNull(d.reason());
    }

    @Test
    void somethingSentThenDroppedIsStillSentWithWhatWentOutAndWhyTheRestDidNot() {
        // given a part of three messages of which the first went out
        PartMessages messages = new PartMessages(part(0, threeMessages()));
        String first = messages.text();
        messages.sent(100);
        messages.next();

        // when the rest is dropped as stale
        Delivery d = messages.outcome(Delivery.Outcome.DROPPED_STALE, "stale: newer message", AT);

        // then the person saw the first message: SENT, with that text and the reason for the rest
        assertEquals(Delivery.Outcome.SENT, d.outcome());
        assertEquals(100L, d.telegramMessageId());
        assertEquals(first, d.text());
        assertEquals("only 1 of 3 messages sent; the rest dropped, stale: newer message", d.reason());
        assertEquals(AT, d.atMs());
    }

    @Test
    void nothingSentIsDroppedOrFailedWithTheReason() {
        PartMessages messages = new PartMessages(part(1, "hello"));

        Delivery dropped = messages.outcome(Delivery.Outcome.DROPPED_STALE, "stale", AT);
        Delivery failed = messages.outcome(Delivery.Outcome.FAILED, "403 Forbidden", AT);

        assertEquals(Delivery.Outcome.DROPPED_STALE, dropped.outcome());
        assertEquals("stale", dropped.reason());
        assertEquals(Delivery.Outcome.FAILED, failed.outcome());
        assertEquals("403 Forbidden", failed.reason());
        assertNull(failed.telegramMessageId());
    }
}

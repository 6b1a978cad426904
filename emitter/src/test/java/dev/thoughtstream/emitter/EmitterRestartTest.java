package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Stopping and starting the emitter neither repeats nor loses a part. */
class EmitterRestartTest {
    private static final long CHAT = 4_301;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("restart");
        fx.chatOpens(CHAT);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aRestartedEmitterDoesNotResendWhatWasSentAndSendsWhatArrivedWhileItWasDown() {
        // given an emitter that sent the two parts of a reply
        EmitterService first = fx.startEmitter();
        fx.produce(EmitterFixture.part(CHAT, "r-before", 0, false, "before 0"));
        fx.produce(EmitterFixture.part(CHAT, "r-before", 1, true, "before 1"));
        fx.awaitOutcomeOf("r-before", 1);

        // when it stops, a reply arrives while it is down, and a new instance joins the same group
        first.close();
        fx.produce(EmitterFixture.part(CHAT, "r-during", 0, false, "during 0"));
        fx.produce(EmitterFixture.part(CHAT, "r-during", 1, true, "during 1"));
        fx.startEmitter();

        // then the person sees every part exactly once, in order
        List<Delivery> all = fx.awaitOutcomeOf("r-during", 1);
        assertEquals(List.of("before 0", "before 1", "during 0", "during 1"), fx.emulator.botTexts(CHAT));
        assertEquals(4, fx.sendMessageCalls(CHAT));
        // and the parts sent before the restart were not even re-read (their offsets were committed):
        // they precede the new reply on the chat's partition, so a re-read would have reported them again
        assertEquals(2, all.stream().filter(d -> d.replyId().equals("r-before")).count(), all.toString());
        assertTrue(all.stream().allMatch(d -> d.outcome() == Delivery.Outcome.SENT), all.toString());
    }

    @Test
    void anInstanceThatReReadsEverythingStillSendsNothingTwice() {
        // given an emitter that sent a reply
        EmitterService first = fx.startEmitter();
        fx.produce(EmitterFixture.part(CHAT, "r-once", 0, false, "once 0"));
        fx.produce(EmitterFixture.part(CHAT, "r-once", 1, true, "once 1"));
        fx.awaitOutcomeOf("r-once", 1);
        first.close();

        // when an instance without committed offsets (as after a crash before the commit) reads it all again
        fx.startEmitter(Map.of("EMITTER_GROUP_ID", fx.groupId + "-amnesiac"));

        // then the parts are reported again, with their original message ids, but not sent again
        List<Delivery> all = fx.awaitDeliveries("outcomes of r-once, twice each", 4,
                d -> d.replyId().equals("r-once") && d.outcome() == Delivery.Outcome.SENT);
        assertEquals(List.of("once 0", "once 1"), fx.emulator.botTexts(CHAT));
        assertEquals(2, fx.sendMessageCalls(CHAT));
        for (int seq = 0; seq < 2; seq++) {
            int s = seq;
            assertEquals(1, all.stream().filter(d -> d.seq() == s).map(Delivery::telegramMessageId).distinct().count(),
                    all.toString());
        }
    }

    @Test
    void closingTheEmitterWhileItIsTypingLetsTheNextInstanceSendThePart() {
        // given an emitter that types for a long time (real waiting) before each part
        EmitterService slow = fx.startEmitter(Map.of("TYPING_MIN_MS", "60000", "TYPING_MAX_MS", "60000"));
        fx.produce(EmitterFixture.part(CHAT, "r-typing", 0, true, "interrupted while typing"));
        Await.until("the typing indicator", EmitterFixture.TIMEOUT,
                () -> !fx.emulator.calls("sendchataction").isEmpty());

        // when it is closed mid-typing and a new instance of the group takes over
        long closeStarted = System.nanoTime();
        slow.close();
        Duration closeTook = Duration.ofNanos(System.nanoTime() - closeStarted);
        assertTrue(closeTook.compareTo(Duration.ofSeconds(30)) < 0, "close() waited out the typing: " + closeTook);
        fx.startEmitter();

        // then the part is sent by the new instance, once, and reported SENT
        assertEquals(List.of("interrupted while typing"), fx.awaitBotTexts(CHAT, 1));
        List<Delivery> all = fx.awaitOutcomeOf("r-typing", 0);
        assertEquals(1, all.size(), all.toString());
        assertEquals(Delivery.Outcome.SENT, all.get(0).outcome(), all.toString());
    }
}

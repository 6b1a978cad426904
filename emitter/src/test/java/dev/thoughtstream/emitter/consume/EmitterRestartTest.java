package dev.thoughtstream.emitter.consume;

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
        List<Delivery> all = fx.awaitDeliveries(
                "outcomes of r-once, twice each",
                4,
                d -> d.replyId().equals("r-once") && d.outcome() == Delivery.Outcome.SENT);
        assertEquals(List.of("once 0", "once 1"), fx.emulator.botTexts(CHAT));
        assertEquals(2, fx.sendMessageCalls(CHAT));
        for (int seq = 0; seq < 2; seq++) {
            int s = seq;
            assertEquals(
                    1,
                    all.stream()
                            .filter(d -> d.seq() == s)
                            .map(Delivery::telegramMessageId)
                            .distinct()
                            .count(),
                    all.toString());
        }
    }

    @Test
    void closingTheEmitterWhileItIsTypingLetsTheNextInstanceSendThePart() {
        // given an emitter that types for a long time (real waiting) before each part
        EmitterService slow = fx.startEmitter(Map.of("TYPING_MIN_MS", "60000", "TYPING_MAX_MS", "60000"));
        fx.produce(EmitterFixture.part(CHAT, "r-typing", 0, true, "interrupted while typing"));
        Await.until(
                "the typing indicator",
                EmitterFixture.TIMEOUT,
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

    @Test
    void anEmitterThatDiesWhileTypingLeavesNoClaimSoTheNextInstanceSendsThePartOnce() {
        // given an emitter that types for a long time before each part
        EmitterService dying = fx.startEmitter(Map.of("TYPING_MIN_MS", "60000", "TYPING_MAX_MS", "60000"));
        fx.produce(EmitterFixture.part(CHAT, "r-crash-typing", 0, true, "typed by the survivor"));
        Await.until("the typing indicator", EmitterFixture.TIMEOUT, () -> fx.typingCalls(CHAT) == 1);

        // when it dies mid-typing (no clean-up at all) and another instance of the group takes over
        dying.halt();
        fx.startEmitter();

        // then the part reaches the person once, and is reported SENT
        assertEquals(List.of("typed by the survivor"), fx.awaitBotTexts(CHAT, 1));
        Delivery d = fx.outcomeOf("r-crash-typing", 0);
        assertEquals(Delivery.Outcome.SENT, d.outcome(), d.toString());
        assertEquals(1, fx.sendMessageCalls(CHAT));
    }

    @Test
    void anEmitterThatDiesMidSendMidReplyLeavesEveryPartAtMostOnceInTheChat() {
        // given an emitter that sent part 0 of a three-part reply, and whose next send reaches Telegram but whose
        // process dies before it hears the answer
        HoldingSender[] holder = new HoldingSender[1];
        EmitterService dying =
                fx.emitter().sender(s -> holder[0] = new HoldingSender(s)).start();
        try {
            fx.produce(EmitterFixture.part(CHAT, "r-crash-send", 0, false, "zero"));
            assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-crash-send", 0).outcome());
            holder[0].holdAfterAnswer(CHAT);
            fx.produce(EmitterFixture.part(CHAT, "r-crash-send", 1, false, "one"));
            fx.produce(EmitterFixture.part(CHAT, "r-crash-send", 2, true, "two"));
            Await.until("part 1 on the wire", EmitterFixture.TIMEOUT, () -> holder[0].held() == 1);
            assertEquals(List.of("zero", "one"), fx.emulator.botTexts(CHAT));

            // when it dies there, and another instance of the group takes over
            dying.halt();
            fx.startEmitter();

            // then part 1, claimed but never confirmed, is reported FAILED and not sent again; part 2 is sent
            List<Delivery> all = fx.awaitOutcomeOf("r-crash-send", 2);
            Delivery unconfirmed = all.stream()
                    .filter(d -> d.replyId().equals("r-crash-send") && d.seq() == 1)
                    .findFirst()
                    .orElseThrow();
            assertEquals(Delivery.Outcome.FAILED, unconfirmed.outcome());
            assertTrue(unconfirmed.reason().contains("claimed but unconfirmed"), unconfirmed.reason());
            // and every part is in the chat exactly once, in order
            assertEquals(List.of("zero", "one", "two"), fx.emulator.botTexts(CHAT));
            assertEquals(3, fx.sendMessageCalls(CHAT));
            // and whatever was re-read is reported as it was (part 0 SENT with its message id, if at all)
            assertTrue(
                    all.stream().filter(d -> d.seq() == 0).allMatch(d -> d.outcome() == Delivery.Outcome.SENT),
                    all.toString());
        } finally {
            holder[0].release();
        }
    }

    @Test
    void closingTheEmitterMidSendSeesTheSendThroughReportsItAndLeavesTheRestToTheNextInstance() throws Exception {
        // given an emitter whose send of part 0 has reached Telegram but whose answer is still on its way back
        HoldingSender[] holder = new HoldingSender[1];
        EmitterService closing =
                fx.emitter().sender(s -> holder[0] = new HoldingSender(s)).start();
        holder[0].holdAfterAnswer(CHAT);
        fx.produce(EmitterFixture.part(CHAT, "r-close-send", 0, false, "seen through"));
        fx.produce(EmitterFixture.part(CHAT, "r-close-send", 1, true, "sent by the next one"));
        Await.until("part 0 on the wire", EmitterFixture.TIMEOUT, () -> holder[0].held() == 1);

        // when it is closed meanwhile, and the answer then arrives
        Thread closer = new Thread(closing::close, "restart-test-closer");
        closer.start();
        Await.until("the emitter stopping", EmitterFixture.TIMEOUT, () -> !closing.isRunning());
        holder[0].release();
        closer.join(EmitterFixture.TIMEOUT.toMillis());

        // then part 0 was recorded and reported SENT before it stopped, and part 1 was left alone
        Delivery first = fx.outcomeOf("r-close-send", 0);
        assertEquals(Delivery.Outcome.SENT, first.outcome());
        assertEquals(List.of("seen through"), fx.emulator.botTexts(CHAT));

        // and the next instance sends part 1 and not part 0 again
        fx.startEmitter();
        assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-close-send", 1).outcome());
        assertEquals(List.of("seen through", "sent by the next one"), fx.emulator.botTexts(CHAT));
        assertEquals(2, fx.sendMessageCalls(CHAT));
        assertTrue(fx.deliveries().stream()
                .filter(d -> d.seq() == 0)
                .allMatch(d -> d.outcome() == Delivery.Outcome.SENT
                        && d.telegramMessageId().equals(first.telegramMessageId())));
    }
}

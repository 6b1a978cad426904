package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.testkit.telegram.ApiCall;
import dev.thoughtstream.testkit.telegram.Fault;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Telegram's front end (nginx) answering in the Bot API's place with its HTML error pages, through the whole
 * emitter (real broker, real Redis, the emulator over HTTP): a gateway that never passed the request on is a blip to
 * retry, a gateway timeout is a message that may have been sent, reported as such and never silently lost.
 */
class EmitterGatewayPagesTest {
    private static final long CHAT = 4_901;

    private EmitterFixture fx;
    private EmitterService emitter;
    private WarnEvents warnings;

    /** The WARN (and worse) lines, as formatted. */
    private static final class WarnEvents extends AbstractAppender {
        final List<String> texts = new CopyOnWriteArrayList<>();

        WarnEvents() {
            super("emitter-gateway-warnings", null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            if (event.getLevel().isMoreSpecificThan(Level.WARN)) {
                texts.add(event.getMessage().getFormattedMessage());
            }
        }
    }

    @BeforeEach
    void setUp() {
        warnings = new WarnEvents();
        warnings.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(warnings, Level.ALL, null);
        context.updateLoggers();
        fx = EmitterFixture.create("gateway-pages");
        fx.chatOpens(CHAT);
        emitter = fx.emitter()
                .with("TYPING_MIN_MS", "0")
                .with("TYPING_MAX_MS", "0")
                .start();
    }

    @AfterEach
    void tearDown() {
        fx.close();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(warnings.getName());
        context.updateLoggers();
        warnings.stop();
    }

    @Test
    void htmlBadGatewayPagesAreRetriedAndEveryBubbleIsSentExactlyOnceInOrder() {
        // given Telegram's front end answers the next three sendMessage calls with nginx's 502 page
        fx.emulator.addFault(Fault.nginx("sendMessage", 502, 3));

        // when a reply of three parts is emitted
        fx.produce(EmitterFixture.part(CHAT, "r-502", 0, false, "one"));
        fx.produce(EmitterFixture.part(CHAT, "r-502", 1, false, "two"));
        fx.produce(EmitterFixture.part(CHAT, "r-502", 2, true, "three"));

        // then the first part went out after three 502s, and every part exactly once, in order
        List<Delivery> all = fx.awaitOutcomeOf("r-502", 2);
        assertEquals(List.of("one", "two", "three"), fx.emulator.botTexts(CHAT));
        assertEquals(
                List.of(502, 502, 502, 200, 200, 200),
                fx.emulator.calls("sendmessage").stream().map(ApiCall::status).toList());
        assertEquals(3, all.size(), all.toString());
        for (Delivery d : all) {
            assertEquals(Delivery.Outcome.SENT, d.outcome(), d.toString());
        }
        assertEquals(0, emitter.metrics().maybeSentCount());
    }

    @Test
    void anHtmlGatewayTimeoutIsReportedAsMaybeSentCountedAndLoggedAndNotResent() {
        // given the Bot API sends the next message, but the front end gives up waiting and answers nginx's 504 page
        fx.emulator.addFault(Fault.nginx("sendMessage", 504, 1).processedFirst());

        // when a reply of two parts is emitted
        fx.produce(EmitterFixture.part(CHAT, "r-504", 0, false, "slow one"));
        fx.produce(EmitterFixture.part(CHAT, "r-504", 1, true, "next one"));

        // then the first is reported FAILED as maybe sent, saying what happened, and the reply goes on
        Delivery timedOut = fx.outcomeOf("r-504", 0);
        assertEquals(Delivery.Outcome.FAILED, timedOut.outcome());
        assertTrue(timedOut.reason().startsWith(Delivery.MAYBE_SENT + "504 Gateway Time-out"), timedOut.reason());
        assertTrue(timedOut.mayHaveBeenSent());
        assertEquals(Delivery.Outcome.SENT, fx.outcomeOf("r-504", 1).outcome());
        // and it was not sent again: the person has it once (the Bot API did send it)
        assertEquals(List.of("slow one", "next one"), fx.emulator.botTexts(CHAT));
        assertEquals(2, fx.sendMessageCalls(CHAT));
        // and it is counted and logged at WARN with the chat, thought and reply
        assertEquals(1, emitter.metrics().maybeSentCount());
        assertTrue(
                warnings.texts.stream()
                        .anyMatch(t -> t.contains("chat " + CHAT)
                                && t.contains("thought thought-r-504")
                                && t.contains("reply r-504")
                                && t.contains("may have reached the person")),
                warnings.texts.toString());
    }
}

package dev.thoughtstream.emitter.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.emitter.telegram.DryRunMessageSender.WouldSend;
import dev.thoughtstream.emitter.telegram.MessageSender.Rejected;
import dev.thoughtstream.emitter.telegram.MessageSender.SendResult;
import dev.thoughtstream.emitter.telegram.MessageSender.Sent;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
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

/** Replays with {@code EMITTER_DRY_RUN=true}: recorded, answered with synthetic ids, never sent. */
class DryRunMessageSenderTest {
    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private Events events;

    /** The dry run's log events as logged (level and formatted message). */
    private static final class Events extends AbstractAppender {
        final List<LogEvent> logged = new CopyOnWriteArrayList<>();

        Events() {
            super("dry-run-events", null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            if (event.getLoggerName().equals(DryRunMessageSender.class.getName())) {
                logged.add(event.toImmutable());
            }
        }
    }

    @BeforeEach
    void setUp() {
        events = new Events();
        events.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(events, Level.ALL, null);
        context.updateLoggers();
    }

    @AfterEach
    void tearDown() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(events.getName());
        context.updateLoggers();
        events.stop();
    }

    @Test
    void messagesAreRecordedAndAnsweredWithNegativeIdsCountingDownPerChat() {
        DryRunMessageSender dryRun = new DryRunMessageSender(CLOCK);

        SendResult a1 = dryRun.send(1, "first to one");
        SendResult b1 = dryRun.send(2, "first to two");
        SendResult a2 = dryRun.send(1, "second to one");

        assertEquals(List.of(new Sent(-1), new Sent(-1), new Sent(-2)), List.of(a1, b1, a2));
        assertEquals(
                List.of(
                        new WouldSend(1, "first to one", NOW, -1),
                        new WouldSend(2, "first to two", NOW, -1),
                        new WouldSend(1, "second to one", NOW, -2)),
                dryRun.recorded());
        assertEquals(
                List.of("first to one", "second to one"),
                dryRun.recorded(1).stream().map(WouldSend::text).toList());
        assertEquals(3, dryRun.sentCount());
    }

    @Test
    void nothingReachesTelegram() {
        // given a Telegram that would record any call
        try (TelegramEmulator telegram = TelegramEmulator.builder().build().start()) {
            telegram.injectMessage(7, "hello");
            DryRunMessageSender dryRun = new DryRunMessageSender(CLOCK);

            // when messages and typing go through the dry run
            dryRun.typing(7);
            dryRun.send(7, "a reply");

            // then Telegram saw no call, and the person no reply
            assertEquals(List.of(), telegram.calls());
            assertEquals(List.of(), telegram.botTexts(7));
            assertEquals(1, dryRun.typingCount());
        }
    }

    @Test
    void onlyTheNewestMessagesAreKeptButAllAreCounted() {
        DryRunMessageSender dryRun = new DryRunMessageSender(CLOCK, 3);

        for (int i = 1; i <= 5; i++) {
            dryRun.send(9, "message " + i);
        }

        assertEquals(
                List.of("message 3", "message 4", "message 5"),
                dryRun.recorded().stream().map(WouldSend::text).toList());
        assertEquals(5, dryRun.sentCount());
        assertEquals(new Sent(-6), dryRun.send(9, "message 6"), "ids keep counting past forgotten messages");
    }

    @Test
    void whatTelegramWouldRefuseForTheTextAloneIsRefusedLikeTelegram() {
        DryRunMessageSender dryRun = new DryRunMessageSender(CLOCK);

        SendResult empty = dryRun.send(3, "");
        SendResult blank = dryRun.send(3, " \n ");
        SendResult tooLong = dryRun.send(3, "x".repeat(TelegramLimits.MAX_MESSAGE_CHARS + 1));
        SendResult justRight = dryRun.send(3, "x".repeat(TelegramLimits.MAX_MESSAGE_CHARS));

        assertEquals(
                TelegramMessageSender.NOT_SENT_STATUS,
                assertInstanceOf(Rejected.class, empty).status());
        assertEquals(400, assertInstanceOf(Rejected.class, blank).status());
        Rejected rejected = assertInstanceOf(Rejected.class, tooLong);
        assertEquals(400, rejected.status());
        assertTrue(rejected.reason().contains("message is too long"), rejected.reason());
        assertEquals(new Sent(-1), justRight);
        assertEquals(1, dryRun.recorded().size());
    }

    @Test
    void theInfoLogNamesChatAndLengthButNotTheText() {
        DryRunMessageSender dryRun = new DryRunMessageSender(CLOCK);

        dryRun.send(4_242, "a private thought");

        List<String> info = events.logged.stream()
                .filter(e -> e.getLevel() == Level.INFO)
                .map(e -> e.getMessage().getFormattedMessage())
                .toList();
        assertEquals(1, info.size(), info.toString());
        assertTrue(info.get(0).contains("chat 4242") && info.get(0).contains("17 chars"), info.get(0));
        assertFalse(info.get(0).contains("private thought"), info.get(0));
    }
}

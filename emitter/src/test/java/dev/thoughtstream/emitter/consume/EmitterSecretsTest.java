package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
 * The bot token stays out of the logs, also when things go wrong. Checked twice: in the log file as written
 * (what the brief promises) and in the raw log events before any layout, because the log4j2 configuration
 * masks "bot&lt;token&gt;" itself and would hide a leak from the file check.
 */
class EmitterSecretsTest {
    private static final long CHAT = 4_801;
    private static final long BLOCKED_CHAT = 4_802;
    private static final String SECRET_PART = EmitterFixture.TOKEN.substring(EmitterFixture.TOKEN.indexOf(':') + 1);

    private EmitterFixture fx;
    private RawEvents raw;

    /** Every event's message and stack trace as logged, before a layout could redact anything. */
    private static final class RawEvents extends AbstractAppender {
        final List<String> texts = new CopyOnWriteArrayList<>();

        RawEvents() {
            super("emitter-secrets-raw", null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            StringBuilder sb = new StringBuilder(event.getMessage().getFormattedMessage());
            for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
                sb.append(" | ").append(t);
                for (StackTraceElement e : t.getStackTrace()) {
                    sb.append(' ').append(e);
                }
            }
            texts.add(sb.toString());
        }
    }

    @BeforeEach
    void setUp() {
        raw = new RawEvents();
        raw.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(raw, Level.ALL, null);
        context.updateLoggers();
        fx = EmitterFixture.create("secrets");
    }

    @AfterEach
    void tearDown() {
        fx.close();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(raw.getName());
        context.updateLoggers();
        raw.stop();
    }

    @Test
    void theTokenAppearsNeitherInTheLogFileNorInAnyLogEventAfterErrors() throws IOException {
        // given an emitter that meets a rate limit, server errors, a blocked chat and a rejected request
        fx.chatOpens(CHAT);
        fx.chatOpens(BLOCKED_CHAT);
        fx.emulator.block(BLOCKED_CHAT);
        fx.emulator.addFault("sendMessage", 429, 1, 1, CHAT, null);
        fx.emulator.addFault("sendMessage", 500, 0, 1, CHAT, null);
        fx.emulator.addFault("sendChatAction", 502, 0, 1, CHAT, null);
        fx.startEmitter(Map.of("TYPING_MIN_MS", "10", "TYPING_MAX_MS", "10", "EMITTER_MAX_SEND_ATTEMPTS", "3"));

        // when parts go out through all of that, then the Bot API disappears
        fx.produce(EmitterFixture.part(CHAT, "r-s", 0, false, "through the flood"));
        fx.produce(EmitterFixture.part(BLOCKED_CHAT, "r-blocked", 0, true, "never seen"));
        fx.produce(EmitterFixture.part(CHAT, "r-s", 1, false, ""));
        assertEquals(List.of("through the flood"), fx.awaitBotTexts(CHAT, 1));
        fx.awaitOutcomeOf("r-s", 1);
        fx.awaitOutcomeOf("r-blocked", 0);
        fx.emulator.close();
        fx.produce(EmitterFixture.part(CHAT, "r-s", 2, true, "into the void"));
        List<Delivery> all = fx.awaitOutcomeOf("r-s", 2);

        // then the errors happened (so there was something to leak) ...
        assertTrue(all.stream().anyMatch(d -> d.outcome() == Delivery.Outcome.FAILED), all.toString());
        assertTrue(raw.texts.stream().anyMatch(t -> t.contains("429")), "a rate limit was logged");
        // ... and neither the outcomes, nor the raw log events, nor the log file carry the token
        for (Delivery d : all) {
            assertFalse(String.valueOf(d.reason()).contains(SECRET_PART), d.toString());
        }
        for (String text : raw.texts) {
            assertFalse(text.contains(SECRET_PART), "a log event carries the token: " + text);
        }
        Path log = Path.of(System.getProperty("thoughtstream.log.dir", "target/logs"), "test.log");
        assertTrue(Files.isRegularFile(log), log + " exists");
        String written = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(written.contains("r-blocked"), "the log file has this test's lines");
        assertFalse(written.contains(SECRET_PART), "the token is in " + log);
    }
}

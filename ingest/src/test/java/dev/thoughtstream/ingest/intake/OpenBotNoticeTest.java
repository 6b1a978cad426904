package dev.thoughtstream.ingest.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.metrics.Metrics;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A bot without allow-lists is a warning where anyone can find it, Telegram's own Bot API, and an INFO line naming
 * the address anywhere else (devstack's emulator), so a laptop run starts without a warning that does not apply.
 */
class OpenBotNoticeTest {
    private final Logger logger = (Logger) LogManager.getLogger(IntakeRules.class);
    private final Recorder recorder = new Recorder();

    @BeforeEach
    void record() {
        Configurator.setLevel(IntakeRules.class.getName(), Level.INFO);
        recorder.start();
        logger.addAppender(recorder);
    }

    @AfterEach
    void stopRecording() {
        logger.removeAppender(recorder);
        recorder.stop();
    }

    @Test
    void anOpenBotOnTelegramsOwnBotApiIsAWarning() {
        create(URI.create("https://api.telegram.org"));

        assertEquals(
                List.of("WARN ALLOWED_USER_IDS and ALLOWED_CHAT_IDS are empty: anyone who finds the bot can use it "
                        + "(and spend its model budget)"),
                recorder.about("ALLOWED_USER_IDS"));
    }

    @Test
    void anOpenBotBehindAnyOtherBotApiIsSaidAtInfoNamingTheAddress() {
        create(URI.create("http://127.0.0.1:8088"));

        assertEquals(
                List.of("INFO ALLOWED_USER_IDS and ALLOWED_CHAT_IDS are empty: anyone who reaches the bot through "
                        + "http://127.0.0.1:8088 can use it"),
                recorder.about("ALLOWED_USER_IDS"));
    }

    private static void create(URI apiUrl) {
        IntakeRules.create(AccessSettings.openToAll(), 7, "bot", null, null, new Metrics(), Clock.systemUTC(), apiUrl);
    }

    /** The level and message of each event, in order. */
    private static final class Recorder extends AbstractAppender {
        private final List<String> lines = new CopyOnWriteArrayList<>();

        Recorder() {
            super("open-bot-notice", null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            lines.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
        }

        List<String> about(String word) {
            return lines.stream().filter(l -> l.contains(word)).toList();
        }
    }
}

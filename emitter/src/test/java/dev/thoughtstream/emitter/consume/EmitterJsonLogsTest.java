package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.layout.template.json.JsonTemplateLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With LOG_FORMAT=json an operator's log tool can find every line about a reply by its ids: the emitter's lines are
 * written through the services' JSON template (log4j2-json.json, what log4j2.xml uses for LOG_FORMAT=json) and
 * parsed back here.
 */
class EmitterJsonLogsTest {
    private static final long CHAT = 4_901;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET_PART = EmitterFixture.TOKEN.substring(EmitterFixture.TOKEN.indexOf(':') + 1);

    private EmitterFixture fx;
    private JsonLines lines;

    /** Every event as the JSON layout writes it. */
    private static final class JsonLines extends AbstractAppender {
        final List<String> written = new CopyOnWriteArrayList<>();

        JsonLines(LoggerContext context) {
            super(
                    "emitter-json-lines",
                    null,
                    JsonTemplateLayout.newBuilder()
                            .setConfiguration(context.getConfiguration())
                            .setEventTemplateUri("classpath:log4j2-json.json")
                            .build(),
                    true,
                    Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            written.add(getLayout().toSerializable(event).toString());
        }
    }

    @BeforeEach
    void setUp() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        lines = new JsonLines(context);
        lines.start();
        context.getConfiguration().getRootLogger().addAppender(lines, Level.ALL, null);
        context.updateLoggers();
        fx = EmitterFixture.create("json-logs");
    }

    @AfterEach
    void tearDown() {
        fx.close();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(lines.getName());
        context.updateLoggers();
        lines.stop();
    }

    @Test
    void aLineAboutAReplyCarriesItsChatThoughtAndReplyIdsAsFields() {
        // given an emitter whose first sendMessage for the chat Telegram refuses once (so its lane logs a retry)
        fx.chatOpens(CHAT);
        fx.emulator.addFault("sendMessage", 500, 0, 1, CHAT, null);
        fx.startEmitter(Map.of("TYPING_MIN_MS", "10", "TYPING_MAX_MS", "10"));

        // when one reply part goes out
        fx.produce(EmitterFixture.part(CHAT, "r-json", 0, true, "hello in json"));
        assertEquals(List.of("hello in json"), fx.awaitBotTexts(CHAT, 1));
        fx.awaitOutcomeOf("r-json", 0);

        // then every line is one JSON object, and the retry's line names the part's ids as fields
        List<JsonNode> parsed = new ArrayList<>();
        for (String line : lines.written) {
            assertEquals(1, line.strip().lines().count(), "one line per event: " + line);
            parsed.add(parse(line));
        }
        List<JsonNode> aboutTheReply = parsed.stream()
                .filter(j -> j.path("message").asText().contains("reply r-json"))
                .toList();
        assertFalse(aboutTheReply.isEmpty(), "a line names the reply: " + lines.written);
        JsonNode retry = aboutTheReply.stream()
                .filter(j -> j.path("message").asText().contains("not taken"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no retry line among " + aboutTheReply));
        assertEquals(String.valueOf(CHAT), retry.path("chat_id").asText(), retry.toString());
        assertEquals("thought-r-json", retry.path("thought_id").asText(), retry.toString());
        assertEquals("r-json", retry.path("reply_id").asText(), retry.toString());
        assertEquals("WARN", retry.path("level").asText());
        assertTrue(retry.path("logger").asText().startsWith("dev.thoughtstream.emitter"), retry.toString());
        assertTrue(retry.has("timestamp") && retry.has("thread"), retry.toString());
        for (JsonNode line : aboutTheReply) {
            assertEquals(String.valueOf(CHAT), line.path("chat_id").asText(), "every line about it: " + line);
        }
        for (String line : lines.written) {
            assertFalse(line.contains(SECRET_PART), "a JSON line carries the token: " + line);
        }
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + line, e);
        }
    }
}

package dev.thoughtstream.common.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.service.ServiceRunner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.Layout;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.xml.XmlConfiguration;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.logging.log4j.layout.template.json.JsonTemplateLayout;
import org.apache.logging.log4j.message.SimpleMessage;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.junit.jupiter.api.Test;

/**
 * LOG_FORMAT: checked like every other variable, and the services' own log4j2.xml writing what it promises in
 * either format. The tests run under config/log4j2-test.xml, so the services' configuration is loaded here into a
 * context of its own and its console layout applied to events.
 */
class LogFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    @Test
    void anUnknownFormatStopsTheServiceNamingTheVariableAndTheAllowedValues() {
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "LOG_FORMAT", "loud"));

        ConfigException e = assertThrows(ConfigException.class, () -> Infra.Settings.from(config, false));

        assertTrue(e.getMessage().contains("LOG_FORMAT"), e.getMessage());
        assertTrue(e.getMessage().contains("text | json"), e.getMessage());
        assertTrue(e.getMessage().contains("loud"), e.getMessage());
    }

    @Test
    void aServiceWithAnUnknownFormatExitsWithTheConfigurationCodeBeforeBuildingAnything() {
        // given a service whose LOG_FORMAT is not one of the formats
        AtomicBoolean built = new AtomicBoolean();
        ServiceFactory factory = new ServiceFactory() {
            @Override
            public String name() {
                return "log-format-test";
            }

            @Override
            public boolean usesRedis() {
                return false;
            }

            @Override
            public void validate(Config config) {}

            @Override
            public Service create(Config config, Infra infra) {
                built.set(true);
                throw new AssertionError("an invalid LOG_FORMAT must stop the service before it is built");
            }
        };
        Config config =
                Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "LOG_FORMAT", "loud", "HTTP_PORT", "0"));

        // when it is run, then it stops at once with exit code 2, saying which variable is wrong
        try (CapturedEvents captured = CapturedEvents.attach("log-format-runner")) {
            assertEquals(ServiceRunner.EXIT_CONFIG, ServiceRunner.run(factory, config));
            assertFalse(built.get());
            assertTrue(
                    captured.events.stream()
                            .anyMatch(e -> e.message().startsWith("invalid configuration")
                                    && e.message().contains("LOG_FORMAT")),
                    captured.events.toString());
        }
    }

    @Test
    void textIsTheDefaultAndJsonIsAcceptedInAnyCase() {
        assertEquals(LogFormat.TEXT, LogFormat.from(Config.of(Map.of())));
        assertEquals(LogFormat.JSON, LogFormat.from(Config.of(Map.of("LOG_FORMAT", "json"))));
        assertEquals(LogFormat.JSON, LogFormat.from(Config.of(Map.of("LOG_FORMAT", "JSON"))));
    }

    @Test
    void jsonLinesCarryTheFieldsAndTheIdsAndNoToken() throws IOException {
        // given the services' configuration with LOG_FORMAT=json
        String line = withServicesLayout(LogFormat.JSON, layout -> {
            assertInstanceOf(JsonTemplateLayout.class, layout);
            // when a line about a chat is written, with a failure that quotes the token
            return layout.toSerializable(event(
                    "chat 42 reply r-42-7 failed calling https://api.telegram.org/bot" + TOKEN + "/sendMessage",
                    Map.of("chat_id", "42", "thought_id", "42:7", "reply_id", "r-42-7"),
                    new IllegalStateException("POST /bot" + TOKEN + "/sendMessage")));
        });

        // then it is one JSON object with every field, the ids as fields, and the token nowhere
        assertEquals(1, line.strip().lines().count(), line);
        JsonNode json = JSON.readTree(line);
        assertTrue(json.get("timestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), line);
        assertEquals("WARN", json.get("level").asText());
        assertEquals("dev.thoughtstream.emitter.Lanes", json.get("logger").asText());
        assertEquals("lane-1", json.get("thread").asText());
        assertEquals("42", json.get("chat_id").asText());
        assertEquals("42:7", json.get("thought_id").asText());
        assertEquals("r-42-7", json.get("reply_id").asText());
        assertTrue(json.get("message").asText().startsWith("chat 42 reply r-42-7 failed"), line);
        assertTrue(json.get("exception").asText().contains("IllegalStateException"), line);
        assertTrue(json.get("exception").asText().contains("LogFormatTest"), "the stack trace: " + line);
        assertFalse(line.contains(TOKEN.substring(10)), line);
        assertTrue(json.get("message").asText().contains("bot<redacted>"), line);
    }

    @Test
    void aJsonLineWithoutContextOrFailureHasNoEmptyFields() throws IOException {
        String line = withServicesLayout(
                LogFormat.JSON, layout -> layout.toSerializable(event("emitter running", Map.of(), null)));

        JsonNode json = JSON.readTree(line);
        assertEquals("emitter running", json.get("message").asText());
        assertFalse(json.has("chat_id"), line);
        assertFalse(json.has("exception"), line);
    }

    @Test
    void textLinesNameTheIdsThatAreSetAndNoOthers() {
        String withIds = withServicesLayout(LogFormat.TEXT, layout -> {
            assertInstanceOf(PatternLayout.class, layout);
            return layout.toSerializable(event("sent", Map.of("chat_id", "42", "reply_id", "r-42-7"), null));
        });
        String without = withServicesLayout(
                LogFormat.TEXT, layout -> layout.toSerializable(event("emitter running", Map.of(), null)));

        assertTrue(withIds.contains("d.t.e.Lanes chat_id=42 reply_id=r-42-7 sent"), withIds);
        assertFalse(withIds.contains("thought_id"), withIds);
        assertTrue(without.contains("d.t.e.Lanes emitter running"), without);
    }

    private static LogEvent event(String message, Map<String, String> context, Throwable thrown) {
        SortedArrayStringMap data = new SortedArrayStringMap();
        context.forEach(data::putValue);
        return Log4jLogEvent.newBuilder()
                .setLoggerName("dev.thoughtstream.emitter.Lanes")
                .setLevel(Level.WARN)
                .setThreadName("lane-1")
                .setTimeMillis(System.currentTimeMillis())
                .setMessage(new SimpleMessage(message))
                .setContextData(data)
                .setThrown(thrown)
                .build();
    }

    /** Applies {@code use} to the console layout of the services' log4j2.xml as {@code format} selects it. */
    private static String withServicesLayout(LogFormat format, Function<Layout<?>, Object> use) {
        String before = System.getProperty(LogFormat.PROPERTY);
        System.setProperty(LogFormat.PROPERTY, format.value());
        LoggerContext context = new LoggerContext("services-log4j2-" + format.value());
        try (InputStream in = LogFormatTest.class.getClassLoader().getResourceAsStream("log4j2.xml")) {
            Configuration configuration = new XmlConfiguration(context, new ConfigurationSource(in));
            context.start(configuration);
            Object out =
                    use.apply(context.getConfiguration().getAppender("console").getLayout());
            return out instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : out.toString();
        } catch (IOException e) {
            throw new AssertionError(e);
        } finally {
            context.stop();
            if (before == null) {
                System.clearProperty(LogFormat.PROPERTY);
            } else {
                System.setProperty(LogFormat.PROPERTY, before);
            }
        }
    }
}

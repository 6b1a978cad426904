package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.llm.CapturedLogs;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.generate.ReplyResult.Outcome;
import dev.thoughtstream.llm.handle.ThoughtHandler;
import dev.thoughtstream.llm.model.ErrorKind;
import dev.thoughtstream.llm.model.ModelError;
import dev.thoughtstream.llm.model.ModelFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A failed model call says where the model is: the error of the reply (the dead letter's reason) and the log line
 * name the provider, the model and the URL, over the real LangChain4j clients and real sockets, without the key.
 */
class ModelErrorsNameTheProviderTest {
    private static final String KEY = "sk-where-secret-0123456789";
    private static final String APOLOGY = "Sorry, not now.";

    private final ScheduledThreadPoolExecutor scheduler =
            new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-where", true));
    private final List<ReplyPart> sent = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ollama", "openai"})
    void aCallToAServerThatIsNotThereFailsNamingItsUrlInTheReasonAndTheLog(String provider) throws Exception {
        String url = "http://127.0.0.1:" + closedPort() + (provider.equals("openai") ? "/v1" : "");
        ReplyGenerator generator = generator(provider, url, Map.of());

        try (CapturedLogs logs = CapturedLogs.attach()) {
            ReplyResult result =
                    generator.generate(thought(), sent::add).result().get(30, TimeUnit.SECONDS);

            assertEquals(Outcome.FAILED, result.outcome());
            String error = result.error().orElseThrow();
            assertTrue(error.startsWith("connection: "), error);
            assertTrue(error.endsWith("(" + provider + " test-model at " + url + ")"), error);
            assertFalse(error.contains(KEY), error);
            String deadLetterReason = ThoughtHandler.failure(result).orElseThrow();
            assertTrue(deadLetterReason.contains(url), deadLetterReason);
            List<CapturedLogs.Event> warnings = logs.of(ReplyGeneration.class, Level.WARN);
            assertEquals(1, warnings.size(), logs.messages().toString());
            assertTrue(
                    warnings.get(0).message().contains("at " + url),
                    warnings.get(0).message());
            assertTrue(
                    warnings.get(0).message().contains("sending the apology"),
                    warnings.get(0).message());
            assertFalse(logs.messages().toString().contains(KEY));
        }
        assertEquals(List.of(APOLOGY), sent.stream().map(ReplyPart::text).toList());
    }

    @Test
    void aTimeoutOfOurOwnNamesTheUrlToo() throws Exception {
        // A server that takes the connection and never answers: the first-token timeout ends the call.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + silent.getLocalPort();
            ReplyGenerator generator = generator("ollama", url, Map.of(LlmConfig.FIRST_TOKEN_TIMEOUT_MS, "200"));

            ReplyResult result =
                    generator.generate(thought(), sent::add).result().get(30, TimeUnit.SECONDS);

            String error = result.error().orElseThrow();
            assertTrue(error.startsWith("first_token_timeout: "), error);
            assertTrue(error.endsWith("(ollama test-model at " + url + ")"), error);
        }
    }

    @Test
    void thePlaceIsAddedOnceAndSurvivesALongDescription() {
        String where = "ollama llama3.2 at http://localhost:11434";
        ModelError error = new ModelError(ErrorKind.CONNECTION, "connection: ConnectException", Optional.empty());
        ModelError long_ =
                new ModelError(ErrorKind.OTHER, "x".repeat(ModelError.MAX_DESCRIPTION_CHARS), Optional.empty());

        ModelError named = error.at(where);

        assertEquals("connection: ConnectException (" + where + ")", named.description());
        assertSame(named, named.at(where), "named once");
        assertSame(error, error.at(""), "nothing to name");
        String cut = long_.at(where).description();
        assertEquals(ModelError.MAX_DESCRIPTION_CHARS, cut.length());
        assertTrue(cut.endsWith("\u2026 (" + where + ")"), cut);
    }

    private ReplyGenerator generator(String provider, String url, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, provider);
        env.put(LlmConfig.API_URL, url);
        env.put(LlmConfig.MODEL, "test-model");
        env.put(LlmConfig.API_KEY, KEY);
        env.put(LlmConfig.APOLOGY_TEXT, APOLOGY);
        env.put(LlmConfig.MAX_ATTEMPTS, "1");
        env.put(LlmConfig.TIMEOUT_MS, "2000");
        env.putAll(overrides);
        LlmConfig config = LlmConfig.from(Config.of(env));
        StreamingChatModel model = ModelFactory.streaming(config, scheduler);
        return ReplyGenerator.from(config, model, scheduler, Clock.systemUTC(), new Metrics());
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static Thought thought() {
        return new Thought(
                Thought.SCHEMA_VERSION, "7:1", 7L, List.of(new ThoughtMessage(1, "Hi", 0)), 1, 1, 0, 0, List.of());
    }
}

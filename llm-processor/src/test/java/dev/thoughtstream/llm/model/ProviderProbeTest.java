package dev.thoughtstream.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.model.ProbeResult.Status;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ProviderProbe} over real HTTP: testkit's {@link FakeLlmServer} lists models as Ollama's {@code /api/tags}
 * and OpenAI's {@code /models} do; a closed port and a port that never answers stand for a provider that is not
 * there.
 */
class ProviderProbeTest {
    private static final String KEY = "sk-probe-secret-0123456789";
    private static final Duration TIMEOUT = Duration.ofMillis(1_500);

    private final ProviderProbe probe = ProviderProbe.withTimeout(TIMEOUT);
    private FakeLlmServer server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anOllamaModelAskedForWithoutATagIsFoundUnderLatest() {
        server = FakeLlmServer.builder().listedModels("llama3.2").build().start();

        ProbeResult result = probe.probe(ollama(server.ollamaBaseUrl(), "llama3.2"));

        assertEquals(Status.AVAILABLE, result.status(), result.message());
        assertTrue(result.healthy());
        assertEquals(server.ollamaBaseUrl() + "/api/tags", result.probeUrl());
        assertEquals("model available", result.summary());
    }

    @Test
    void anOllamaModelWithAnExplicitTagIsFoundOnlyUnderThatTag() {
        server = FakeLlmServer.builder().listedModels("qwen3:8b").build().start();

        assertEquals(
                Status.AVAILABLE,
                probe.probe(ollama(server.ollamaBaseUrl(), "qwen3:8b")).status());
        assertEquals(
                Status.MODEL_MISSING,
                probe.probe(ollama(server.ollamaBaseUrl(), "qwen3")).status(),
                "qwen3 means qwen3:latest, which is not there");
    }

    @Test
    void aMissingOllamaModelIsReportedWithTheModelsThatAreThereAndHowToGetIt() {
        server = FakeLlmServer.builder()
                .listedModels("mistral", "qwen3:8b")
                .build()
                .start();

        ProbeResult result = probe.probe(ollama(server.ollamaBaseUrl(), "llama3.2"));

        assertEquals(Status.MODEL_MISSING, result.status());
        assertFalse(result.healthy());
        assertEquals(List.of("mistral:latest", "qwen3:8b"), result.available());
        String message = result.message();
        assertTrue(message.contains("ollama llama3.2 at " + server.ollamaBaseUrl()), message);
        assertTrue(message.contains("mistral:latest, qwen3:8b"), message);
        assertTrue(message.contains("ollama pull llama3.2"), message);
        assertEquals("model llama3.2 missing; available: mistral:latest, qwen3:8b", result.summary());
    }

    @Test
    void anOllamaWithNoModelAtAllSaysSo() {
        server = FakeLlmServer.builder().listedModels().build().start();

        ProbeResult result = probe.probe(ollama(server.ollamaBaseUrl(), "llama3.2"));

        assertEquals(Status.MODEL_MISSING, result.status());
        assertTrue(result.summary().endsWith("available: none"), result.summary());
    }

    @Test
    void anOpenAiModelIsFoundWithTheKeyInTheAuthorizationHeader() {
        // The fake answers /v1/models with 401 unless "Authorization: Bearer <key>" comes along.
        server = FakeLlmServer.builder()
                .apiKey(KEY)
                .listedModels("gpt-4o-mini", "gpt-4o")
                .build()
                .start();

        ProbeResult result = probe.probe(openAi(server.openAiBaseUrl(), "gpt-4o-mini", KEY));

        assertEquals(Status.AVAILABLE, result.status(), result.message());
        assertEquals(server.openAiBaseUrl() + "/models", result.probeUrl());
    }

    @Test
    void aMissingOpenAiModelListsTheIdsThatAre() {
        server = FakeLlmServer.builder()
                .apiKey(KEY)
                .listedModels("gpt-4o")
                .build()
                .start();

        ProbeResult result = probe.probe(openAi(server.openAiBaseUrl(), "gpt-4o-mini", KEY));

        assertEquals(Status.MODEL_MISSING, result.status());
        assertEquals(List.of("gpt-4o"), result.available());
        assertTrue(result.message().contains("set LLM_MODEL"), result.message());
    }

    @Test
    void aRefusedKeyIsReportedAsSuchWithoutTheKey() {
        server = FakeLlmServer.builder().apiKey("sk-the-right-one").build().start();

        ProbeResult result = probe.probe(openAi(server.openAiBaseUrl(), "gpt-4o-mini", KEY));

        assertEquals(Status.KEY_REFUSED, result.status());
        String message = result.message();
        assertTrue(message.contains("refused the API key"), message);
        assertTrue(message.contains("HTTP 401"), message);
        assertTrue(message.contains(server.openAiBaseUrl() + "/models"), message);
        assertFalse(message.contains(KEY), message);
        assertFalse(result.toString().contains(KEY), result.toString());
    }

    @Test
    void aKeyMissingWhereTheServerWantsOneSaysTheVariableIsNotSet() {
        server = FakeLlmServer.builder().apiKey(KEY).build().start();

        ProbeResult result = probe.probe(openAi(server.openAiBaseUrl(), "gpt-4o-mini", null));

        assertEquals(Status.KEY_REFUSED, result.status());
        assertTrue(result.detail().contains("LLM_API_KEY is not set"), result.detail());
    }

    @Test
    void nothingListeningIsUnreachableNamingTheUrlAndThePort() throws IOException {
        int port = closedPort();
        String url = "http://127.0.0.1:" + port;

        ProbeResult result = probe.probe(ollama(url, "llama3.2"));

        assertEquals(Status.UNREACHABLE, result.status());
        assertTrue(result.detail().startsWith("connection refused"), result.detail());
        assertTrue(result.detail().contains("127.0.0.1:" + port), result.detail());
        String message = result.message();
        assertTrue(message.contains("ollama llama3.2 at " + url + " is unreachable"), message);
        assertTrue(message.contains("GET " + url + "/api/tags"), message);
        assertTrue(message.contains("Starting anyway"), message);
    }

    @Test
    void aServerThatNeverAnswersIsUnreachableOnceTheTimeoutIsOver() throws IOException {
        // The kernel accepts the connection into the backlog; nobody ever reads the request.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + silent.getLocalPort() + "/v1";
            long start = System.nanoTime();

            ProbeResult result = probe.probe(openAi(url, "gpt-4o-mini", KEY));

            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertEquals(Status.UNREACHABLE, result.status());
            assertTrue(result.detail().contains("no answer within 1500 ms"), result.detail());
            assertTrue(took.compareTo(TIMEOUT.plusSeconds(2)) < 0, "the probe took " + took);
        }
    }

    @Test
    void anAnswerThatIsNoModelListIsReportedWithTheServersWordsButTheModelStaysUnchecked() {
        // A base URL one level off: the server answers, but not with a model list.
        server = FakeLlmServer.builder().build().start();

        ProbeResult result = probe.probe(openAi(server.openAiBaseUrl() + "/nowhere", "gpt-4o-mini", KEY));

        assertEquals(Status.UNEXPECTED_ANSWER, result.status());
        assertTrue(result.detail().startsWith("HTTP 404: Unknown request URL"), result.detail());
        assertTrue(result.message().contains("could not be checked"), result.message());
        assertEquals("model not checked: " + result.detail(), result.summary());
    }

    @Test
    void theScriptedModelHasNoServerAndIsNotProbed() {
        ProbeResult result = probe.probe(LlmConfig.Model.from(Config.of(Map.of())));

        assertEquals(Status.NOT_PROBED, result.status());
        assertTrue(result.healthy());
    }

    @Test
    void theUrlShownDropsUserInfoQueryAndFragment() {
        LlmConfig.Model model = openAi("https://user:hunter2@llm.example.com:8443/v1/?api-key=abc#x", "m", KEY);

        assertEquals(
                "https://llm.example.com:8443/v1/",
                ProviderEndpoint.of(model).url().orElseThrow());
        assertEquals("https://llm.example.com:8443/v1/models", ProviderEndpoint.shown(ProviderProbe.listUrl(model)));
        assertEquals(
                "openai m at https://llm.example.com:8443/v1/",
                ProviderEndpoint.of(model).describe());
    }

    static LlmConfig.Model ollama(String url, String model) {
        return LlmConfig.Model.from(Config.of(Map.of(
                LlmConfig.PROVIDER, "ollama",
                LlmConfig.API_URL, url,
                LlmConfig.MODEL, model)));
    }

    static LlmConfig.Model openAi(String url, String model, String key) {
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, "openai");
        env.put(LlmConfig.API_URL, url);
        env.put(LlmConfig.MODEL, model);
        if (key != null) {
            env.put(LlmConfig.API_KEY, key);
        }
        return LlmConfig.Model.from(Config.of(env));
    }

    /** A port on 127.0.0.1 that was free a moment ago and has nothing listening now. */
    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}

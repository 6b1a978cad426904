package dev.thoughtstream.llm.model;

import static dev.thoughtstream.llm.model.ProviderProbeTest.closedPort;
import static dev.thoughtstream.llm.model.ProviderProbeTest.ollama;
import static dev.thoughtstream.llm.model.ProviderProbeTest.openAi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.llm.CapturedLogs;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.model.ProbeResult.Status;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ProviderCheck}: the probe of a service start, over real HTTP. It does not hold the start up, says once
 * (WARN, naming URL and model) what stands in the model's way, and stays quiet when nothing does.
 */
class ProviderCheckTest {
    private static final String KEY = "sk-check-secret-0123456789";
    private static final Duration PROBE_TIMEOUT = Duration.ofMillis(1_500);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final Metrics metrics = new Metrics();
    private final List<ProviderCheck> checks = new ArrayList<>();
    private CapturedLogs logs;
    private FakeLlmServer server;

    @BeforeEach
    void captureLogs() {
        logs = CapturedLogs.attach();
    }

    @AfterEach
    void tearDown() {
        checks.forEach(ProviderCheck::close);
        if (server != null) {
            server.close();
        }
        logs.close();
    }

    @Test
    void aProviderWithTheModelIsReportedOnceAtInfoAndNothingIsWarned() throws Exception {
        server = FakeLlmServer.builder().listedModels("llama3.2").build().start();
        ProviderCheck check = check(ollama(server.ollamaBaseUrl(), "llama3.2"));

        check.start();
        ProbeResult result = check.result().get(10, TimeUnit.SECONDS);

        assertEquals(Status.AVAILABLE, result.status());
        Await.until(
                "the verdict logged",
                WAIT,
                () -> !logs.of(ProviderCheck.class, Level.INFO).isEmpty());
        assertEquals(
                1,
                logs.of(ProviderCheck.class, Level.INFO).size(),
                logs.messages().toString());
        assertEquals(
                List.of(),
                logs.of(ProviderCheck.class, Level.WARN),
                logs.messages().toString());
        assertEquals("ollama llama3.2 at " + server.ollamaBaseUrl() + " (model available)", check.describe(WAIT));
        assertEquals(1.0, probeOk("ollama"));
    }

    @Test
    void aMissingModelIsWarnedOnceListingTheModelsThatAreThere() throws Exception {
        server = FakeLlmServer.builder().listedModels("mistral").build().start();
        ProviderCheck check = check(ollama(server.ollamaBaseUrl(), "llama3.2"));

        check.start();
        check.result().get(10, TimeUnit.SECONDS);

        String warning = onlyWarning();
        assertTrue(warning.contains("model llama3.2 is not among the models"), warning);
        assertTrue(warning.contains("GET " + server.ollamaBaseUrl() + "/api/tags"), warning);
        assertTrue(warning.contains("(mistral:latest)"), warning);
        assertTrue(check.describe(WAIT).endsWith("(model llama3.2 missing; available: mistral:latest)"));
        assertEquals(0.0, probeOk("ollama"));
    }

    @Test
    void nothingListeningIsWarnedNamingTheUrlAndTheModelAndTheStartGoesOn() throws Exception {
        String url = "http://127.0.0.1:" + closedPort();
        ProviderCheck check = check(ollama(url, "llama3.2"));

        check.start();
        ProbeResult result = check.result().get(10, TimeUnit.SECONDS);

        assertEquals(Status.UNREACHABLE, result.status());
        String warning = onlyWarning();
        assertTrue(warning.contains("LLM provider ollama llama3.2 at " + url + " is unreachable"), warning);
        assertTrue(warning.contains("connection refused"), warning);
        String described = check.describe(WAIT);
        assertTrue(described.startsWith("ollama llama3.2 at " + url + " (unreachable: connection refused"), described);
        assertEquals(0.0, probeOk("ollama"));
    }

    @Test
    void aRefusedKeyIsWarnedWithoutTheKey() throws Exception {
        server = FakeLlmServer.builder().apiKey("sk-another-key").build().start();
        ProviderCheck check = check(openAi(server.openAiBaseUrl(), "gpt-4o-mini", KEY));

        check.start();
        check.result().get(10, TimeUnit.SECONDS);

        String warning = onlyWarning();
        assertTrue(warning.contains("refused the API key"), warning);
        assertTrue(warning.contains(server.openAiBaseUrl() + "/models answered HTTP 401"), warning);
        assertFalse(logs.messages().toString().contains(KEY), logs.messages().toString());
        assertFalse(check.describe(WAIT).contains(KEY));
        assertTrue(check.describe(WAIT).endsWith("(API key refused: HTTP 401)"), check.describe(WAIT));
        assertFalse(metrics.scrape().contains(KEY));
    }

    @Test
    void aServerThatNeverAnswersDoesNotHoldTheStartUpAndEndsUnreachableAfterTheTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + silent.getLocalPort();
            ProviderCheck check = check(ollama(url, "llama3.2"));

            check.start();
            // The probe cannot have its verdict yet: nothing will answer for the whole timeout.
            assertFalse(check.result().isDone(), "start() returned before the verdict");
            assertTrue(check.describe(Duration.ZERO).endsWith("(probe still running)"));

            String described = check.describe(WAIT);
            assertEquals("ollama llama3.2 at " + url + " (unreachable: no answer within 1500 ms)", described);
            assertTrue(onlyWarning().contains("is unreachable"));
        }
    }

    @Test
    void theScriptedModelIsNotProbedAndNothingIsLogged() throws Exception {
        ProviderCheck check = check(LlmConfig.Model.from(Config.of(Map.of())));

        check.start();

        assertEquals(Status.NOT_PROBED, check.result().get(1, TimeUnit.SECONDS).status());
        assertEquals("scripted", check.describe(WAIT));
        assertEquals(List.of(), logs.of(ProviderCheck.class, Level.WARN));
        assertEquals(List.of(), logs.of(ProviderCheck.class, Level.INFO));
        assertEquals(1.0, probeOk("scripted"));
    }

    @Test
    void aVerdictArrivingAfterCloseIsNotReported() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ProviderCheck check = check(ollama("http://127.0.0.1:" + silent.getLocalPort(), "llama3.2"));
            check.start();

            check.close();
            check.result().get(10, TimeUnit.SECONDS);

            assertEquals(
                    List.of(),
                    logs.of(ProviderCheck.class, Level.WARN),
                    logs.messages().toString());
        }
    }

    private ProviderCheck check(LlmConfig.Model model) {
        ProviderCheck check = new ProviderCheck(
                model,
                model.apiUrl().map(url -> ProviderProbe.withTimeout(PROBE_TIMEOUT)),
                NamedThreads.factory("test-probe", true),
                metrics);
        checks.add(check);
        return check;
    }

    /**
     * The one WARN of the check. The verdict is logged on the thread completing the result, which may wake a waiter
     * on the result first: hence the wait.
     */
    private String onlyWarning() {
        Await.until(
                "the warning",
                WAIT,
                () -> !logs.of(ProviderCheck.class, Level.WARN).isEmpty());
        List<CapturedLogs.Event> warnings = logs.of(ProviderCheck.class, Level.WARN);
        assertEquals(1, warnings.size(), logs.messages().toString());
        return warnings.get(0).message();
    }

    private double probeOk(String provider) {
        String prefix = Metrics.PREFIX + ProviderCheck.PROBE_OK + "{provider=\"" + provider + "\"} ";
        return metrics.scrape()
                .lines()
                .filter(line -> line.startsWith(prefix))
                .map(line -> Double.parseDouble(line.substring(prefix.length())))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix + " in " + metrics.scrape()));
    }
}

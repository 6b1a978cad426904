package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.llm.model.ProviderCheck;
import dev.thoughtstream.llm.model.ProviderProbe;
import dev.thoughtstream.testkit.Await;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/**
 * The llm-processor's start with its provider probe: a provider that is not there is warned about, naming URL and
 * model, while the service starts all the same; the ready line's description says what the probe found.
 */
class ProviderCheckedServiceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void anUnreachableProviderIsWarnedAboutAndTheServiceStartsAnyway() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Config config = Config.of(Map.of(
                LlmConfig.PROVIDER, "ollama",
                LlmConfig.API_URL, "http://127.0.0.1:" + port,
                LlmConfig.MODEL, "llama3.2"));
        LlmConfig.Model model = LlmConfig.from(config).model();
        StartedService processor = new StartedService();
        ProviderCheckedService service = new ProviderCheckedService(
                processor,
                new ProviderCheck(
                        model,
                        Optional.of(ProviderProbe.withTimeout(ProviderProbe.DEFAULT_TIMEOUT)),
                        NamedThreads.factory("test-probe", true),
                        new Metrics()));

        try (CapturedLogs logs = CapturedLogs.attach()) {
            service.start();

            assertTrue(processor.started, "the service started");
            assertTrue(service.isReady());
            String described = LlmProcessorFactory.describe(config, List.of(new StartedService(), service), WAIT);
            assertEquals(
                    "ollama llama3.2 at http://127.0.0.1:" + port + " (unreachable: connection refused (nothing"
                            + " listens on 127.0.0.1:" + port + "))",
                    described);
            Await.until(
                    "the warning",
                    WAIT,
                    () -> !logs.of(ProviderCheck.class, Level.WARN).isEmpty());
            String warning = logs.of(ProviderCheck.class, Level.WARN).get(0).message();
            assertTrue(warning.contains("http://127.0.0.1:" + port), warning);
            assertTrue(warning.contains("llama3.2"), warning);
        } finally {
            service.close();
        }
        assertTrue(processor.closed, "closing closes the service");
    }

    @Test
    void withoutAnLlmProcessorTheDescriptionIsTheConfiguredOne() {
        Config config = Config.of(Map.of(LlmConfig.PROVIDER, "openai", LlmConfig.API_URL, "http://127.0.0.1:9/v1"));

        assertEquals(
                "openai gpt-4o-mini at http://127.0.0.1:9/v1",
                LlmProcessorFactory.describe(config, List.of(new StartedService()), WAIT));
        assertEquals("scripted", LlmProcessorFactory.describe(Config.of(Map.of())));
    }

    /** A service that only remembers being started and closed. */
    private static final class StartedService implements Service {
        private final CountDownLatch stopped = new CountDownLatch(1);
        volatile boolean started;
        volatile boolean closed;

        @Override
        public String name() {
            return "started";
        }

        @Override
        public void start() {
            started = true;
        }

        @Override
        public boolean isReady() {
            return started && !closed;
        }

        @Override
        public void awaitTermination() throws InterruptedException {
            stopped.await();
        }

        @Override
        public Optional<Throwable> failure() {
            return Optional.empty();
        }

        @Override
        public void close() {
            closed = true;
            stopped.countDown();
        }
    }
}

package dev.thoughtstream.ingest;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Main} as its own process, the way it is deployed: configuration from the environment, the exit status,
 * and the console log (with the services' own log4j2.xml).
 */
class MainTest {
    @TempDir
    Path workDir;

    private final IngestHarness harness = new IngestHarness();
    private Process process;

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        harness.close();
    }

    /** Starts Main with exactly {@code environment} (nothing inherited), working in an empty directory. */
    private Process startMain(Map<String, String> environment) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb =
                new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), Main.class.getName());
        pb.environment().clear();
        pb.environment().putAll(environment);
        pb.directory(workDir.toFile());
        pb.redirectErrorStream(true);
        pb.redirectOutput(output().toFile());
        process = pb.start();
        return process;
    }

    private Path output() {
        return workDir.resolve("main.out");
    }

    private String outputText() throws IOException {
        return Files.readString(output(), StandardCharsets.UTF_8);
    }

    private int awaitExit(Process p) throws InterruptedException, IOException {
        assertTrue(
                p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                "Main did not exit; it printed:\n" + outputText());
        return p.exitValue();
    }

    @Test
    void givenAnInvalidPollTimeout_whenStarted_thenItExitsWithStatus2NamingTheVariable() throws Exception {
        Map<String, String> env = harness.variables();
        env.put(IngestConfig.POLL_TIMEOUT, "soon");
        env.put(KafkaSettings.BOOTSTRAP, "127.0.0.1:1");

        int status = awaitExit(startMain(env));

        String out = outputText();
        assertEquals(2, status, out);
        assertTrue(
                out.contains("invalid configuration: INGEST_POLL_TIMEOUT_S: expected a whole number but was 'soon'"),
                out);
        assertFalse(out.contains(harness.tokenSecret()), "the token is printed:\n" + out);
    }

    @Test
    void givenNoToken_whenStarted_thenItExitsWithStatus2NamingTheMissingVariable() throws Exception {
        int status = awaitExit(startMain(Map.of(KafkaSettings.BOOTSTRAP, "127.0.0.1:1")));

        String out = outputText();
        assertEquals(2, status, out);
        assertTrue(out.contains("invalid configuration: TG_BOT_TOKEN: is required but not set"), out);
    }

    @Test
    void givenAValidConfiguration_whenStarted_thenItKeepsIngestingUntilStoppedAndConfirmsOnTheWayOut()
            throws Exception {
        // given
        String prefix = TestKafka.uniquePrefix("main");
        Topics topics = IngestHarness.createTopics(prefix);
        Map<String, String> env = harness.variables();
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", prefix);
        env.put(RedisSettings.URL, TestRedis.url().toString());
        int httpPort = freePort();
        env.put("HTTP_PORT", Integer.toString(httpPort));
        Process main = startMain(env);
        Await.until("Main to poll Telegram", TIMEOUT, () -> harness.telegram.activePolls() == 1 || !main.isAlive());
        assertTrue(main.isAlive(), "Main keeps running after start; it printed:\n" + outputText());

        // and operators can see it: ready while polling, and its metrics are served
        HttpClient http = HttpClient.newHttpClient();
        Await.until(
                "the readiness endpoint to answer 200",
                TIMEOUT,
                () -> status(http, "http://127.0.0.1:" + httpPort + "/health/ready") == 200);
        assertEquals(200, status(http, "http://127.0.0.1:" + httpPort + "/metrics"));
        // and, alone on its bot, it took the poller lease
        String metrics = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        assertTrue(metrics.contains("thoughtstream_ingest_lease_role 1.0\n"), metrics);

        // when: a person writes while it runs
        UserMessage m = harness.telegram.injectMessage(91, "to the deployed ingest");

        // then
        List<ConsumerRecord<Long, StoredUpdate>> records = TestKafka.awaitRecords(topics.updates(), 1, TIMEOUT);
        assertEquals(m.updateId(), records.get(0).value().updateId());
        Await.until("the update confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == m.updateId() + 1);
        assertTrue(main.isAlive(), "still running while nobody writes");

        // when: the platform stops it (SIGTERM)
        main.destroy();
        int status = awaitExit(main);

        // then: the shutdown hook closed it cleanly, and the token never reached the console
        String out = outputText();
        assertEquals(143, status, "ended by SIGTERM: " + out);
        assertTrue(out.contains("ingest stopped; last written update " + m.updateId()), out);
        assertEquals(0, harness.telegram.pendingUpdates());
        assertFalse(out.contains(harness.tokenSecret()), "the token is printed:\n" + out);
        assertTrue(out.contains("TelegramSettings[token=<redacted>"), "the startup line was checked: " + out);
    }

    @Test
    void givenWebhookMode_whenStarted_thenTelegramDeliversIntoKafkaAndSigtermDeletesTheWebhook() throws Exception {
        // given
        String prefix = TestKafka.uniquePrefix("main-webhook");
        Topics topics = IngestHarness.createTopics(prefix);
        String secret = "main_webhook_secret_0123456789";
        int webhookPort = freePort();
        Map<String, String> env = harness.variables();
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", prefix);
        env.put(RedisSettings.URL, TestRedis.url().toString());
        env.put("HTTP_PORT", "0");
        env.put(IngestConfig.MODE, "webhook");
        env.put(IngestConfig.WEBHOOK_PORT, Integer.toString(webhookPort));
        env.put(IngestConfig.WEBHOOK_URL, "http://127.0.0.1:" + webhookPort);
        env.put(IngestConfig.WEBHOOK_SECRET, secret);
        Process main = startMain(env);
        Await.until(
                "Main to register its webhook",
                TIMEOUT,
                () -> harness.telegram.webhook().isActive() || !main.isAlive());
        assertTrue(main.isAlive(), "Main keeps running after start; it printed:\n" + outputText());

        // when: a person writes
        UserMessage m = harness.telegram.injectMessage(93, "through the webhook");

        // then
        List<ConsumerRecord<Long, StoredUpdate>> records = TestKafka.awaitRecords(topics.updates(), 1, TIMEOUT);
        assertEquals(m.updateId(), records.get(0).value().updateId());
        Await.until(
                "the delivery answered 200",
                TIMEOUT,
                () -> harness.telegram.webhook().deliveredCount() == 1);

        // when: SIGTERM
        main.destroy();
        int status = awaitExit(main);

        // then: the webhook is deleted on the way out; neither the token nor the secret reached the console
        String out = outputText();
        assertEquals(143, status, out);
        assertFalse(harness.telegram.webhook().isActive(), out);
        assertFalse(out.contains(harness.tokenSecret()), "the token is printed:\n" + out);
        assertFalse(out.contains(secret), "the webhook secret is printed:\n" + out);
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static int status(HttpClient http, String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}

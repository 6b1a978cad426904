package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What devstack's "ready" promises: one endpoint for all four services ({@code /metrics}, {@code /health/ready}), and
 * that at the ready line every consumer group has its members and their assignments, so the first message after it
 * goes straight through, without a rebalance on its way.
 */
class DevStackReadyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    /** The groups of devstack's emitter, llm-processor and chunker (their default ids). */
    private static final List<String> GROUPS =
            List.of("thoughtstream-emitter", "thoughtstream-llm", "thoughtstream-chunker");

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static Config offline(Path dataDir, int httpPort) {
        Map<String, String> env = new HashMap<>();
        env.put("DEVSTACK_DATA_DIR", dataDir.toString());
        env.put("DEVSTACK_KAFKA_PORT", "0");
        env.put("EMULATOR_PORT", "0");
        env.put("HTTP_PORT", Integer.toString(httpPort));
        env.put("CHUNK_GAP_MS", "300");
        env.put("SCRIPTED_LATENCY_MS", "0");
        env.put("SCRIPTED_TOKENS_PER_SECOND", "0");
        env.put("TYPING_MIN_MS", "0");
        env.put("TYPING_MAX_MS", "0");
        env.put("INGEST_POLL_TIMEOUT_S", "5");
        return Config.of(env);
    }

    @Test
    void servesOneMetricsAndReadinessEndpointThatIsReadyOnlyWhileEveryServiceIs(@TempDir Path dataDir)
            throws Exception {
        int port = freePort();
        String base = "http://localhost:" + port;
        List<Integer> seenWhileStarting = new CopyOnWriteArrayList<>();

        // Given devstack starting with HTTP_PORT set
        CompletableFuture<DevStack> starting =
                CompletableFuture.supplyAsync(() -> DevStack.start(offline(dataDir, port)));
        try {
            // Then its endpoint answers while the services start, and not with ready
            Await.until("/health/ready answering before the ready line", TIMEOUT, () -> {
                if (starting.isDone()) {
                    return true;
                }
                status(base + "/health/ready").ifPresent(seenWhileStarting::add);
                return !seenWhileStarting.isEmpty();
            });
            try (DevStack stack = starting.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                assertFalse(seenWhileStarting.isEmpty(), "the endpoint was up before every service was ready");
                assertEquals(503, seenWhileStarting.get(0), "not ready while the services start");

                // And once devstack says it is ready, so does the endpoint, and the ready line says where it is
                HttpResponse<String> ready = get(base + "/health/ready");
                assertEquals(200, ready.statusCode(), ready.body());
                assertTrue(stack.readyLine().contains(base + "/health/ready"), stack.readyLine());
                assertTrue(stack.readyLine().contains(base + "/metrics"), stack.readyLine());

                // And /metrics holds the series of all four services, their Kafka clients' and the JVM's
                String metrics = get(base + "/metrics").body();
                for (String series : List.of(
                        "thoughtstream_ingest_",
                        "thoughtstream_chunker_",
                        "thoughtstream_llm_",
                        "thoughtstream_emitter_",
                        "kafka_stream_",
                        "kafka_consumer_",
                        "kafka_producer_",
                        "jvm_memory_used_bytes")) {
                    assertTrue(metrics.contains(series), "/metrics has " + series + "*");
                }

                // When one service stops
                stack.service("llm-processor").orElseThrow().close();

                // Then devstack is not ready, and says which service is not
                HttpResponse<String> notReady = get(base + "/health/ready");
                assertEquals(503, notReady.statusCode(), notReady.body());
                assertTrue(notReady.body().contains("llm-processor"), notReady.body());
                assertFalse(notReady.body().contains("emitter"), notReady.body());
            }
        } finally {
            starting.thenAccept(DevStack::close);
        }
    }

    @Test
    void atTheReadyLineEveryGroupIsAssignedAndTheFirstMessageGoesThroughWithoutARebalance(@TempDir Path dataDir)
            throws Exception {
        // Given devstack, just started
        try (DevStack stack = DevStack.start(offline(dataDir, 0));
                Admin admin = Admin.create(Map.of(
                        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                        stack.infra().kafka().bootstrapServers()))) {
            // Then at the ready line every group is stable, and each of its members holds its partitions
            Map<String, ConsumerGroupDescription> atReady = describe(admin);
            for (String group : GROUPS) {
                ConsumerGroupDescription d = atReady.get(group);
                assertEquals(GroupState.STABLE, d.groupState(), group + " is stable at the ready line");
                assertFalse(d.members().isEmpty(), group + " has members");
                assertTrue(
                        d.members().stream()
                                .allMatch(m -> !m.assignment().topicPartitions().isEmpty()),
                        group + ": every member has its assignment " + d.members());
            }
            Map<String, Double> rebalancesAtReady = rebalances(stack);
            assertFalse(rebalancesAtReady.isEmpty(), "the consumers' rebalance counters are in /metrics");

            // When a person writes the moment devstack is ready
            TelegramEmulator emulator = stack.emulator().orElseThrow();
            emulator.injectMessage(7, "hello, right after the start");

            // Then the answer comes, and no group rebalanced on its way: the same members hold the same partitions
            Await.until("the bot's answer", TIMEOUT, () -> !emulator.botTexts(7).isEmpty());
            Map<String, ConsumerGroupDescription> after = describe(admin);
            for (String group : GROUPS) {
                assertEquals(
                        assignments(atReady.get(group)),
                        assignments(after.get(group)),
                        group + " kept its members and assignments");
            }
            assertEquals(rebalancesAtReady, rebalances(stack), "no consumer rebalanced after the ready line");
        }
    }

    private static Map<String, ConsumerGroupDescription> describe(Admin admin) throws Exception {
        return admin.describeConsumerGroups(GROUPS).all().get(30, TimeUnit.SECONDS);
    }

    /** Each member's partitions, by member id. */
    private static Map<String, List<String>> assignments(ConsumerGroupDescription d) {
        return d.members().stream()
                .collect(Collectors.toMap(
                        MemberDescription::consumerId,
                        m -> m.assignment().topicPartitions().stream()
                                .map(tp -> tp.topic() + "-" + tp.partition())
                                .sorted()
                                .toList()));
    }

    private static final Pattern REBALANCES =
            Pattern.compile("^kafka_consumer_coordinator_rebalance_total\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);

    /** Every consumer's completed rebalances, by its tags, from the stack's registry. */
    private static Map<String, Double> rebalances(DevStack stack) {
        Map<String, Double> counts = new TreeMap<>();
        Matcher m = REBALANCES.matcher(stack.metrics().scrape());
        while (m.find()) {
            counts.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return counts;
    }

    private Optional<Integer> status(String url) {
        try {
            return Optional.of(get(url).statusCode());
        } catch (IOException e) {
            return Optional.empty(); // not listening yet
        }
    }

    private HttpResponse<String> get(String url) throws IOException {
        try {
            return http.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

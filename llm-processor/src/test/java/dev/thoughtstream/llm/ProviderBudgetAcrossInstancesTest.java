package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The provider's limits belong to the API key, so two instances share them: built as a deployment builds them
 * ({@link LlmProcessorFactory} over {@link Infra}, real Redis), against the fake OpenAI server, which records how many
 * requests it had at once.
 */
class ProviderBudgetAcrossInstancesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern WAITING = Pattern.compile("(?m)^thoughtstream_llm_budget_waiting ([0-9.]+)$");
    private static final int LIMIT = 3;
    private static final int THOUGHTS = 12;

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    @AfterEach
    void tearDown() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
    }

    @Test
    void twoInstancesTogetherNeverHaveMoreRequestsAtTheModelThanTheConcurrencyLimit(TestInfo test) throws Exception {
        // given a model that holds every request, and two instances sharing LLM_MAX_CONCURRENT_REQUESTS=3, each of
        // which could hold eight generations on its own
        String prefix = TestKafka.uniquePrefix(
                "budget-" + test.getTestMethod().orElseThrow().getName());
        Topics topics = TestKafka.createTopics(prefix, 2);
        FakeLlmServer llm =
                track(FakeLlmServer.builder().modelName("budget-model").build().start());
        llm.holdRequests();
        Map<String, String> env = new HashMap<>(Map.of(
                "LLM_PROVIDER",
                "openai",
                "LLM_API_URL",
                llm.openAiBaseUrl(),
                "LLM_MODEL",
                "budget-model",
                "LLM_MODE",
                "share",
                "LLM_MAX_IN_FLIGHT",
                "8",
                "LLM_GROUP_ID",
                prefix + "llm",
                "LLM_MAX_CONCURRENT_REQUESTS",
                Integer.toString(LIMIT),
                "LLM_BUDGET_POLL_MS",
                "50",
                "REDIS_URL",
                TestRedis.url().toString(),
                "REDIS_KEY_PREFIX",
                TestRedis.uniqueKeyPrefix(prefix)));
        Config config = TestKafka.config(prefix, 2).with(env);
        List<Infra> infras = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Infra infra = track(Infra.create(Infra.Settings.from(config, true)));
            Service service = track(new LlmProcessorFactory().create(config, infra));
            service.start();
            infras.add(infra);
        }

        // when twelve chats' thoughts arrive
        produce(topics, prefix);

        // then three requests reach the model, and every other one waits for the shared budget in its instance
        Await.until(
                "three requests at the model, nine waiting for the budget",
                TIMEOUT,
                () -> llm.activeRequests() == LIMIT && waiting(infras) == THOUGHTS - LIMIT);
        assertEquals(LIMIT, llm.peakConcurrentRequests());

        // and once the model answers, all twelve are answered, never more than three at once
        llm.releaseRequests();
        Await.until(
                "all twelve answered",
                TIMEOUT,
                () -> llm.requestCount() == THOUGHTS && waiting(infras) == 0 && llm.activeRequests() == 0);
        assertTrue(llm.peakConcurrentRequests() <= LIMIT, "peak " + llm.peakConcurrentRequests());
    }

    private static long waiting(List<Infra> infras) {
        long total = 0;
        for (Infra infra : infras) {
            Matcher m = WAITING.matcher(infra.metrics().scrape());
            total += m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
        }
        return total;
    }

    private static void produce(Topics topics, String prefix) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long chat = 1; chat <= THOUGHTS; chat++) {
                Thought thought = new Thought(
                        Thought.SCHEMA_VERSION,
                        Thought.idFor(chat, 1),
                        chat,
                        List.of(new ThoughtMessage(1, "Hello " + chat, 10_000L)),
                        1,
                        1,
                        10_000L,
                        12_000L,
                        List.of());
                producer.send(topics.thoughts().record(chat, thought)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.push(resource);
        return resource;
    }
}

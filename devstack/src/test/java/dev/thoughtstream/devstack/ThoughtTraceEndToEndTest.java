package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.common.tracing.Tracing;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One thought's trace through all four services as devstack wires them (each from its factory, over one Infra): the
 * Telegram emulator, the real broker, real Redis and the real OpenAI client against the fake LLM server. One person
 * writes two quick messages; the thought they make, its model call and both bubbles are one trace, in order.
 */
class ThoughtTraceEndToEndTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long CHAT = 5151;
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

    @Test
    void allSpansOfOneThoughtShareOneTraceFromIngestToTheTelegramSends(@TempDir Path dir) {
        String prefix = TestKafka.uniquePrefix("e2e-trace");
        String token = "5000000002:e2e-trace";
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (Tracing tracing = Tracing.exportingTo(spans);
                TelegramEmulator telegram =
                        TelegramEmulator.builder().botToken(token).build().start();
                FakeLlmServer llm = FakeLlmServer.builder()
                        .apiKey("sk-e2e")
                        .responder(messages -> "First bubble.\n\nSecond bubble.")
                        .build()
                        .start()) {
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", TestKafka.bootstrapServers());
            env.put("TOPIC_PREFIX", prefix);
            env.put("REDIS_URL", TestRedis.url().toString());
            env.put("REDIS_KEY_PREFIX", TestRedis.uniqueKeyPrefix("e2e-trace"));
            env.put("TG_BOT_TOKEN", token);
            env.put("TG_API_URL", telegram.baseUrl());
            env.put("LLM_PROVIDER", "openai");
            env.put("LLM_API_URL", llm.openAiBaseUrl());
            env.put("LLM_API_KEY", "sk-e2e");
            env.put("LLM_MODEL", llm.modelName());
            env.put("CHUNK_GAP_MS", "1500"); // both messages in one thought, however the polls split them
            env.put("TYPING_MIN_MS", "30");
            env.put("TYPING_MAX_MS", "30");
            env.put("CHUNKER_APPLICATION_ID", prefix + "chunker");
            env.put("LLM_GROUP_ID", prefix + "llm");
            env.put("EMITTER_GROUP_ID", prefix + "emitter");
            env.put("DEVSTACK_DATA_DIR", dir.toString());
            env.put("INGEST_POLL_TIMEOUT_S", "5");
            env.put("HTTP_PORT", "0");

            try (DevStack stack = DevStack.start(Config.of(env), tracing)) {
                // Given a person who writes two quick messages: one thought
                telegram.injectMessage(CHAT, "hello there");
                telegram.injectMessage(CHAT, "how are you");

                // When the bot has answered in two bubbles, and both sends have been reported
                Await.until(
                        "two bubbles", TIMEOUT, () -> telegram.botTexts(CHAT).size() >= 2);
                Await.until(
                        "both parts' deliveries traced",
                        TIMEOUT,
                        () -> named(spans, "deliver part").size() >= 2);

                // Then the thought's trace is the first message's: ingest → chunker → llm-processor → emitter
                List<SpanData> updates = named(spans, "ingest update");
                assertEquals(2, updates.size(), "a span per update: " + updates);
                SpanData first = updates.stream()
                        .filter(u -> u.getAttributes().get(TraceAttributes.UPDATE_ID)
                                == updates.stream()
                                        .mapToLong(x -> x.getAttributes().get(TraceAttributes.UPDATE_ID))
                                        .min()
                                        .orElseThrow())
                        .findFirst()
                        .orElseThrow();
                SpanData second = updates.get(updates.get(0) == first ? 1 : 0);
                String traceId = first.getTraceId();

                SpanData thought = single(spans, "chunker thought");
                SpanData generation = single(spans, "generate reply");
                SpanData modelCall = single(spans, "chat " + llm.modelName());
                List<SpanData> deliveries = named(spans, "deliver part");
                List<SpanData> sends = named(spans, "telegram sendMessage");
                assertEquals(2, deliveries.size());
                assertEquals(2, sends.size());

                List<SpanData> ofTheThought = new java.util.ArrayList<>(List.of(first, thought, generation, modelCall));
                ofTheThought.addAll(deliveries);
                ofTheThought.addAll(sends);
                for (SpanData s : ofTheThought) {
                    assertEquals(traceId, s.getTraceId(), s.getName() + " is in the thought's trace");
                }

                // in parent/child order
                assertEquals(first.getSpanId(), thought.getParentSpanId());
                assertEquals(thought.getSpanId(), generation.getParentSpanId());
                assertEquals(generation.getSpanId(), modelCall.getParentSpanId());
                for (SpanData d : deliveries) {
                    assertEquals(generation.getSpanId(), d.getParentSpanId());
                }
                Set<String> deliveryIds =
                        deliveries.stream().map(SpanData::getSpanId).collect(Collectors.toSet());
                for (SpanData s : sends) {
                    assertTrue(deliveryIds.contains(s.getParentSpanId()), "a send under its part's delivery");
                    assertEquals("sent", s.getAttributes().get(TraceAttributes.OUTCOME));
                }
                assertEquals(
                        Set.of(0L, 1L),
                        deliveries.stream()
                                .map(d -> d.getAttributes().get(TraceAttributes.PART_SEQ))
                                .collect(Collectors.toSet()));

                // and the second message, its own update's trace, is linked from the thought
                assertNotEquals(traceId, second.getTraceId());
                assertEquals(
                        List.of(second.getSpanId()),
                        thought.getLinks().stream()
                                .map(l -> l.getSpanContext().getSpanId())
                                .toList());

                // each stage under its own service name, every span naming the chat
                assertEquals("ingest", service(first));
                assertEquals("chunker", service(thought));
                assertEquals("llm-processor", service(generation));
                assertEquals("llm-processor", service(modelCall));
                assertEquals("emitter", service(sends.get(0)));
                for (SpanData s : ofTheThought) {
                    assertEquals(
                            Optional.of(CHAT),
                            Optional.ofNullable(s.getAttributes().get(TraceAttributes.CHAT_ID)),
                            s.getName());
                }
                String thoughtId = thought.getAttributes().get(TraceAttributes.THOUGHT_ID);
                assertEquals(thoughtId, generation.getAttributes().get(TraceAttributes.THOUGHT_ID));
                assertEquals(
                        generation.getAttributes().get(TraceAttributes.REPLY_ID),
                        sends.get(0).getAttributes().get(TraceAttributes.REPLY_ID));
            }
        }
    }

    private static List<SpanData> named(InMemorySpanExporter spans, String name) {
        return spans.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals(name))
                .toList();
    }

    private static SpanData single(InMemorySpanExporter spans, String name) {
        List<SpanData> found = named(spans, name);
        assertEquals(1, found.size(), () -> "one " + name + " span: " + found);
        return found.get(0);
    }

    private static String service(SpanData span) {
        return span.getResource().getAttribute(SERVICE_NAME);
    }
}

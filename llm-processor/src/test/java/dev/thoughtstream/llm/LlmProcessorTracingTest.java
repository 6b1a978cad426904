package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.InMemoryChatActivity;
import dev.thoughtstream.common.redis.InMemoryClaimStore;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.common.tracing.Tracing;
import dev.thoughtstream.llm.budget.ProviderBudget;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The llm-processor continues the thought's trace, on the real broker with the real OpenAI streaming client against
 * the fake LLM server over HTTP: a "generate reply" span under the chunker's, a "chat &lt;model&gt;" span per model
 * call under it (provider, model, tokens, first-token latency; never the key or the text), and every reply part's
 * record carrying the generation span for the emitter.
 */
class LlmProcessorTracingTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long CHAT = 4343L;
    private static final String MODEL = "trace-model";
    private static final String API_KEY = "sk-secret-tracing-key";
    private static final String TEXT = "tell me about tomatoes";

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final Tracing tracing = Tracing.exportingTo(spans);
    private final StageTracer chunker = tracing.forService("chunker");
    private ScheduledThreadPoolExecutor scheduler;
    private KafkaProducer<byte[], byte[]> producer;
    private FakeLlmServer llm;
    private LlmProcessor processor;
    private String prefix;
    private Topics topics;

    @BeforeEach
    void setUp(TestInfo test) {
        prefix = TestKafka.uniquePrefix(
                "llm-" + test.getTestMethod().orElseThrow().getName());
        topics = TestKafka.createTopics(prefix);
        producer = new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
        scheduler = new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-llm-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
        llm = FakeLlmServer.builder().modelName(MODEL).apiKey(API_KEY).build().start();
    }

    @AfterEach
    void tearDown() {
        if (processor != null) {
            processor.close();
        }
        llm.close();
        producer.close(Duration.ofSeconds(10));
        scheduler.shutdownNow();
        tracing.close();
    }

    private void startProcessor(Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, "openai");
        env.put(LlmConfig.API_URL, llm.openAiBaseUrl());
        env.put(LlmConfig.API_KEY, API_KEY);
        env.put(LlmConfig.MODEL, MODEL);
        env.put(LlmConfig.GROUP_ID, prefix + "llm-processor");
        env.put(ScaleConfig.MODE, "group");
        env.putAll(overrides);
        Config config = TestKafka.config(prefix, TestKafka.PARTITIONS).with(env);
        KafkaSettings kafka = KafkaSettings.from(config);
        LlmConfig llmConfig = LlmConfig.from(config);
        StreamingChatModel model = ModelFactory.streaming(llmConfig, scheduler);
        processor = new LlmProcessor(
                kafka,
                Topics.withPrefix(kafka.topicPrefix()),
                llmConfig,
                ReplyGenerator.from(
                        llmConfig,
                        model,
                        scheduler,
                        Clock.systemUTC(),
                        new Metrics(),
                        ProviderBudget.unlimited(),
                        tracing.forService(LlmProcessor.SERVICE)),
                new InMemoryChatActivity(),
                new InMemoryClaimStore(Clock.systemUTC()),
                new Metrics(),
                Clock.systemUTC(),
                "llm-test#1",
                ProviderBudget.unlimited());
        processor.start();
    }

    /** What the chunker writes: a thought whose record carries the "chunker thought" span. */
    private Span produceTracedThought(long firstMessageId) throws Exception {
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(CHAT, firstMessageId),
                CHAT,
                List.of(new ThoughtMessage(firstMessageId, TEXT, 10_000L)),
                firstMessageId,
                firstMessageId,
                10_000L,
                12_000L,
                List.of());
        Span span = chunker.span("chunker thought").setNoParent().startSpan();
        RecordHeaders headers = new RecordHeaders();
        chunker.inject(Context.root().with(span), headers);
        span.end();
        String topic = topics.thoughts().name();
        producer.send(new ProducerRecord<>(
                        topic,
                        null,
                        topics.thoughts().keySerde().serializer().serialize(topic, CHAT),
                        topics.thoughts().valueSerde().serializer().serialize(topic, thought),
                        headers))
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        return span;
    }

    private SpanData awaitSpan(String name) {
        return Await.value(
                "a finished span " + name,
                TIMEOUT,
                () -> spans.getFinishedSpanItems().stream()
                        .filter(s -> s.getName().equals(name))
                        .findFirst());
    }

    @Test
    void aGenerationAndItsModelCallContinueTheThoughtsTraceAndThePartsCarryIt() throws Exception {
        // Given a model that answers in two paragraphs
        llm.enqueue(Behavior.replying("Tomatoes love sun.\n\nWater them often."));
        startProcessor(Map.of());

        // When a traced thought arrives
        Span thought = produceTracedThought(7);

        // Then the generation's span is the thought span's child, and ends ANSWERED
        SpanData generation = awaitSpan("generate reply");
        assertEquals(thought.getSpanContext().getTraceId(), generation.getTraceId());
        assertEquals(thought.getSpanContext().getSpanId(), generation.getParentSpanId());
        assertEquals(SpanKind.CONSUMER, generation.getKind());
        assertEquals(CHAT, generation.getAttributes().get(TraceAttributes.CHAT_ID));
        assertEquals("4343:7", generation.getAttributes().get(TraceAttributes.THOUGHT_ID));
        assertEquals("r:4343:7", generation.getAttributes().get(TraceAttributes.REPLY_ID));
        assertEquals("ANSWERED", generation.getAttributes().get(TraceAttributes.OUTCOME));

        // And the model call is its child, with provider, model, tokens and the first token's latency
        SpanData call = awaitSpan("chat " + MODEL);
        assertEquals(generation.getSpanId(), call.getParentSpanId());
        assertEquals(generation.getTraceId(), call.getTraceId());
        assertEquals(SpanKind.CLIENT, call.getKind());
        assertEquals("openai", call.getAttributes().get(AttributeKey.stringKey("gen_ai.provider.name")));
        assertEquals(MODEL, call.getAttributes().get(AttributeKey.stringKey("gen_ai.request.model")));
        assertEquals("ok", call.getAttributes().get(TraceAttributes.OUTCOME));
        Long output = call.getAttributes().get(AttributeKey.longKey("gen_ai.usage.output_tokens"));
        assertNotNull(output);
        assertTrue(output > 0, "output tokens: " + output);
        assertNotNull(call.getAttributes().get(AttributeKey.longKey("thoughtstream.model.first_token_ms")));
        assertEquals(StatusCode.UNSET, call.getStatus().getStatusCode());

        // And no span holds the key or the person's text
        for (SpanData s : spans.getFinishedSpanItems()) {
            String all = s.getAttributes().toString() + s.getEvents() + s.getStatus();
            assertFalse(all.contains(API_KEY), () -> s.getName() + " holds the API key: " + all);
            assertFalse(all.contains("tomatoes"), () -> s.getName() + " holds the person's text: " + all);
        }

        // And every part's record carries the generation's span
        List<ConsumerRecord<Long, ReplyPart>> parts = TestKafka.awaitRecords(topics.replies(), 2, TIMEOUT);
        for (ConsumerRecord<Long, ReplyPart> part : parts) {
            SpanContext carried =
                    Span.fromContext(chunker.extract(part.headers())).getSpanContext();
            assertEquals(generation.getTraceId(), carried.getTraceId());
            assertEquals(generation.getSpanId(), carried.getSpanId());
        }
    }

    @Test
    void aFailedModelCallIsAnErrorSpanWithItsKindAndTheApologyStillCarriesTheTrace() throws Exception {
        // Given a model that fails once, not retried
        llm.enqueue(Behavior.failing(500));
        startProcessor(Map.of(LlmConfig.MAX_ATTEMPTS, "1"));

        // When a traced thought arrives
        Span thought = produceTracedThought(9);

        // Then the model call's span is an error, naming the kind of error
        SpanData call = awaitSpan("chat " + MODEL);
        assertEquals(thought.getSpanContext().getTraceId(), call.getTraceId());
        assertEquals(StatusCode.ERROR, call.getStatus().getStatusCode());
        assertEquals("error", call.getAttributes().get(TraceAttributes.OUTCOME));
        assertNotNull(call.getAttributes().get(AttributeKey.stringKey("error.type")));

        // And the generation ends FAILED (the apology sent, the thought dead-lettered), in the same trace
        SpanData generation = awaitSpan("generate reply");
        assertEquals(generation.getSpanId(), call.getParentSpanId());
        assertEquals("FAILED", generation.getAttributes().get(TraceAttributes.OUTCOME));
        assertEquals(StatusCode.ERROR, generation.getStatus().getStatusCode());
        ConsumerRecord<Long, ReplyPart> apology =
                TestKafka.awaitRecords(topics.replies(), 1, TIMEOUT).get(0);
        assertEquals(
                generation.getSpanId(),
                Span.fromContext(chunker.extract(apology.headers()))
                        .getSpanContext()
                        .getSpanId());
    }
}

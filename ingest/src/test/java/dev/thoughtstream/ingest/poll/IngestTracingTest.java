package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.InMemoryClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.common.tracing.Tracing;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.telegram.UserMessage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Clock;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Ingest starts one trace per update, on the real broker with the Telegram emulator: a span per update written, whose
 * context is the record's {@code traceparent} header; with tracing off the record carries no trace header.
 */
class IngestTracingTest {
    private final IngestHarness harness = new IngestHarness();
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final Tracing tracing = Tracing.exportingTo(spans);
    private Topics topics;
    private KafkaSettings kafka;

    @BeforeEach
    void createTopics(TestInfo test) {
        String prefix =
                TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
    }

    @AfterEach
    void closeEverything() {
        harness.close();
        tracing.close();
    }

    private void startIngest(StageTracer tracer) {
        IngestConfig config = harness.config();
        IngestService.Dependencies plain = IngestHarness.dependencies(
                config,
                kafka,
                new InMemoryClaimStore(Clock.systemUTC()),
                IntakeRules.openToAll(new Metrics()),
                Clock.systemUTC());
        IngestService ingest = harness.track(new IngestService(
                config,
                new IngestService.Dependencies(
                        plain.kafka(),
                        plain.judge(),
                        plain.activity(),
                        plain.lease(),
                        plain.metrics(),
                        plain.clock(),
                        tracer)));
        ingest.start();
    }

    private ConsumerRecord<Long, StoredUpdate> awaitRecordOf(UserMessage message) {
        return Await.value(
                "update " + message.updateId() + " on " + topics.updates().name(),
                TIMEOUT,
                () ->
                        TopicReader.readAll(
                                        TestKafka.bootstrapServers(),
                                        topics.updates(),
                                        java.time.Duration.ofMillis(200))
                                .stream()
                                .filter(r -> r.value().updateId() == message.updateId())
                                .findFirst());
    }

    @Test
    void eachUpdateWrittenStartsATraceWhoseContextTravelsInTheRecordsHeaders() {
        // Given ingest with tracing on
        startIngest(tracing.forService(IngestConfig.SERVICE_NAME));

        // When a person writes to the bot
        UserMessage message = harness.telegram.injectMessage(4242, "hello");
        ConsumerRecord<Long, StoredUpdate> record = awaitRecordOf(message);

        // Then one root span, ended once Kafka had the record, names the chat and the update
        SpanData span = Await.value(
                "the update's span",
                TIMEOUT,
                () -> spans.getFinishedSpanItems().stream()
                        .filter(s -> s.getName().equals("ingest update"))
                        .findFirst());
        assertEquals(SpanKind.PRODUCER, span.getKind());
        assertEquals(false, span.getParentSpanContext().isValid(), "a new trace");
        assertEquals(4242L, span.getAttributes().get(TraceAttributes.CHAT_ID));
        assertEquals(message.updateId(), span.getAttributes().get(TraceAttributes.UPDATE_ID));
        assertEquals(topics.updates().name(), span.getAttributes().get(TraceAttributes.MESSAGING_DESTINATION));
        assertEquals("WRITTEN", span.getAttributes().get(TraceAttributes.OUTCOME));

        // And the record carries that span as its W3C trace context
        StageTracer reader = tracing.forService("chunker");
        var carried = Span.fromContext(reader.extract(record.headers())).getSpanContext();
        assertEquals(span.getTraceId(), carried.getTraceId());
        assertEquals(span.getSpanId(), carried.getSpanId());
    }

    @Test
    void withTracingOffTheRecordCarriesNoTraceHeader() {
        // Given ingest as it runs without OTEL_EXPORTER_OTLP_ENDPOINT
        startIngest(StageTracer.noop());

        // When a person writes to the bot
        ConsumerRecord<Long, StoredUpdate> record = awaitRecordOf(harness.telegram.injectMessage(4243, "hello"));

        // Then no traceparent header, and no span anywhere
        assertNull(record.headers().lastHeader("traceparent"));
        assertNotNull(record.headers().lastHeader("tg.update_id"));
        assertEquals(List.of(), spans.getFinishedSpanItems());
    }
}

package dev.thoughtstream.common.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.common.config.Config;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tracing on (OTLP/http to a collector) and off (nothing at all), and the context through Kafka headers. */
class TracingTest {
    /** What a collector received: the path, the content type and the body of each POST. */
    private record Received(String path, String contentType, byte[] body) {}

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private HttpServer collector;

    @BeforeEach
    void startCollector() throws Exception {
        collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        collector.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            received.add(new Received(
                    exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath(),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    body));
            // An empty ExportTraceServiceResponse: all spans accepted (OTLP/http, protobuf encoding).
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
    }

    @AfterEach
    void stopCollector() {
        collector.stop(0);
    }

    private String collectorUrl() {
        return "http://127.0.0.1:" + collector.getAddress().getPort();
    }

    @Test
    void withAnEndpointSpansArePostedAsOtlpProtobufToV1Traces() throws Exception {
        // Given tracing configured with a collector's base URL
        TracingSettings settings = TracingSettings.from(Config.of(Map.of(
                TracingSettings.ENDPOINT,
                collectorUrl(),
                TracingSettings.RESOURCE_ATTRIBUTES,
                "deployment.environment=test")));
        SpanContext traced;
        try (Tracing tracing = Tracing.from(settings, Optional.of("ingest-1"))) {
            StageTracer tracer = tracing.forService("ingest");
            assertTrue(tracer.enabled());

            // When a span is recorded and the process closes its tracing
            Span span = tracer.span("ingest update").startSpan();
            traced = span.getSpanContext();
            span.end();
        }

        // Then the collector got a POST /v1/traces in protobuf, with the span's trace id and the service's name
        Received request = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(request, "the collector received nothing");
        assertEquals("POST /v1/traces", request.path());
        assertEquals("application/x-protobuf", request.contentType());
        byte[] traceId = HexFormat.of().parseHex(traced.getTraceId());
        assertTrue(contains(request.body(), traceId), "the body carries the trace id's 16 bytes");
        assertTrue(contains(request.body(), "ingest".getBytes(StandardCharsets.UTF_8)));
        assertTrue(contains(request.body(), "ingest update".getBytes(StandardCharsets.UTF_8)));
        assertTrue(contains(request.body(), "deployment.environment".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void withoutAnEndpointNothingIsRecordedNoThreadStartsAndNoHeaderIsWritten() {
        // Given no OTEL_EXPORTER_OTLP_ENDPOINT
        TracingSettings settings = TracingSettings.from(Config.of(Map.of()));
        assertFalse(settings.enabled());
        Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
        try (Tracing tracing = Tracing.from(settings, Optional.empty())) {
            // When a service traces
            StageTracer tracer = tracing.forService("ingest");
            Span span = tracer.span("ingest update").startSpan();
            RecordHeaders headers = new RecordHeaders();
            tracer.inject(Context.root().with(span), headers);
            span.end();

            // Then it is the no-op tracer: the span is not recorded, the headers stay empty, nothing to keep in state
            assertSame(StageTracer.noop(), tracer);
            assertFalse(span.isRecording());
            assertFalse(span.getSpanContext().isValid());
            assertEquals(0, headers.toArray().length);
            assertNull(tracer.toMap(Context.root().with(span)));
        }

        // And no thread was started (no span processor, no HTTP client), and the collector heard nothing
        List<String> started = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t))
                .map(Thread::getName)
                .toList();
        assertEquals(List.of(), started);
        assertTrue(received.isEmpty());
    }

    @Test
    void theContextTravelsThroughKafkaHeadersAndThroughAMapKeptInState() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (Tracing tracing = Tracing.exportingTo(spans)) {
            StageTracer producer = tracing.forService("llm-processor");
            StageTracer consumer = tracing.forService("emitter");

            // Given a span whose context is written into a record's headers, twice (a re-traced forwarded record)
            Span sent = producer.span("generate reply").startSpan();
            RecordHeaders headers = new RecordHeaders();
            producer.inject(Context.root().with(sent), headers);
            producer.inject(Context.root().with(sent), headers);
            sent.end();

            // When the consumer reads it, directly and through a map
            Context read = consumer.extract(headers);
            Context kept = consumer.fromMap(consumer.carrier(headers));
            Span child = consumer.span("send").setParent(read).startSpan();
            child.end();

            // Then one traceparent header, and the child continues the sender's trace under its span
            assertEquals(1, headers.toArray().length);
            assertEquals("traceparent", headers.toArray()[0].key());
            assertSameSpan(sent.getSpanContext(), Span.fromContext(read).getSpanContext());
            assertSameSpan(sent.getSpanContext(), Span.fromContext(kept).getSpanContext());
            List<SpanData> finished = spans.getFinishedSpanItems();
            SpanData childData = finished.get(1);
            assertEquals(sent.getSpanContext().getTraceId(), childData.getTraceId());
            assertEquals(sent.getSpanContext().getSpanId(), childData.getParentSpanId());
            assertEquals(
                    "emitter",
                    childData
                            .getResource()
                            .getAttribute(io.opentelemetry.api.common.AttributeKey.stringKey("service.name")));
        }
    }

    @Test
    void aRecordWithoutTraceHeadersStartsANewTrace() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (Tracing tracing = Tracing.exportingTo(spans)) {
            StageTracer tracer = tracing.forService("chunker");
            Context read = tracer.extract(new RecordHeaders());
            assertSame(Context.root(), read);
            assertNull(tracer.carrier(new RecordHeaders()));
        }
    }

    private static void assertSameSpan(SpanContext expected, SpanContext actual) {
        assertEquals(expected.getTraceId(), actual.getTraceId());
        assertEquals(expected.getSpanId(), actual.getSpanId());
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}

package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.thought.BufferedMessage;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.serde.JsonSerde;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.common.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chunker continues each thought's trace from its first message's update, although the thought is closed by a
 * wall-clock punctuation that has no input record: the context is kept with each buffered message in the open-thought
 * store, and the closed thought's record carries the "chunker thought" span's context.
 */
class ThoughtTracingTopologyTest {
    private static final long CHAT = 42;
    private static final long GAP = 1500;

    @TempDir
    Path stateDir;

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final Tracing tracing = Tracing.exportingTo(spans);
    private final StageTracer ingest = tracing.forService("ingest");

    @AfterEach
    void closeTracing() {
        tracing.close();
    }

    /** What ingest writes: the update, its record headers carrying a span of ingest's. */
    private Span pipeTraced(ChunkerHarness chunker, long messageId, String text) {
        Span span = ingest.span("ingest update").setNoParent().startSpan();
        Headers headers = new RecordHeaders();
        ingest.inject(Context.root().with(span), headers);
        span.end();
        long updateId = chunker.nextUpdateId();
        StoredUpdate update = ChunkerHarness.textUpdate(updateId, CHAT, messageId, text, chunker.now());
        chunker.updates.pipeInput(new TestRecord<>(CHAT, update, headers, Instant.ofEpochMilli(chunker.now())));
        return span;
    }

    private SpanData finished(String name) {
        return spans.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans.getFinishedSpanItems()));
    }

    @Test
    void aThoughtClosedByThePunctuationContinuesItsFirstMessagesTraceAndLinksTheOthers() {
        try (ChunkerHarness chunker = ChunkerHarness.startTraced(stateDir, tracing.forService("chunker"))) {
            // Given two messages of one thought, each from its own traced update
            long openedAt = chunker.now();
            Span first = pipeTraced(chunker, 7, "so I was thinking");
            chunker.advance(500);
            Span second = pipeTraced(chunker, 8, "about the trip");

            // When the gap passes and the punctuation closes the thought
            chunker.advance(GAP);
            TestRecord<Long, Thought> record = chunker.thoughts.readRecord();

            // Then the thought's span is a child of the first update's span, linked to the second's
            SpanData thought = finished("chunker thought");
            assertEquals(first.getSpanContext().getTraceId(), thought.getTraceId());
            assertEquals(first.getSpanContext().getSpanId(), thought.getParentSpanId());
            assertEquals(
                    List.of(second.getSpanContext().getSpanId()),
                    thought.getLinks().stream()
                            .map(l -> l.getSpanContext().getSpanId())
                            .toList());
            // covering the wait from the first message to the close, and naming the thought and its reply
            assertEquals(TimeUnit.MILLISECONDS.toNanos(openedAt), thought.getStartEpochNanos());
            assertEquals(TimeUnit.MILLISECONDS.toNanos(record.value().closedAtMs()), thought.getEndEpochNanos());
            assertEquals(CHAT, thought.getAttributes().get(TraceAttributes.CHAT_ID));
            assertEquals("42:7", thought.getAttributes().get(TraceAttributes.THOUGHT_ID));
            assertEquals("r:42:7", thought.getAttributes().get(TraceAttributes.REPLY_ID));

            // And the thought's record carries that span, for the llm-processor to continue
            SpanContext carried =
                    Span.fromContext(ingest.extract(record.getHeaders())).getSpanContext();
            assertEquals(thought.getSpanId(), carried.getSpanId());
            assertEquals(thought.getTraceId(), carried.getTraceId());
        }
    }

    @Test
    void aDirectReplyContinuesTheTraceOfTheMessageItAnswers() {
        try (ChunkerHarness chunker = ChunkerHarness.startTraced(stateDir, tracing.forService("chunker"))) {
            Span start = pipeTraced(chunker, 3, "/start");

            TestRecord<Long, ReplyPart> reply = chunker.replies.readRecord();

            SpanData span = finished("chunker direct reply");
            assertEquals(start.getSpanContext().getSpanId(), span.getParentSpanId());
            assertEquals(reply.value().replyId(), span.getAttributes().get(TraceAttributes.REPLY_ID));
            assertEquals(
                    span.getSpanId(),
                    Span.fromContext(ingest.extract(reply.getHeaders()))
                            .getSpanContext()
                            .getSpanId());
        }
    }

    @Test
    void withTracingOffTheThoughtCarriesNoHeaderAndTheStoreNoContext() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            pipeTraced(chunker, 7, "hello");
            chunker.advance(GAP);

            TestRecord<Long, Thought> record = chunker.thoughts.readRecord();

            assertEquals(0, record.getHeaders().toArray().length);
            assertTrue(spans.getFinishedSpanItems().stream()
                    .noneMatch(s -> s.getName().startsWith("chunker")));
        }
    }

    @Test
    void openThoughtsStoredBeforeAndAfterTracingReadBackBothWays() {
        JsonSerde<OpenThought> serde = new JsonSerde<>(OpenThought.class);
        // An open thought stored before messages had a trace context reads with none, and closes as a new trace
        byte[] older = ("{\"chatId\":42,\"messages\":[{\"messageId\":7,\"text\":\"hi\",\"sentAtMs\":1000,"
                        + "\"receivedAtMs\":1200}],\"openedAtMs\":1200,\"deadlineMs\":2700,\"thoughtId\":\"42:7\"}")
                .getBytes(StandardCharsets.UTF_8);
        assertNull(serde.deserialize("t", older).messages().get(0).trace());

        // One stored with a context keeps it through the changelog
        Map<String, String> context = Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        OpenThought traced = OpenThought.start(
                42, "42:7", new BufferedMessage(7, "hi", 1000, 1200, 5L, "Ada", null, null).withTrace(context), 2700);
        OpenThought read = serde.deserialize("t", serde.serialize("t", traced));
        assertEquals(context, read.messages().get(0).trace());

        // and an edit keeps the original message's context
        assertEquals(context, read.withEdit(7, "hello", 1500L).messages().get(0).trace());
        // while an untraced message writes no "trace" field at all (the stored bytes are as before)
        String plain = new String(
                serde.serialize(
                        "t",
                        OpenThought.start(
                                42, "42:7", new BufferedMessage(7, "hi", 1000, 1200, 5L, "Ada", null, null), 2700)),
                StandardCharsets.UTF_8);
        assertFalse(plain.contains("trace"), plain);
    }
}

package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.common.tracing.Tracing;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The emitter continues the reply's trace, on the real broker, the real TelegramBots client and the Telegram emulator:
 * a "deliver part" span per part under the llm-processor's, a "telegram sendMessage" span per send under it (method,
 * chat, part, outcome; never the token), and the part's outcome on the delivered topic carrying the part's span.
 */
class EmitterTracingTest {
    private static final long CHAT = 4_701;

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final Tracing tracing = Tracing.exportingTo(spans);
    private final StageTracer llm = tracing.forService("llm-processor");
    private EmitterFixture fx;
    private KafkaProducer<byte[], byte[]> producer;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("tracing");
        producer = new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void tearDown() {
        producer.close();
        fx.close();
        tracing.close();
    }

    /** What the llm-processor writes: the part, its record carrying the generation's span. */
    private Span produceTraced(ReplyPart part) throws Exception {
        Span generation = llm.span("generate reply").setNoParent().startSpan();
        ProducerRecord<byte[], byte[]> record = fx.topics.replies().record(part.chatId(), part);
        llm.inject(Context.root().with(generation), record.headers());
        generation.end();
        producer.send(record).get(30, TimeUnit.SECONDS);
        return generation;
    }

    private List<SpanData> awaitSpans(String name, int count) {
        return Await.value(count + " finished span(s) " + name, EmitterFixture.TIMEOUT, () -> {
            List<SpanData> found = spans.getFinishedSpanItems().stream()
                    .filter(s -> s.getName().equals(name))
                    .toList();
            return found.size() >= count ? java.util.Optional.of(found) : java.util.Optional.empty();
        });
    }

    @Test
    void eachPartsDeliveryAndItsTelegramSendAreSpansInTheRepliesTrace() throws Exception {
        // Given a chat the person opened, and an emitter that traces
        fx.chatOpens(CHAT);
        fx.emitter().tracer(tracing.forService("emitter")).start();

        // When a traced part arrives
        Span generation = produceTraced(EmitterFixture.part(CHAT, "r:4701:1", 0, true, "Hello there"));

        // Then its delivery is a child of the generation, and ends SENT
        SpanData deliver = awaitSpans("deliver part", 1).get(0);
        assertEquals(generation.getSpanContext().getTraceId(), deliver.getTraceId());
        assertEquals(generation.getSpanContext().getSpanId(), deliver.getParentSpanId());
        assertEquals(SpanKind.CONSUMER, deliver.getKind());
        assertEquals(CHAT, deliver.getAttributes().get(TraceAttributes.CHAT_ID));
        assertEquals("r:4701:1", deliver.getAttributes().get(TraceAttributes.REPLY_ID));
        assertEquals(0L, deliver.getAttributes().get(TraceAttributes.PART_SEQ));
        assertEquals("SENT", deliver.getAttributes().get(TraceAttributes.OUTCOME));

        // And the sendMessage call is the delivery's child, with what Telegram answered
        SpanData send = awaitSpans("telegram sendMessage", 1).get(0);
        assertEquals(deliver.getSpanId(), send.getParentSpanId());
        assertEquals(SpanKind.CLIENT, send.getKind());
        assertEquals("sendMessage", send.getAttributes().get(AttributeKey.stringKey("telegram.method")));
        assertEquals(CHAT, send.getAttributes().get(TraceAttributes.CHAT_ID));
        assertEquals("sent", send.getAttributes().get(TraceAttributes.OUTCOME));
        Delivery sent = fx.awaitOutcomeOf("r:4701:1", 0).get(0);
        assertEquals(sent.telegramMessageId(), send.getAttributes().get(AttributeKey.longKey("telegram.message_id")));
        assertEquals(StatusCode.UNSET, send.getStatus().getStatusCode());

        // And the outcome's record on the delivered topic carries the delivery's span
        ConsumerRecord<Long, Delivery> outcome =
                TopicReader.readAll(TestKafka.bootstrapServers(), fx.topics.delivered(), EmitterFixture.TIMEOUT)
                        .stream()
                        .filter(r -> r.value().replyId().equals("r:4701:1"))
                        .findFirst()
                        .orElseThrow();
        assertEquals(
                deliver.getSpanId(),
                Span.fromContext(llm.extract(outcome.headers()))
                        .getSpanContext()
                        .getSpanId());

        // And no span holds the bot token (nor its secret part) or the text
        String secret = EmitterFixture.TOKEN.substring(EmitterFixture.TOKEN.indexOf(':') + 1);
        for (SpanData s : spans.getFinishedSpanItems()) {
            String all = s.getAttributes().toString() + s.getEvents() + s.getStatus() + s.getName();
            assertFalse(all.contains(secret), () -> s.getName() + " holds the token: " + all);
            assertFalse(all.contains("Hello there"), () -> s.getName() + " holds the text: " + all);
        }
    }

    @Test
    void aSendTelegramRejectsIsAnErrorSpanWithItsStatusAndThePartEndsFailed() throws Exception {
        // Given a chat the person never opened: Telegram answers 400 "chat not found"
        fx.emitter().tracer(tracing.forService("emitter")).start();

        // When a traced part for it arrives
        produceTraced(EmitterFixture.part(CHAT + 1, "r:4702:1", 0, true, "Hi"));

        // Then the send's span is an error with Telegram's status, and the delivery ends FAILED
        SpanData send = awaitSpans("telegram sendMessage", 1).get(0);
        assertEquals(StatusCode.ERROR, send.getStatus().getStatusCode());
        assertEquals("rejected", send.getAttributes().get(TraceAttributes.OUTCOME));
        assertEquals(400L, send.getAttributes().get(AttributeKey.longKey("http.response.status_code")));
        SpanData deliver = awaitSpans("deliver part", 1).get(0);
        assertEquals(deliver.getSpanId(), send.getParentSpanId());
        assertEquals("FAILED", deliver.getAttributes().get(TraceAttributes.OUTCOME));
        assertEquals(StatusCode.ERROR, deliver.getStatus().getStatusCode());
    }
}
